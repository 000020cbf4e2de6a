import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { UserInfo } from '../user.js';
import { TokenwardenError } from '../errors.js';
import {
  failure,
  promisedAnswer,
  type AuthnResult,
  type AuthnSuccess,
  type TokenAuthenticator,
} from './authenticator.js';
import { cacheKeyFunction, lengthPrefixed } from './cache-key.js';

export interface CacheOptions {
  /** Longest life of a positive result; it never outlives the token's `exp` either. */
  readonly ttlMs: number;
  /** Life of a rejection; 0 turns the negative cache off. */
  readonly negativeTtlMs: number;
  /** Bound on positive entries; the negative cache is a tenth of it, so a flood of garbage cannot evict valid tokens. */
  readonly max: number;
  readonly clock: Clock;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
  readonly negativeSize: number;
}

export interface CachedTokenAuthenticator extends TokenAuthenticator {
  /** Drops every entry, including lookups in flight; called when a key set changes. */
  clear(): void;
  /**
   * Drops the answers that relied on one cluster object (live mode's watch saw it change),
   * and keeps any lookup in flight from storing its answer.
   */
  evictDependents(objectKey: string): void;
  stats(): CacheStats;
}

/**
 * Kube's cached token authenticator, bounded: results keyed by HMAC-SHA-256 under a
 * per-process random secret over the length-prefixed token and each requested
 * audience, so nothing in memory lets anyone precompute a token's key and no two
 * (token, audiences) pairs share one. Concurrent identical lookups share one
 * verification. Transient errors (a key source down) are never kept.
 */
