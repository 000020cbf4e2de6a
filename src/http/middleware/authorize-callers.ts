import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { RequestAuthenticator } from '../../authn/authenticator.js';
import type { Authorizer } from '../../authz/authorizer.js';
import { statusOf } from '../../api/types.js';
import { authnRequestFrom } from '../request-identity.js';

export interface ReviewResource {
  /** `authentication.k8s.io` or `authorization.k8s.io`. */
  readonly group: string;
  /** `tokenreviews` or `subjectaccessreviews`. */
  readonly resource: string;
  readonly version: string;
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
      return c.json(statusOf(401, 'Unauthorized', 'Unauthorized'), 401);
    }
    const { user } = result;
    const decision = deps.authorizer.authorize({
      user,
      verb: 'create',
      resourceRequest: true,
      namespace: '',
      apiGroup: target.group,
      apiVersion: target.version,
      resource: target.resource,
      subresource: '',
      name: '',
      path: c.req.path,
    });
    if (decision.decision !== 'allow') {
      deps.logger.info({ route: qualified, caller: user.username }, 'caller not allowed');
      const reason = decision.reason ? `: ${decision.reason}` : '';
      const message = `${qualified} is forbidden: User ${JSON.stringify(user.username)} cannot create resource ${JSON.stringify(target.resource)} in API group ${JSON.stringify(target.group)} at the cluster scope${reason}`;
      return c.json(
        { ...statusOf(403, 'Forbidden', message), details: { group: target.group, kind: target.resource } },
        403,
      );
    }
    await next();
  };
}
