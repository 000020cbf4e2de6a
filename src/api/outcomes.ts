import type { Attributes } from '../authz/authorizer.js';
import { goQuote } from '../go-quote.js';
import type { Denial } from '../proxy/gate.js';
import { statusOf, type Status } from './types.js';

/**
 * What an HTTP response carries, decided here and nowhere else: the status code, the body
 * (a review or a Kubernetes `Status`) and the headers some outcomes need. Review routes,
 * caller authorization, and the proxy and `/check` endpoints all answer through these.
 */
export interface HttpAnswer {
  readonly status: number;
  readonly body: object;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A review's answer: kube always says 200 for a review it could evaluate, allowed or not. */
export function ok(body: object): HttpAnswer {
  return { status: 200, body };
}

/** A `Status` as its own answer: its code is the HTTP status. */
export function failure(status: Status, headers?: Readonly<Record<string, string>>): HttpAnswer {
  return { status: status.code, body: status, ...(headers ? { headers } : {}) };
}

export function badRequest(message: string): HttpAnswer {
  return failure(statusOf(400, 'BadRequest', message));
}

export function unsupportedMediaType(): HttpAnswer {
  return failure(statusOf(415, 'UnsupportedMediaType', 'the request body must be application/json'));
}

/** The rest of the body is never read, so the connection cannot be reused. */
export function tooLarge(): HttpAnswer {
  return failure(statusOf(413, 'RequestEntityTooLarge', 'the request body is too large'), {
    Connection: 'close',
  });
}

export function methodNotAllowed(method: string, resource: string): HttpAnswer {
  return failure(statusOf(405, 'MethodNotAllowed', `${method} is not supported on ${resource}`));
}

export function notFound(): HttpAnswer {
  return failure(statusOf(404, 'NotFound', 'the server could not find the requested resource'));
}

/**
 * Never the error's message: an error thrown deep in a parser may quote its input. A fixed
 * text of our own may say which step failed.
 */
export function internalError(message = 'an internal error occurred'): HttpAnswer {
  return failure(statusOf(500, 'InternalError', message));
}

/** A user whose name, group or extra holds a byte no header line may carry (CR, LF, NUL). */
export function identityNotSendable(): HttpAnswer {
  return internalError('the identity cannot be sent in headers');
}

/** The proxy's upstream could not be reached or refused the connection. */
export function badGateway(): HttpAnswer {
  return failure(statusOf(502, 'ServiceUnavailable', 'the upstream is not reachable'));
}

/**
 * No credential, or one that did not authenticate. kube-apiserver's review endpoints send no
 * challenge; a bearer-protected resource (the proxy, `/check`) names its scheme as RFC 6750
 * §3 asks, with `error="invalid_token"` when a token was given and refused.
 */
export function unauthorized(challenge?: { readonly invalidToken: boolean }): HttpAnswer {
  return failure(
    statusOf(401, 'Unauthorized', 'Unauthorized'),
    challenge
      ? { 'WWW-Authenticate': challenge.invalidToken ? 'Bearer error="invalid_token"' : 'Bearer' }
      : undefined,
  );
}

const HTML = /[&<>]/g;
const HTML_ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** kube's forbiddenMessage: who cannot do what, names quoted as Go's %q quotes them. */
function forbiddenMessage(a: Attributes): string {
  const who = `User ${goQuote(a.user.username)} cannot ${a.verb}`;
  if (!a.resourceRequest) return `${who} path ${goQuote(a.path)}`;
  const resource = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const where = a.namespace === '' ? 'at the cluster scope' : `in the namespace ${goQuote(a.namespace)}`;
  return `${who} resource ${goQuote(resource)} in API group ${goQuote(a.apiGroup)} ${where}`;
}

/**
 * kube-apiserver's 403 (`responsewriters.Forbidden` and `apierrors.NewForbidden`): the
 * message, with `&`, `<` and `>` escaped so it never reads as HTML, then the authorizer's
 * reason, under `<resource>.<group> ["name"] is forbidden: `.
 */
export function forbidden(attributes: Attributes, reason: string): HttpAnswer {
  const message = forbiddenMessage(attributes).replace(HTML, (c) => HTML_ENTITY[c]!);
  const err = reason === '' ? message : `${message}: ${reason}`;
  const { apiGroup: group, resource, name } = attributes;
  const qualified = group === '' ? resource : `${resource}.${group}`;
  const text =
    qualified === ''
      ? `forbidden: ${err}`
      : name === ''
        ? `${qualified} is forbidden: ${err}`
        : `${qualified} ${goQuote(name)} is forbidden: ${err}`;
  return failure({
    ...statusOf(403, 'Forbidden', text),
    details: {
      ...(name === '' ? {} : { name }),
      ...(group === '' ? {} : { group }),
      ...(resource === '' ? {} : { kind: resource }),
    },
  });
}

/** A 403 whose whole text is given: the proxy's kube-rbac-proxy wording, the middleware's. */
export function forbiddenText(message: string): HttpAnswer {
  return failure(statusOf(403, 'Forbidden', message));
}

/**
 * A sidecar gate's refusal (the proxy, `/check`): 401 carries the RFC 6750 challenge, and
 * never says why a token failed, so a caller learns nothing about the key set from it.
 */
export function denied(denial: Denial): HttpAnswer {
  switch (denial.kind) {
    case 'bad-request':
      return badRequest(denial.message);
    case 'unauthenticated':
      return unauthorized({ invalidToken: denial.tokenGiven });
    case 'forbidden':
      return forbiddenText(denial.message);
    case 'error':
      return internalError(denial.message);
  }
}
