import { LRUCache } from 'lru-cache';
import type { AuthnResult } from '../authn/authenticator.js';
import { encodeTokenReviewText } from '../api/tokenreview.js';

/**
 * A review's answer, ready to write: its JSON text, that text's UTF-8 length as the
 * `Content-Length` value, and the spelling of its `Content-Type` line (a TokenReview's
 * and an access review's answers were written by the hono app with different ones, and
 * keep them). Text, not bytes: node's `end(string)` joins the header and the body into one
 * string and one socket write, where a byte body is written as a second chunk; the byte
 * body cost about 8 µs more per answer over HTTPS (docs/benchmarks.md).
 */
export interface AnswerText {
  readonly status: number;
  readonly text: string;
  readonly contentLength: string;
  readonly typeName: 'content-type' | 'Content-Type';
}

/** An answer of `text` (200 unless told), frozen: it may be written again for later reviews. */
export function answerText(text: string, typeName: AnswerText['typeName'], status = 200): AnswerText {
  return Object.freeze({ status, text, contentLength: String(Buffer.byteLength(text)), typeName });
}

function reviewText(apiVersion: string, result: AuthnResult, requested: readonly string[]): AnswerText {
  return answerText(encodeTokenReviewText(apiVersion, result, requested), 'content-type');
}

/**
 * The answer of an authenticated TokenReview, built once per cached result and API version
 * instead of on every hit: encoding and `JSON.stringify` were the largest part of a cached
 * answer left in the app (docs/benchmarks.md).
 *
 * Only a frozen result is kept: the token cache freezes the results it keeps and hands out
 * again, and hands out an unfrozen one on a miss, which never comes back. So the answer of a
 * result is built on its first hit, not for every new token (most uncached answers are
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
  private readonly answers: LRUCache<AuthnResult, Map<string, AnswerText>>;

  constructor(max = 4096) {
    this.answers = new LRUCache({ max });
  }

  get(apiVersion: string, result: AuthnResult, requested: readonly string[]): AnswerText {
    if (result.outcome !== 'authenticated' || result.audiences.length === 0 || !Object.isFrozen(result)) {
      return reviewText(apiVersion, result, requested);
    }
    let perVersion = this.answers.get(result);
    let answer = perVersion?.get(apiVersion);
    if (answer === undefined) {
      answer = reviewText(apiVersion, result, requested);
      if (!perVersion) {
        perVersion = new Map();
        this.answers.set(result, perVersion);
      }
      perVersion.set(apiVersion, answer);
    }
    return answer;
  }
}
