import type { Logger } from 'pino';
import type { TokenAuthenticator } from '../authn/authenticator.js';
import { cachedAuthenticator, type CachedTokenAuthenticator } from '../authn/cached.js';
import { withAuthenticatedGroup } from '../authn/group-adder.js';
import { ServiceAccountAuthenticator } from '../authn/serviceaccount/authenticator.js';
import { unionAuthenticator } from '../authn/union.js';
import type { Clock } from '../clock.js';
import { FileKeySource } from '../keys/file.js';
import type { KeySource } from '../keys/key-source.js';
import type { HealthCheck } from '../http/ops.js';
import type { ResolvedConfig } from './load.js';
import { buildIdentitySources, buildIssuerKeySources, keySourceCheck } from './build-sources.js';
import { createReloadableJwt, type ReloadableJwt } from './reloadable-jwt.js';
import type { ReloadStats } from '../observe/metrics.js';
import type { RequestAuthenticator } from '../authn/authenticator.js';
import { bearerRequestAuthenticator } from '../authn/bearer.js';
import { requestAuthenticatorChain } from '../authn/request-union.js';

export interface TokenChain {
  /** The full chain for reviews: cache → group adder → union of authenticators. */
  readonly authenticator: CachedTokenAuthenticator;
  /** The same chain without the cache, for one-shot checks (`verify`). */
  readonly uncached: TokenAuthenticator;
  /** Read on each use: the `--authentication-config` issuers change on reload. */
  readonly keySources: readonly KeySource[];
  /** Reloads of `--authentication-config`, for the metrics; absent without the flag. */
  readonly authenticationConfigReloads?: () => ReloadStats;
  /**
   * The whole request chain, as kube-apiserver's: request-header (front proxy), x509
   * client certificate, then the bearer token through the same cache as the reviews.
   */
  readonly requestAuthenticator: RequestAuthenticator;
  readonly readiness: () => HealthCheck[];
  /** Resolves once every remote key source has loaded (or the time is up); true when all have. */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export interface ChainOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Watch key files for changes (off for one-shot commands). */
  readonly watch: boolean;
  /** Extra key sources by issuer, for the dev issuer. */
  readonly issuerKeys?: ReadonlyMap<string, KeySource>;
}

/**
 * ResolvedConfig → the token chain (Run, after load.ts's Complete). Key files load
 * synchronously here, so a bad file fails the start with exit 2. The cache is emptied
 * whenever a key set changes or a reloaded `--authentication-config` is swapped in, so a
 * removed key or issuer stops working at once.
 */
export function buildTokenChain(config: ResolvedConfig, options: ChainOptions): TokenChain {
  const sources: KeySource[] = [];
  const issuers = new Map<string, KeySource>(options.issuerKeys ?? []);
  let fileKeys: FileKeySource | undefined;
  if (config.serviceAccountKeyFiles.length > 0) {
    fileKeys = new FileKeySource({
      paths: config.serviceAccountKeyFiles,
      watch: options.watch,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    sources.push(fileKeys);
  }
  for (const s of options.issuerKeys?.values() ?? []) if (!sources.includes(s)) sources.push(s);
  // Each issuer gets its own keys: key files for all (as kube), plus its JWKS/discovery sources.
  const perIssuer = buildIssuerKeySources(config, {
    clock: options.clock,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(fileKeys ? { fileKeys } : {}),
    existing: issuers,
  });
  for (const [iss, s] of perIssuer.issuers) issuers.set(iss, s);
  sources.push(...perIssuer.remote);

  const serviceAccounts = new ServiceAccountAuthenticator({
    issuers,
    ...(fileKeys ? { legacyKeys: fileKeys } : {}),
    legacy: config.legacyTokens,
    implicitAudiences: config.apiAudiences,
    clock: options.clock,
  });
  // kube's token union order: static token file, then service accounts (then JWT/OIDC).
  const identity = buildIdentitySources(config, {
    clock: options.clock,
    watch: options.watch,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // --authentication-config's jwt[] issuers come after the service accounts, as in kube.
  let jwt: ReloadableJwt | undefined;
  try {
    jwt =
      config.authenticationConfigFile === undefined
        ? undefined
        : createReloadableJwt(config.authenticationConfigFile, config, {
            clock: options.clock,
            watch: options.watch,
            ...(options.logger ? { logger: options.logger } : {}),
          });
  } catch (err) {
    identity.close();
    throw err;
  }
  const jwtSources = (): readonly KeySource[] => jwt?.remote() ?? [];
  const uncached = withAuthenticatedGroup(
    unionAuthenticator([
      ...(identity.staticTokens ? [identity.staticTokens] : []),
      serviceAccounts,
      ...(jwt ? [jwt.authenticator] : []),
    ]),
  );
  const authenticator = cachedAuthenticator(uncached, {
    ttlMs: config.cacheTtlMs,
    negativeTtlMs: config.negativeCacheTtlMs,
    max: config.cacheSize,
    clock: options.clock,
  });
  const unsubscribe = [...sources, ...(jwt ? [jwt] : [])].map((s) => s.onChange(() => authenticator.clear()));
  // kube's request chain: front-proxy headers, client certificate, then the bearer token through the cache.
  const requestAuthenticator = requestAuthenticatorChain([
    ...identity.requestAuthenticators,
    bearerRequestAuthenticator(authenticator, config.apiAudiences),
  ]);

  return {
    authenticator,
    uncached,
    requestAuthenticator,
    get keySources() {
      return [...sources, ...jwtSources()];
    },
    ...(jwt ? { authenticationConfigReloads: jwt.stats } : {}),
    readiness: () => [
      ...sources.map((s, i) => keySourceCheck(`service-account-keys-${i}`, s.health(), options.clock.now())),
      ...jwtSources().map((s, i) => keySourceCheck(`jwt-issuer-keys-${i}`, s.health(), options.clock.now())),
    ],
    whenReady: async (timeoutMs) => {
      const results = await Promise.all(
        [...perIssuer.remote, ...(jwt?.remote() ?? [])].map((r) => r.whenReady(timeoutMs)),
      );
      return results.every(Boolean);
    },
    close() {
      for (const u of unsubscribe) u();
      identity.close();
      for (const s of sources) s.close();
      jwt?.close();
    },
  };
}
