import { LRUCache } from 'lru-cache';
import { encodeSubjectAccessReview, type SubjectAccessReviewInput } from '../api/subjectaccessreview.js';
import type { ApiVersionName } from '../api/types.js';
import type { AuthzResult } from '../authz/authorizer.js';
import { answerText, type AnswerText } from './review-bytes.js';

/** A decoded review, and the last answer written for it with the decision that answer says. */
export interface DecodedAccessReview {
  readonly input: SubjectAccessReviewInput;
  last?: { readonly result: AuthzResult; readonly answer: AnswerText };
}

/** How many recent texts `seen` remembers (a power of two). */
const SEEN_SLOTS = 1024;

const FNV_OFFSET = 0x811c9dc5 | 0;

/**
 * FNV-1a over a string's UTF-16 code units, from `h`. Only ever a hint that a text came
 * before: two texts with one fingerprint make the second one looked up and kept, keyed by
 * its own text as always.
 */
function fingerprint(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** Longest body text kept: a review with a user's groups and extra fits many times over. */
const MAX_KEPT_TEXT = 4096;

const sameDecision = (a: AuthzResult, b: AuthzResult): boolean =>
  a === b || (a.decision === b.decision && a.reason === b.reason && a.error === b.error);

/**
 * The access reviews of one route (kind and API version), decoded once per body text,
 * and their answers as text. A review's decoded form is a function of its body text, its
 * kind and version, and for a LocalSubjectAccessReview the namespace in its path, so the
 * text with that namespace length-prefixed keys it unambiguously; a SelfSubjectAccessReview
 * asks about its caller, so its route keeps nothing (`keep: false`). The decision is never
 * kept: the authorizer is asked on every review (its policy can change between two), and the
 * answer text of the last decision is written again only when the new one says the same.
 *
 * Parsing, decoding and `JSON.stringify` of the answer were most of what a
 * SubjectAccessReview cost beyond a cached TokenReview (docs/benchmarks.md). Bounded in
 * entries and in the text of each, since clients choose the text.
 */
export class AccessReviewAnswers {
  private readonly decoded: LRUCache<string, DecodedAccessReview> | undefined;
  /** The fingerprints of the texts last decoded, one per slot (see `keyOf`). */
  private readonly seen = new Int32Array(SEEN_SLOTS);

  constructor(
    private readonly version: ApiVersionName,
    options: { readonly keep: boolean; readonly max?: number },
  ) {
    this.decoded = options.keep ? new LRUCache({ max: options.max ?? 64 }) : undefined;
  }

  /**
   * The key of a body text on this route, in the namespace of its path, when the same text
   * came recently: only a text asked again is looked up and kept. Else undefined, and the
   * text's fingerprint is recorded. Kept on first sight, every new text was hashed, set into
   * the cache and evicted, and entries outlived scavenges: with every body new (clients such
   * as kube-apiserver keep their own decisions) a review cost about 5 µs more than without a
   * cache (docs/benchmarks.md). A fingerprint in a typed array holds no object. The key is
   * built once per review: a new string is hashed whole on each lookup.
   */
  keyOf(namespace: string, text: string): string | undefined {
    if (this.decoded === undefined || text.length > MAX_KEPT_TEXT) return undefined;
    const print = fingerprint(text, fingerprint(namespace, FNV_OFFSET));
    const slot = print & (SEEN_SLOTS - 1);
    if (this.seen[slot] !== print) {
      this.seen[slot] = print;
      return undefined;
    }
    return `${namespace.length}:${namespace}${text}`;
  }

  /** The review the body text of `key` decoded to before. */
  get(key: string | undefined): DecodedAccessReview | undefined {
    return key === undefined ? undefined : this.decoded?.get(key);
  }

  /** A review just decoded, kept under `key` when there is one. */
  remember(key: string | undefined, input: SubjectAccessReviewInput): DecodedAccessReview {
    const entry: DecodedAccessReview = { input: Object.freeze(input) };
    if (key !== undefined) this.decoded?.set(key, entry);
    return entry;
  }

  /** The answer to `entry` deciding `result`: the last one written when it said the same. */
  answer(entry: DecodedAccessReview, result: AuthzResult): AnswerText {
    const { last } = entry;
    if (last !== undefined && sameDecision(last.result, result)) return last.answer;
    const answer = answerText(
      JSON.stringify(encodeSubjectAccessReview(entry.input, result, this.version)),
      'Content-Type',
    );
    entry.last = { result, answer };
    return answer;
  }
}
