import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Authorizer } from '../authz/authorizer.js';
import { cachedAuthorizer } from '../authz/cached.js';
import { delegateNoOpinion } from '../authz/delegating.js';
import { createPrivilegedGroupsAuthorizer } from '../authz/privileged.js';
import type { CompiledPolicy } from '../authz/rbac/compile.js';
import { createFilePolicySource } from '../authz/rbac/file-source.js';
import type { PolicyHealth } from '../authz/rbac/policy-source.js';
import { RbacAuthorizer } from '../authz/rbac/rbac.js';
import { builtinAuthorizers, createAuthorizerUnion } from '../authz/union.js';
import type { PolicySource } from '../authz/rbac/policy-source.js';
import type { Clock } from '../clock.js';
import type { HealthCheck } from '../http/ops.js';
import type { WatchCacheHealth } from '../live/watch-cache.js';
import { watchesCheck } from './health.js';
import { loadLiveParts } from './live-parts.js';
import type { AuthorizationOptions } from './options.js';

export interface Authorization {
  /** kube-apiserver's chain: `system:masters` first, then RBAC when there is a policy. */
  readonly authorizer: Authorizer;
  /** The RBAC policy served, for `who-can` and the metrics; absent without one. */
  readonly policy?: {
    current(): CompiledPolicy;
    /** Absent for a policy given already loaded: it never reloads. */
    readonly health?: () => PolicyHealth;
    /** Calls `listener` after each reload attempt that read changed files; returns the unsubscribe. */
    readonly onReload?: (listener: () => void) => () => void;
  };
  /** Live mode's watches of the cluster's RBAC, beside the policy's own readiness line. */
  readonly readiness?: (nowMs: number) => HealthCheck[];
  readonly clusterWatches?: () => ReadonlyMap<string, WatchCacheHealth>;
  close(): void;
}

/** A policy source fed by watches of the cluster (live mode), with what its readiness needs. */
export interface WatchedSource {
  readonly source: PolicySource;
  readonly watches: {
    health(): ReadonlyMap<string, WatchCacheHealth>;
    readonly stalenessBoundMs: number;
  };
  /** `--delegate-authorization`: the cluster's SubjectAccessReview API, asked after the local policy. */
  readonly delegate?: Authorizer;
}

/** Authorization options with nothing left to read: what the synchronous composition takes. */
export type LoadedAuthorizationOptions =
  | Exclude<AuthorizationOptions, { readonly policyFiles: readonly string[] } | { readonly cluster: unknown }>
  | WatchedSource;

/**
 * Reads policy files into a watched PolicySource (the only part of composing that waits on
 * I/O, so the library's synchronous constructor can compose without it). Policy files are
 * always watched: only long-running commands name them.
 */
export async function loadAuthorizationOptions(
  options: AuthorizationOptions | undefined,
  deps: { readonly logger?: Logger; readonly clock: Clock },
): Promise<LoadedAuthorizationOptions | undefined> {
  if (options === undefined || !('policyFiles' in options || 'cluster' in options)) return options;
  const logger = deps.logger ?? pino({ enabled: false });
  const files = options.policyFiles
    ? await createFilePolicySource(options.policyFiles, { logger })
    : undefined;
  if (!('cluster' in options)) return { source: files! };
  // Live mode: the cluster's RBAC, with the files (if any) served beside it.
  const live = options.cluster;
  try {
    const {
      clusterAuthorizer,
      clusterReviews,
      DELEGATED_ALLOW_TTL_MS,
      DELEGATED_DECISIONS,
      DELEGATED_DENY_TTL_MS,
      loadClusterConfig,
      watchClusterPolicy,
    } = await loadLiveParts();
    const kc = loadClusterConfig(live.kubeconfigFile);
    const cluster = watchClusterPolicy(kc, {
      now: () => deps.clock.now(),
      ...(live.backoff ? { backoff: live.backoff } : {}),
      logger,
      ...(files ? { files } : {}),
    });
    void cluster.start();
    const delegate = live.delegateAuthorization
      ? cachedAuthorizer(clusterAuthorizer(clusterReviews(kc, live.delegationTimeoutMs), { logger }), {
          allowTtlMs: DELEGATED_ALLOW_TTL_MS,
          denyTtlMs: DELEGATED_DENY_TTL_MS,
          max: DELEGATED_DECISIONS,
          clock: deps.clock,
        })
      : undefined;
    return {
      source: cluster,
      watches: { health: () => cluster.watchHealth(), stalenessBoundMs: live.stalenessBoundMs },
      ...(delegate ? { delegate } : {}),
    };
  } catch (err) {
    files?.close();
    throw err;
  }
}

/** The one place the authorizer chain is built, for `serve`, `dev`, `can-i`, `who-can` and the library. */
export function buildAuthorization(options: LoadedAuthorizationOptions | undefined): Authorization {
  const privileged = createPrivilegedGroupsAuthorizer();
  if (options === undefined) {
    return { authorizer: createAuthorizerUnion(builtinAuthorizers(undefined, privileged)), close: () => {} };
  }
  if ('policy' in options) {
    const { policy } = options;
    return {
      authorizer: createAuthorizerUnion(builtinAuthorizers(new RbacAuthorizer(policy), privileged)),
      policy: { current: () => policy },
      close: () => {},
    };
  }
  const { source } = options;
  const watches = 'watches' in options ? options.watches : undefined;
  const delegate = 'delegate' in options ? options.delegate : undefined;
  const local = createAuthorizerUnion(builtinAuthorizers(source.authorizer, privileged));
  return {
    authorizer: delegate ? delegateNoOpinion(local, delegate) : local,
    policy: {
      current: () => source.current(),
      health: () => source.health(),
      onReload: (listener) => source.onReload(listener),
    },
    ...(watches
      ? {
          clusterWatches: () => watches.health(),
          readiness: (nowMs: number) => [
            watchesCheck('cluster-rbac', watches.health(), nowMs, watches.stalenessBoundMs),
          ],
        }
      : {}),
    close: () => source.close(),
  };
}
