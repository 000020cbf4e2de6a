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

  constructor(
    private readonly version: ApiVersionName,
    options: { readonly keep: boolean; readonly max?: number },
  ) {
    this.decoded = options.keep ? new LRUCache({ max: options.max ?? 1024 }) : undefined;
  }

  /** The review a body text decoded to before on this route, in the namespace of its path. */
  get(namespace: string, text: string): DecodedAccessReview | undefined {
    return this.decoded?.get(keyOf(namespace, text));
  }

  /** A review just decoded, kept for its text when the route keeps any and the text is short. */
  remember(namespace: string, text: string, input: SubjectAccessReviewInput): DecodedAccessReview {
    const entry: DecodedAccessReview = { input: Object.freeze(input) };
    if (this.decoded !== undefined && text.length <= MAX_KEPT_TEXT)
      this.decoded.set(keyOf(namespace, text), entry);
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

const keyOf = (namespace: string, text: string): string => `${namespace.length}:${namespace}${text}`;
