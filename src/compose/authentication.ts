import type { Logger } from 'pino';
import type { RequestAuthenticator, TokenAuthenticator } from '../authn/authenticator.js';
import { bearerRequestAuthenticator } from '../authn/bearer.js';
import { cachedAuthenticator, type CachedTokenAuthenticator } from '../authn/cached.js';
import { withAuthenticatedGroup } from '../authn/group-adder.js';
import type { ReloadableJwt } from '../authn/oidc/reloadable.js';
import { requestAuthenticatorChain } from '../authn/request-union.js';
import { ServiceAccountAuthenticator } from '../authn/serviceaccount/authenticator.js';
import { unionAuthenticator } from '../authn/union.js';
import type { Clock } from '../clock.js';
import type { HealthCheck } from '../http/ops.js';
import type { KeySource, KeySourceHealth } from '../keys/key-source.js';
import type { ReloadStats } from '../observe/metrics.js';
import type { ClusterObjectCaches } from '../live/cluster-objects.js';
import type { WatchCacheHealth } from '../live/watch-cache.js';
import type { ClusterKeySource } from '../live/cluster-keys.js';
import { delegateUnclaimed } from '../authn/delegating.js';
import { clusterObjectsCheck, keySourceCheck } from './health.js';
import { buildIdentitySources } from './identity.js';
import { buildServiceAccountKeys } from './key-sources.js';
import { liveParts } from './live-parts.js';
import { oidcParts } from './oidc-parts.js';
import type { AuthenticationOptions } from './options.js';

export interface Authentication {
  /** The full chain for reviews: cache → group adder → union of authenticators. */
  readonly authenticator: CachedTokenAuthenticator;
  /** The same chain without the cache, for one-shot checks (`verify`). */
  readonly uncached: TokenAuthenticator;
  /** Audiences checked when a review names none. */
  readonly apiAudiences: readonly string[];
  /** Read on each use: the `--authentication-config` issuers change on reload. */
  readonly keySources: readonly KeySource[];
  /**
   * Each key source's health named by kind and number as in `/readyz`
   * (`service-account-keys-0`, `jwt-issuer-keys-0`): /metrics is open to anyone who can
   * reach the port, so its labels never carry a key file path or an issuer's host.
   */
  keySourceHealth(): KeySourceHealth[];
  /** Reloads of `--authentication-config`, for the metrics; absent without it. */
  readonly authenticationConfigReloads?: () => ReloadStats;
  /**
   * The whole request chain, as kube-apiserver's: request-header (front proxy), x509
   * client certificate, then the bearer token through the same cache as the reviews.
   */
  readonly requestAuthenticator: RequestAuthenticator;
  readonly readiness: () => HealthCheck[];
  /** Live mode's watches of service accounts, secrets, pods and nodes; absent offline. */
  readonly clusterWatches?: () => ReadonlyMap<string, WatchCacheHealth>;
  /** Resolves once every remote key source has loaded (or the time is up); true when all have. */
  whenReady(timeoutMs: number): Promise<boolean>;
  /**
   * Waits for one load attempt of every remote key source (the one in flight, else a new
   * one), each bounded by its fetch deadline; true when all hold keys. For one-shot
   * commands, which must not wait out a retry backoff.
   */
  loadOnce(): Promise<boolean>;
  close(): void;
}

/**
 * The token and request authenticators, in kube's union order: static tokens, service
 * accounts, then the `jwt[]` issuers. Files load synchronously here, so a bad one fails
 * the start. The cache is emptied whenever a key set changes, a reloaded
 * AuthenticationConfiguration is swapped in or an identity file (`--token-auth-file`, the
 * client CA files) is reloaded, so a removed key, issuer or static token stops working at once.
 */
