import type { Logger } from 'pino';
import { cachedAuthorizer } from '../authz/cached.js';
import { createAuthorizerUnion } from '../authz/union.js';
import type { Clock } from '../clock.js';
import { createAllowList, type AllowListOptions } from '../proxy/allow-list.js';
import { createAttributesGetter, createStaticAuthorizer } from '../proxy/authorization.js';
import { createGate, type GateRequest, type GateResult } from '../proxy/gate.js';
import { createPathMatcher } from '../proxy/paths.js';
import type { RbacProxyAuthorization } from '../proxy/rbac-proxy-config.js';
import type { Authentication } from './authentication.js';
import type { Authorization } from './authorization.js';

/** What the sidecar gate (the proxy and `/check`) decides beyond authentication. */
export interface SidecarOptions {
  /** Paths passed without authentication: exact, or a prefix ending in `*`. */
  readonly ignorePaths?: readonly string[];
  readonly allow?: AllowListOptions;
  /** kube-rbac-proxy's `authorization` section: resource attributes, rewrites, static rules. */
  readonly rbacProxy?: RbacProxyAuthorization;
  /**
   * Authorize every request (as a non-resource request for its path, or with `rbacProxy`'s
   * attributes). Off: authentication and the allow-lists decide alone.
   */
  readonly authorizeRequests: boolean;
  /** Life of a cached decision; emptied on every policy reload. */
  readonly decisionCacheTtlMs?: number;
  readonly decisionCacheSize?: number;
}

export interface SidecarGate {
  readonly gate: (request: GateRequest) => Promise<GateResult>;
  close(): void;
}

/**
 * The sidecar's gate over the composed parts: the request authenticator (whose API
 * audiences are the audiences a token must hold), the authorizer chain with
 * kube-rbac-proxy's static rules beside it, a decision cache, the allow-lists and ignore
 * paths. Bad options throw a TypeError naming the entry.
 */
export function buildSidecarGate(
  options: SidecarOptions,
  parts: { readonly authentication: Authentication; readonly authorization: Authorization },
  deps: { readonly logger: Logger; readonly clock: Clock },
): SidecarGate {
  const allow = options.allow ? createAllowList(options.allow) : undefined;
  const ignore = createPathMatcher(options.ignorePaths ?? []);
  const { rbacProxy } = options;
  const attributes = options.authorizeRequests ? createAttributesGetter(rbacProxy ?? {}) : undefined;
  const staticRules =
    rbacProxy && rbacProxy.static.length > 0 ? createStaticAuthorizer(rbacProxy.static) : undefined;
  // kube-rbac-proxy asks its static rules first, then the cluster (here: system:masters and RBAC).
  const union = staticRules
    ? createAuthorizerUnion([
        { name: 'static', authorizer: staticRules },
        { name: 'cluster', authorizer: parts.authorization.authorizer },
      ])
    : parts.authorization.authorizer;
  const ttl = options.decisionCacheTtlMs ?? 10_000;
  const authorizer = cachedAuthorizer(union, {
    allowTtlMs: ttl,
    denyTtlMs: ttl,
    max: options.decisionCacheSize ?? 10_000,
    clock: deps.clock,
  });
  const unsubscribe = parts.authorization.policy?.onReload?.(() => authorizer.clear());
  return {
    gate: createGate({
      authenticator: parts.authentication.requestAuthenticator,
      authorizer,
      ...(attributes ? { attributes } : {}),
      ...(allow ? { allow } : {}),
      ignore,
      logger: deps.logger,
    }),
    close: () => unsubscribe?.(),
  };
}
