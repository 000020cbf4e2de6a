import type { Attributes, Authorizer, AuthzResult } from '../authz/authorizer.js';
import { isPromiseLike, type MaybePromise } from '../maybe-promise.js';

const FAILED: AuthzResult = Object.freeze({ decision: 'no-opinion', reason: '', error: 'authorizer failed' });

/**
 * One access decision, for a SubjectAccessReview, a caller of the review endpoints or a
 * proxied request. An authorizer that throws is a bug; it becomes an evaluation error and no
 * opinion (never an allow, a crash or a 5xx), as kube reports evaluation errors; so does one
 * whose promise rejects. A decision made from memory comes back as is, without a promise.
 */
export function reviewAccess(authorizer: Authorizer, attributes: Attributes): MaybePromise<AuthzResult> {
  let result: MaybePromise<AuthzResult>;
  try {
    result = authorizer.authorize(attributes);
  } catch {
    return FAILED;
  }
  return isPromiseLike(result) ? Promise.resolve(result).then(undefined, () => FAILED) : result;
}
