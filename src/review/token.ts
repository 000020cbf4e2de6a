import { targetAudiences } from '../authn/audiences.js';
import { NO_OPINION, type AuthnResult, type TokenAuthenticator } from '../authn/authenticator.js';
import { isPromiseLike, type MaybePromise } from '../maybe-promise.js';

export interface TokenReviewer {
  /** The whole chain: cache, group adder, union of authenticators. */
  readonly authenticator: TokenAuthenticator;
  /** Audiences checked when a review names none. */
  readonly apiAudiences: readonly string[];
}

export interface TokenReviewRequest {
  /** Undefined when the request carries no credential under kube's bearer parsing. */
  readonly token: string | undefined;
  /** The audiences the request names; empty for none. */
  readonly audiences: readonly string[];
}

export interface TokenReviewOutcome {
  readonly result: AuthnResult;
  /** The audiences that were checked: the request's, else the API audiences. */
  readonly audiences: readonly string[];
}

/**
 * One TokenReview, as kube-apiserver's TokenReview REST handler decides it: at once when the
 * authenticator answers at once (a cache hit), else a promise.
 */
export function reviewToken(
  reviewer: TokenReviewer,
  request: TokenReviewRequest,
): MaybePromise<TokenReviewOutcome> {
  const audiences = targetAudiences(request.audiences, reviewer.apiAudiences);
  if (request.token === undefined) return { result: NO_OPINION, audiences };
  const { authenticator } = reviewer;
  const result = authenticator.authenticateTokenNow
    ? authenticator.authenticateTokenNow(request.token, audiences)
    : authenticator.authenticateToken(request.token, audiences);
  return isPromiseLike(result) ? result.then((r) => ({ result: r, audiences })) : { result, audiences };
}
