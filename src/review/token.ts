import { targetAudiences } from '../authn/audiences.js';
import { NO_OPINION, type AuthnResult, type TokenAuthenticator } from '../authn/authenticator.js';

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

/** One TokenReview, as kube-apiserver's TokenReview REST handler decides it. */
export async function reviewToken(
  reviewer: TokenReviewer,
  request: TokenReviewRequest,
): Promise<TokenReviewOutcome> {
  const audiences = targetAudiences(request.audiences, reviewer.apiAudiences);
  const result =
    request.token === undefined
      ? NO_OPINION
      : await reviewer.authenticator.authenticateToken(request.token, audiences);
  return { result, audiences };
}
