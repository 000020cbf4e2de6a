import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { RequestAuthenticator } from '../../authn/authenticator.js';
import type { Attributes, Authorizer } from '../../authz/authorizer.js';
import { forbidden, unauthorized } from '../../api/outcomes.js';
import type { ApiVersionName } from '../../api/types.js';
import { nonResourceAttributes, resourceAttributes } from '../../authz/attributes.js';
import { CallerAccessLog } from '../../observe/access-log.js';
import { reviewAccess } from '../../review/access.js';
import type { UserInfo } from '../../user.js';
import { respond } from '../respond.js';
import { authnRequestFrom } from '../request-identity.js';
import { callerOf } from './request-identity.js';

export interface ReviewResource {
  /** `authentication.k8s.io` or `authorization.k8s.io`. */
  readonly group: string;
  /** `tokenreviews`, `subjectaccessreviews`, … */
  readonly resource: string;
  readonly version: ApiVersionName;
  /** Served under `namespaces/:namespace/` (a LocalSubjectAccessReview): `create` is asked in that namespace. */
  readonly namespaced?: boolean;
}

export interface CallerDeps {
  readonly authenticator: RequestAuthenticator;
  readonly authorizer: Authorizer;
  readonly logger: Logger;
}

/**
 * `--authorize-callers`: a caller must authenticate (client certificate, front-proxy
 * headers, or a bearer token tokenwarden itself validates) and be allowed what
 * `attributesOf` asks, as kube-apiserver's authentication and authorization filters do.
 * Failures are HTTP 401/403 with kube's `Status` texts, never a failed handshake. The
 * caller's name is kept on the context for the access log.
 */
function authorizeCaller(
  target: string,
  attributesOf: (user: UserInfo, c: Context) => Attributes,
  deps: CallerDeps,
): MiddlewareHandler {
  const log = new CallerAccessLog(deps.logger);
  return async function authorizeCaller(c: Context, next) {
    const result = await deps.authenticator.authenticateRequest(authnRequestFrom(c));
    if (result.outcome !== 'authenticated') {
      log.notAuthenticated(
        c.get('requestId'),
        target,
        callerOf(c),
        result.outcome === 'error' ? result.error.code : 'no-credential',
      );
      return respond(c, unauthorized());
    }
    const { user } = result;
    c.set('callerUser', user);
    const attributes = attributesOf(user, c);
    const decision = await reviewAccess(deps.authorizer, attributes);
    if (decision.decision !== 'allow') {
      log.notAllowed(
        c.get('requestId'),
        target,
        user.username,
        decision.error === undefined ? 'caller-forbidden' : 'evaluation-error',
      );
      return respond(c, forbidden(attributes, decision.reason));
    }
    await next();
  };
}

/**
 * A review endpoint: the caller needs `create` on the review resource, as kube-apiserver
 * requires of `system:auth-delegator`; otherwise the endpoint is an open oracle for stolen
 * tokens.
 */
export function authorizeCallers(target: ReviewResource, deps: CallerDeps): MiddlewareHandler {
  return authorizeCaller(
    `${target.resource}.${target.group}`,
    (user, c) => ({
      ...resourceAttributes(user, {
        verb: 'create',
        namespace: target.namespaced ? (c.req.param('namespace') ?? '') : '',
        apiGroup: target.group,
        apiVersion: target.version,
        resource: target.resource,
        subresource: '',
        name: '',
      }),
      path: c.req.path,
    }),
    deps,
  );
}

/**
 * A non-resource URL such as `/metrics`: the caller needs `verb` on the path, as kube's
 * components authorize their own `/metrics` (a ClusterRole with `nonResourceURLs: ["/metrics"]`
 * and `verbs: ["get"]`).
 */
export function authorizeNonResourceCallers(verb: string, path: string, deps: CallerDeps): MiddlewareHandler {
  return authorizeCaller(path, (user) => nonResourceAttributes(user, verb, path), deps);
}
