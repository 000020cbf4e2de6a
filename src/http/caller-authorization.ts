import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { forbidden, unauthorized, type HttpAnswer } from '../api/outcomes.js';
import type { AuthnRequest, RequestAuthenticator } from '../authn/authenticator.js';
import type { Attributes, Authorizer } from '../authz/authorizer.js';
import { resourceAttributes } from '../authz/attributes.js';
import { CallerAccessLog } from '../observe/access-log.js';
import { reviewAccess } from '../review/access.js';
import type { UserInfo } from '../user.js';
import { callerName } from './request-identity.js';
import type { ReviewResource } from './review-routes.js';

export interface CallerDeps {
  readonly authenticator: RequestAuthenticator;
  readonly authorizer: Authorizer;
  readonly logger: Logger;
}

/** The request being authorized, for the refusal's log line. */
export interface CallerRequest {
  readonly requestId: string;
  /** What is asked for: `tokenreviews.authentication.k8s.io`, `/metrics`. */
  readonly target: string;
  readonly socket: Socket | undefined;
}

export type CallerCheck = { ok: true; user: UserInfo } | { ok: false; answer: HttpAnswer };

/** Authenticates a request's caller and asks the authorizer what `attributesOf` says. */
export type CallerGate = (
  request: AuthnRequest,
  about: CallerRequest,
  attributesOf: (user: UserInfo) => Attributes,
) => Promise<CallerCheck>;

/**
 * `--authorize-callers`: a caller must authenticate (client certificate, front-proxy
 * headers, or a bearer token tokenwarden itself validates) and be allowed what
 * `attributesOf` asks, as kube-apiserver's authentication and authorization filters do.
 * Failures are HTTP 401/403 with kube's `Status` texts, never a failed handshake.
 */
export function callerGate(deps: CallerDeps): CallerGate {
  const log = new CallerAccessLog(deps.logger);
  return async (request, about, attributesOf) => {
    const result = await deps.authenticator.authenticateRequest(request);
    if (result.outcome !== 'authenticated') {
      log.notAuthenticated(
        about.requestId,
        about.target,
        callerName(undefined, about.socket),
        result.outcome === 'error' ? result.error.code : 'no-credential',
      );
      return { ok: false, answer: unauthorized() };
    }
    const { user } = result;
    const attributes = attributesOf(user);
    const decision = await reviewAccess(deps.authorizer, attributes);
    if (decision.decision !== 'allow') {
      log.notAllowed(
        about.requestId,
        about.target,
        user.username,
        decision.error === undefined ? 'caller-forbidden' : 'evaluation-error',
      );
      return { ok: false, answer: forbidden(attributes, decision.reason) };
    }
    return { ok: true, user };
  };
}

/**
 * What a review endpoint asks of its caller: `create` on the review resource, as
 * kube-apiserver requires of `system:auth-delegator`; otherwise the endpoint is an open
 * oracle for stolen tokens.
 */
export function reviewCallerAttributes(
  target: ReviewResource,
  namespace: string,
  path: string,
): (user: UserInfo) => Attributes {
  return (user) => ({
    ...resourceAttributes(user, {
      verb: 'create',
      namespace: target.namespaced ? namespace : '',
      apiGroup: target.group,
      apiVersion: target.version,
      resource: target.resource,
      subresource: '',
      name: '',
    }),
    path,
  });
}