export function cachedAuthenticator(
  inner: TokenAuthenticator,
  options: CacheOptions,
): CachedTokenAuthenticator {
  const perf = { now: () => options.clock.now() };
  // ttlResolution 0: lru-cache otherwise memoises "now" for a millisecond, which an injected clock must not see.
  const positive = new LRUCache<string, AuthnResult>({
    max: Math.max(1, options.max),
    perf,
    ttlResolution: 0,
    dispose: (_value, key) => forget(key),
  });
  const negative = new LRUCache<string, AuthnResult>({
    max: Math.max(1, Math.ceil(options.max / 10)),
    perf,
    ttlResolution: 0,
  });
  const inflight = new Map<string, Promise<AuthnResult>>();
  // Object key → cache keys of the positive answers that relied on it; entries leave with their answer.
  const dependents = new Map<string, Set<string>>();
  const reliedOn = new Map<string, readonly string[]>();
  const forget = (key: string): void => {
    const deps = reliedOn.get(key);
    if (deps === undefined) return;
    for (const dep of deps) {
      const keys = dependents.get(dep);
      keys?.delete(key);
      if (keys?.size === 0) dependents.delete(dep);
    }
    reliedOn.delete(key);
  };
  // Bumped by clear(): a lookup started before a key change must not store its answer after it.
  let epoch = 0;
  let hits = 0;
  let misses = 0;

  const keyOf = cacheKeyFunction();

  // Cached successes share their group and audience lists (one frozen copy per distinct
  // list): with the compact result below, 1,267 → 739 bytes per entry at 100,000 entries (815 with
  // the username kept as concatenated; docs/benchmarks.md). A frozen list is already shared by whoever froze it (the
  // service-account groups per namespace). Strings are kept as the authenticator built them:
  // a copy of each here on every insert cost more than the service-account username's few
  // concatenated parts cost in memory; an authenticator whose strings may be slices of a
  // larger one (OIDC's expressions) hands out flat copies.
  const lists = new Map<string, readonly string[]>();
  const shared = (list: readonly string[]): readonly string[] => {
    if (Object.isFrozen(list)) return list;
    const k = lengthPrefixed(list);
    let v = lists.get(k);
    if (!v) {
      if (lists.size >= 10_000) lists.clear();
      v = Object.freeze([...list]);
      lists.set(k, v);
    }
    return v;
  };
  // Frozen: a kept result is handed out again, and the response bytes of a frozen result are
  // kept for its next hits (src/http/review-bytes.ts).
  const compact = (r: AuthnSuccess): AuthnSuccess => {
    const u = r.user;
    const groups = shared(u.groups);
    const user: UserInfo =
      groups === u.groups
        ? u
        : {
            username: u.username,
            ...(u.uid !== undefined ? { uid: u.uid } : {}),
            groups,
            ...(u.extra ? { extra: u.extra } : {}),
          };
    return Object.freeze(
      r.expiresAt !== undefined
        ? { outcome: 'authenticated', user, audiences: shared(r.audiences), expiresAt: r.expiresAt }
        : { outcome: 'authenticated', user, audiences: shared(r.audiences) },
    );
  };

  const store = (key: string, result: AuthnResult): void => {
    if (result.outcome === 'authenticated') {
      let ttl = Math.min(options.ttlMs, result.ttlMs ?? Infinity);
      if (result.expiresAt !== undefined) ttl = Math.min(ttl, result.expiresAt * 1000 - options.clock.now());
      if (ttl <= 0) return;
      positive.set(key, compact(result), { ttl });
      if (result.dependsOn && result.dependsOn.length > 0) {
        reliedOn.set(key, result.dependsOn);
        for (const dep of result.dependsOn) {
          let keys = dependents.get(dep);
          if (!keys) dependents.set(dep, (keys = new Set()));
          keys.add(key);
        }
      }
      return;
    }
    if (result.outcome === 'error' && result.error.transient) return;
    const ttl = Math.min(options.negativeTtlMs, result.ttlMs ?? Infinity);
    if (ttl > 0) negative.set(key, result, { ttl });
  };

  // An authenticator bug must not become a crash or an unhandled rejection.
  const internalError = (err: unknown): AuthnResult =>
    failure(new TokenwardenError('ERR_INTERNAL', 'internal error while authenticating', { cause: err }));

  const settle = async (
    key: string,
    pending: Promise<AuthnResult>,
    started: number,
  ): Promise<AuthnResult> => {
    try {
      const result = await pending;
      if (started === epoch) store(key, result);
      return result;
    } catch (err) {
      return internalError(err);
    } finally {
      if (started === epoch) inflight.delete(key);
    }
  };

  /**
   * A miss asks the inner authenticator at once when it can answer at once (a token whose keys
   * are at hand): that answer is stored with nothing in flight, since nothing ran in between.
   * Only an answer that waits is shared in flight by concurrent identical lookups.
   */
  const lookup = (
    key: string,
    token: string,
    audiences: readonly string[],
  ): AuthnResult | Promise<AuthnResult> => {
    const started = epoch;
    let answer: AuthnResult | Promise<AuthnResult>;
    try {
      answer = inner.authenticateTokenNow
        ? inner.authenticateTokenNow(token, audiences)
        : inner.authenticateToken(token, audiences);
    } catch (err) {
      return internalError(err);
    }
    if (!(answer instanceof Promise)) {
      store(key, answer);
      return answer;
    }
    const pending = settle(key, answer, started);
    inflight.set(key, pending);
    return pending;
  };

  const authenticateTokenNow = (
    token: string,
    audiences: readonly string[],
  ): AuthnResult | Promise<AuthnResult> => {
    const key = keyOf(token, audiences);
    const hit = positive.get(key) ?? negative.get(key);
    if (hit) {
      hits++;
      return hit;
    }
    misses++;
    return inflight.get(key) ?? lookup(key, token, audiences);
  };

  return {
    authenticateTokenNow,
    authenticateToken: promisedAnswer(authenticateTokenNow),
    clear() {
      epoch++;
      positive.clear();
      negative.clear();
      inflight.clear();
    },
    evictDependents(objectKey) {
      // A lookup in flight may have read the object before this change: it must not store.
      epoch++;
      inflight.clear();
      for (const key of [...(dependents.get(objectKey) ?? [])]) positive.delete(key);
      negative.clear();
    },
    stats: () => ({ hits, misses, size: positive.size, negativeSize: negative.size }),
  };
}
