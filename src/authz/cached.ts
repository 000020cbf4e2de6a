import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { Attributes, Authorizer, AuthzResult } from './authorizer.js';

export interface DecisionCacheOptions {
  /** Life of an allow; 0 keeps none. */
  readonly allowTtlMs: number;
  /** Life of a deny or no-opinion; 0 keeps none. */
  readonly denyTtlMs: number;
  readonly max: number;
  readonly clock: Clock;
}

export interface CachedAuthorizer extends Authorizer {
  /** Drops every decision; called when the policy behind the authorizer changes. */
  clear(): void;
}

/**
 * The cache key of a decision: every field of the attributes and of the user, each
 * length-prefixed, so no two distinct (user, attributes) pairs share an entry however
 * their strings are cut (`a:b` + `c` vs `a` + `b:c`). Groups keep their order and extra
 * keys are sorted: a policy may not depend on group order, but a key never assumes it.
 */
export function decisionKey(a: Attributes): string {
  let key = '';
  const add = (s: string): void => {
    key += `${s.length}:${s}`;
  };
  const { user } = a;
  add(user.username);
  add(user.uid ?? '');
  key += `g${user.groups.length}`;
  for (const g of user.groups) add(g);
  const extra = user.extra ?? {};
  const keys = Object.keys(extra).sort();
  key += `e${keys.length}`;
  for (const k of keys) {
    add(k);
    const values = extra[k] ?? [];
    key += `v${values.length}`;
    for (const v of values) add(v);
  }
  key += a.resourceRequest ? 'R' : 'N';
  for (const s of [a.verb, a.namespace, a.apiGroup, a.apiVersion, a.resource, a.subresource, a.name, a.path])
    add(s);
  return key;
}

/**
 * Remembers decisions for a short time, as kube's delegating authorizer does (separate
 * allow and deny TTLs, bounded). A result carrying an evaluation error is never kept: it
 * says something about the authorizer, not about the request.
 */
export function cachedAuthorizer(inner: Authorizer, options: DecisionCacheOptions): CachedAuthorizer {
  const perf = { now: () => options.clock.now() };
  const cache = new LRUCache<string, AuthzResult>({ max: Math.max(1, options.max), perf, ttlResolution: 0 });
  return {
    authorize(attributes) {
      const key = decisionKey(attributes);
      const hit = cache.get(key);
      if (hit) return hit;
      const keep = (result: AuthzResult): AuthzResult => {
        const ttl = result.decision === 'allow' ? options.allowTtlMs : options.denyTtlMs;
        if (result.error === undefined && ttl > 0) cache.set(key, result, { ttl });
        return result;
      };
      const result = inner.authorize(attributes);
      return result instanceof Promise ? result.then(keep) : keep(result);
    },
    clear: () => cache.clear(),
  } satisfies CachedAuthorizer;
}
