import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import { failure, type AuthnResult, type TokenAuthenticator } from './authenticator.js';

export interface CacheOptions {
  /** Longest life of a positive result; it never outlives the token's `exp` either. */
  readonly ttlMs: number;
  /** Life of a rejection; 0 turns the negative cache off. */
  readonly negativeTtlMs: number;
  /** Bound on positive entries; the negative cache is a tenth of it, so a flood of garbage cannot evict valid tokens (R15). */
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
  const secret = randomBytes(32);
  const perf = { now: () => options.clock.now() };
  // ttlResolution 0: lru-cache otherwise memoises "now" for a millisecond, which an injected clock must not see.
  const positive = new LRUCache<string, AuthnResult>({
    max: Math.max(1, options.max),
    perf,
    ttlResolution: 0,
  });
  const negative = new LRUCache<string, AuthnResult>({
    max: Math.max(1, Math.ceil(options.max / 10)),
    perf,
    ttlResolution: 0,
  });
  const inflight = new Map<string, Promise<AuthnResult>>();
  // Bumped by clear(): a lookup started before a key change must not store its answer after it.
  let epoch = 0;
  let hits = 0;
  let misses = 0;

  const keyOf = (token: string, audiences: readonly string[]): string => {
    // One update() call: each crosses into C++, and a key is made on every review.
    let input = `${token.length}:${token}`;
    for (const a of audiences) input += `|${a.length}:${a}`;
    return createHmac('sha256', secret).update(input).digest('base64');
  };

  const store = (key: string, result: AuthnResult): void => {
    if (result.outcome === 'authenticated') {
      let ttl = options.ttlMs;
      if (result.expiresAt !== undefined) ttl = Math.min(ttl, result.expiresAt * 1000 - options.clock.now());
      if (ttl > 0) positive.set(key, result, { ttl });
      return;
    }
    if (result.outcome === 'error' && result.error.transient) return;
    if (options.negativeTtlMs > 0) negative.set(key, result, { ttl: options.negativeTtlMs });
  };

  const lookup = async (key: string, token: string, audiences: readonly string[]): Promise<AuthnResult> => {
    const started = epoch;
    try {
      const result = await inner.authenticateToken(token, audiences);
      if (started === epoch) store(key, result);
      return result;
    } catch (err) {
      // An authenticator bug must not become a crash or an unhandled rejection.
      return failure(
        new TokenwardenError('ERR_INTERNAL', 'internal error while authenticating', { cause: err }),
      );
    } finally {
      if (started === epoch) inflight.delete(key);
    }
  };

  return {
    authenticateToken(token, audiences) {
      const key = keyOf(token, audiences);
      const hit = positive.get(key) ?? negative.get(key);
      if (hit) {
        hits++;
        return Promise.resolve(hit);
      }
      misses++;
      let pending = inflight.get(key);
      if (!pending) {
        pending = lookup(key, token, audiences);
        inflight.set(key, pending);
      }
      return pending;
    },
    clear() {
      epoch++;
      positive.clear();
      negative.clear();
      inflight.clear();
    },
    stats: () => ({ hits, misses, size: positive.size, negativeSize: negative.size }),
  };
}