export function buildAuthentication(
  options: AuthenticationOptions,
  deps: { readonly clock: Clock; readonly logger?: Logger; readonly watch: boolean },
): Authentication {
  const sa = options.serviceAccounts;
  const kc = options.live ? liveParts().loadClusterConfig(options.live.kubeconfigFile) : undefined;
  const keys = buildServiceAccountKeys(sa, { ...deps, ...(kc ? { cluster: kc } : {}) });
  const apiAudiences = implicitAudiences(options.apiAudiences, keys.cluster);
  // Watch events evict the cached answers that relied on the changed object; the cache is made below.
  let evict: (key: string) => void = () => {};
  const cluster: ClusterObjectCaches | undefined =
    kc && options.live
      ? liveParts().watchClusterObjects(kc, {
          now: () => deps.clock.now(),
          ...(options.live.backoff ? { backoff: options.live.backoff } : {}),
          onChange: (key) => evict(key),
        })
      : undefined;
  void cluster?.start();
  const serviceAccounts = new ServiceAccountAuthenticator({
    issuers: keys.issuers,
    ...(keys.legacyKeys ? { legacyKeys: keys.legacyKeys } : {}),
    legacy: sa.legacyTokens ?? 'reject',
    implicitAudiences: apiAudiences,
    clock: deps.clock,
    ...(cluster ? { objects: cluster } : {}),
  });
  const identity = buildIdentitySources({ ...options, apiAudiences }, deps);
  let jwt: ReloadableJwt | undefined;
  try {
    jwt =
      options.authenticationConfigFile === undefined
        ? undefined
        : oidcParts().loadAuthenticationConfig(options.authenticationConfigFile, {
            ...deps,
            serviceAccountIssuers: sa.issuers,
            apiAudiences,
            allowLoopback: sa.keys.allowLoopback ?? false,
          });
  } catch (err) {
    identity.close();
    cluster?.close();
    throw err;
  }
  const { sources } = keys;
  const jwtSources = (): readonly KeySource[] => jwt?.remote() ?? [];
  const local = unionAuthenticator([
    ...(identity.staticTokens ? [identity.staticTokens] : []),
    serviceAccounts,
    ...(jwt ? [jwt.authenticator] : []),
  ]);
  const uncached = withAuthenticatedGroup(
    kc && options.live?.delegateUnknownTokens
      ? delegateUnclaimed(
          local,
          liveParts().clusterTokenAuthenticator(
            liveParts().clusterReviews(kc, options.live.delegationTimeoutMs),
            {
              implicitAudiences: apiAudiences,
              ...(deps.logger ? { logger: deps.logger } : {}),
            },
          ),
        )
      : local,
  );
  const authenticator = cachedAuthenticator(uncached, {
    ttlMs: options.cache.ttlMs,
    negativeTtlMs: options.cache.negativeTtlMs,
    max: options.cache.max,
    clock: deps.clock,
  });
  evict = (key) => authenticator.evictDependents(key);
  // Any change of what vouches for an identity (keys, issuers, the token file) drops what it vouched for.
  const unsubscribe = [...sources, ...(jwt ? [jwt] : []), identity].map((s) =>
    s.onChange(() => authenticator.clear()),
  );
  if (keys.cluster) unsubscribe.push(keys.cluster.onIssuerChange(() => authenticator.clear()));
  const keySourceHealth = (): KeySourceHealth[] => [
    ...sources.map((s, i) => ({ ...s.health(), name: `service-account-keys-${i}` })),
    ...jwtSources().map((s, i) => ({ ...s.health(), name: `jwt-issuer-keys-${i}` })),
  ];
  const requestAuthenticator = requestAuthenticatorChain([
    ...identity.requestAuthenticators,
    bearerRequestAuthenticator(authenticator, apiAudiences),
  ]);

  return {
    authenticator,
    uncached,
    apiAudiences,
    requestAuthenticator,
    get keySources() {
      return [...sources, ...jwtSources()];
    },
    ...(jwt ? { authenticationConfigReloads: jwt.stats } : {}),
    keySourceHealth,
    ...(cluster ? { clusterWatches: () => cluster.health() } : {}),
    readiness: () => [
      ...keySourceHealth().map((h) => keySourceCheck(h.name, h, deps.clock.now())),
      ...(cluster && options.live
        ? [clusterObjectsCheck(cluster.health(), deps.clock.now(), options.live.stalenessBoundMs)]
        : []),
    ],
    whenReady: async (timeoutMs) => {
      const results = await Promise.all([
        ...[...keys.remote, ...(jwt?.remote() ?? [])].map((r) => r.whenReady(timeoutMs)),
        ...(cluster ? [whenListed(cluster, timeoutMs)] : []),
      ]);
      return results.every(Boolean);
    },
    loadOnce: async () => {
      const remote = [...keys.remote, ...(jwt?.remote() ?? [])];
      await Promise.all(remote.map((r) => r.refresh()));
      return remote.every((r) => r.snapshot() !== undefined);
    },
    close() {
      for (const u of unsubscribe) u();
      identity.close();
      for (const s of sources) s.close();
      jwt?.close();
      cluster?.close();
    },
  };
}

/**
 * kube's `--api-audiences` default is every service-account issuer; when no issuer and no
 * audience was configured and the issuer is the apiserver's, found at run time, the
 * implicit audiences are that issuer once found. The array is the one every reader holds
 * (reviews, the request chain, audience-agnostic authenticators), so it is filled in place.
 */
function implicitAudiences(
  configured: readonly string[],
  cluster: ClusterKeySource | undefined,
): readonly string[] {
  if (!cluster || configured.length > 0) return configured;
  const audiences: string[] = [];
  const follow = (): void => {
    const issuer = cluster.issuer();
    if (issuer !== undefined && audiences[0] !== issuer) audiences.splice(0, audiences.length, issuer);
  };
  // Registered before the cache's own listener, so answers after the clear see the new audiences.
  cluster.onChange(follow);
  cluster.onIssuerChange(follow);
  return audiences;
}

async function whenListed(cluster: ClusterObjectCaches, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([cluster.listed, timeout]);
  clearTimeout(timer);
  return cluster.synced();
}
