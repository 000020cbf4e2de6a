import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { RequestAuthenticator } from '../../authn/authenticator.js';
import type { Authorizer } from '../../authz/authorizer.js';
import { forbidden, unauthorized } from '../../api/outcomes.js';
import type { ApiVersionName } from '../../api/types.js';
import { resourceAttributes } from '../../authz/attributes.js';
import { reviewAccess } from '../../review/access.js';
import { respond } from '../respond.js';
import { authnRequestFrom } from '../request-identity.js';

export interface ReviewResource {
  /** `authentication.k8s.io` or `authorization.k8s.io`. */
  readonly group: string;
  /** `tokenreviews` or `subjectaccessreviews`. */
  readonly resource: string;
  readonly version: ApiVersionName;
}

/**
 * `--authorize-callers`: a caller of a review endpoint must authenticate (client
 * certificate, front-proxy headers, or a bearer token tokenwarden itself validates) and
 * be allowed `create` on the review resource, as kube-apiserver requires of
 * `system:auth-delegator`; otherwise the endpoint is an open oracle for stolen tokens.
 * Failures are HTTP 401/403 with kube's `Status` texts, never a failed handshake.
 */
export function authorizeCallers(
  target: ReviewResource,
  deps: {
    readonly authenticator: RequestAuthenticator;
    readonly authorizer: Authorizer;
    readonly logger: Logger;
  },
): MiddlewareHandler {
  const qualified = `${target.resource}.${target.group}`;
  return async function authorizeCaller(c: Context, next) {
    const result = await deps.authenticator.authenticateRequest(authnRequestFrom(c));
    if (result.outcome !== 'authenticated') {
      deps.logger.info(
        { route: qualified, reason: result.outcome === 'error' ? result.error.code : 'no-credential' },
        'caller not authenticated',
      );
      return respond(c, unauthorized());
    }
    const { user } = result;
    const attributes = {
      ...resourceAttributes(user, {
        verb: 'create',
        namespace: '',
        apiGroup: target.group,
        apiVersion: target.version,
        resource: target.resource,
        subresource: '',
        name: '',
      }),
      path: c.req.path,
    };
    const decision = await reviewAccess(deps.authorizer, attributes);
    if (decision.decision !== 'allow') {
      deps.logger.info({ route: qualified, caller: user.username }, 'caller not allowed');
      return respond(c, forbidden(attributes, decision.reason));
    }
    await next();
  };
}
