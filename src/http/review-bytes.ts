import { LRUCache } from 'lru-cache';
import type { AuthnResult } from '../authn/authenticator.js';
import { encodeTokenReview } from '../api/tokenreview.js';

const utf8 = new TextEncoder();

/**
 * The response bytes of an authenticated TokenReview, built once per cached result and
 * API version instead of on every hit: encoding and `JSON.stringify` were the largest
 * part of a cached answer left in the app (docs/benchmarks.md).
 *
 * Only a frozen result is kept: the token cache freezes the results it keeps and hands out
 * again, and hands out an unfrozen one on a miss, which never comes back. So the bytes of a
 * result are built on its first hit, not for every new token (most uncached answers are
 * never asked again); a result answered once costs one `JSON.stringify` and nothing kept.
 *
 * Keyed by the result object itself (results are never mutated): with audiences of its
 * own, a result's answer is a function of the result and the API version alone, so an
 * entry can only ever hold that result's answer, whichever token it came from. The token
 * cache hands out one object per (token, audiences) key. A result without audiences of
 * its own answers with the requested ones and is never kept. Bounded apart from the token cache, so that the memory per
 * cached token stays as measured; an entry outliving its token's cache entry only
 * keeps that result object alive until it is evicted here.
 */
export class ReviewBytes {
  private readonly bytes: LRUCache<AuthnResult, Map<string, Uint8Array<ArrayBuffer>>>;

  constructor(max = 4096) {
    this.bytes = new LRUCache({ max });
  }

  get(
    apiVersion: string,
    result: AuthnResult,
    requested: readonly string[],
  ): string | Uint8Array<ArrayBuffer> {
    if (result.outcome !== 'authenticated' || result.audiences.length === 0 || !Object.isFrozen(result)) {
      return JSON.stringify(encodeTokenReview(apiVersion, result, requested));
    }
    let perVersion = this.bytes.get(result);
    let body = perVersion?.get(apiVersion);
    if (body === undefined) {
      body = utf8.encode(JSON.stringify(encodeTokenReview(apiVersion, result, requested)));
      if (!perVersion) {
        perVersion = new Map();
        this.bytes.set(result, perVersion);
      }
      perVersion.set(apiVersion, body);
    }
    return body;
  }
}
