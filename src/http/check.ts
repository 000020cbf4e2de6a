import { headerValues } from '../authn/authenticator.js';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { GateRequest, GateResult } from '../proxy/gate.js';
import { badRequest, denied, identityNotSendable, internalError } from '../api/outcomes.js';
import { plainResponse, writePlain, type PlainResponse } from './gate-response.js';
import { identityHeaderLines } from './identity-headers.js';
import { gateRequestOf, withRequestId } from './gate-request.js';

/** Where the ext-authz endpoint listens; Envoy's `path_prefix` is set to this. */
export const CHECK_PATH = '/check';

/** Whether a request target is for `/check` (exactly, with a query, or with Envoy's appended path). */
export function isCheckTarget(target: string): boolean {
  return target === CHECK_PATH || target.startsWith(`${CHECK_PATH}/`) || target.startsWith(`${CHECK_PATH}?`);
}

/** The original request a `/check` call asks about, or why it cannot be told. */
export type OriginalRequest =
  | { readonly ok: true; readonly method: string; readonly target: string }
  | { readonly ok: false; readonly message: string };

const one = (headers: GateRequest['headers'], name: string): string | undefined | null => {
  const values = headerValues({ headers }, name);
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0]! : null;
};

/**
 * Reads the original method and URI from what each proxy sends:
 * - Envoy `ext_authz` (HTTP service, `path_prefix: /check`): the original method, and the
 *   original path and query after the prefix;
 * - nginx `auth_request`: `X-Original-URI` and `X-Original-Method` set by the config
 *   (nginx's subrequest itself is always a GET);
 * - Traefik `forwardAuth`: `X-Forwarded-Uri` and `X-Forwarded-Method`.
 * Exactly one shape must be present. A client can add headers of another shape (nginx and
 * Traefik pass client headers to the auth request), and choosing one by precedence would
 * let it pick the URI that is checked; so two shapes, a repeated header, or a URI without
 * its method is 400, never a guess.
 */
export function originalRequest(check: GateRequest): OriginalRequest {
  const shapes: { method: string | undefined | null; target: string }[] = [];
  const q = check.target.indexOf('?');
  const checkPath = q < 0 ? check.target : check.target.slice(0, q);
  if (checkPath.startsWith(`${CHECK_PATH}/`)) {
    shapes.push({ method: check.method, target: check.target.slice(CHECK_PATH.length) });
  }
  for (const [uriHeader, methodHeader] of [
    ['x-original-uri', 'x-original-method'],
    ['x-forwarded-uri', 'x-forwarded-method'],
  ] as const) {
    const uri = one(check.headers, uriHeader);
    if (uri === null) return { ok: false, message: `more than one ${uriHeader} header` };
    if (uri !== undefined) shapes.push({ method: one(check.headers, methodHeader), target: uri });
  }
  if (shapes.length === 0) {
    return {
      ok: false,
      message:
        'the original request is unknown: send X-Original-URI and X-Original-Method (nginx), X-Forwarded-Uri and X-Forwarded-Method (Traefik), or call /check/<path> (Envoy path_prefix)',
    };
  }
  if (shapes.length > 1) return { ok: false, message: 'the original request is given in more than one way' };
  const { method, target } = shapes[0]!;
  if (method === null || method === undefined || method === '')
    return { ok: false, message: 'the original method is missing or repeated' };
  return { ok: true, method: method.toUpperCase(), target };
}

/**
 * `/check` as ext-authz endpoint: 200 with the identity headers when the original request
 * would pass the sidecar's gate (the proxy in front copies them upstream), else the gate's
 * 400/401/403. Credentials are the check request's own (`Authorization`, or the client
 * certificate of the connection), as all three proxies forward them.
 */
export async function checkRequest(
  check: GateRequest,
  gate: (request: GateRequest) => Promise<GateResult>,
): Promise<PlainResponse> {
  const original = originalRequest(check);
  if (!original.ok) return plainResponse(badRequest(original.message));
  const result = await gate({ ...check, method: original.method, target: original.target });
  if (result.outcome === 'deny') return plainResponse(denied(result.denial));
  const lines = result.user ? identityHeaderLines(result.user) : [];
  if (lines === undefined) return plainResponse(identityNotSendable());
  return { status: 200, headers: lines, body: '' };
}

/** `/check` on a node listener (the proxy's). */
export function handleCheck(
  req: IncomingMessage,
  res: ServerResponse,
  gate: (request: GateRequest) => Promise<GateResult>,
): void {
  const request = gateRequestOf(req);
  checkRequest(request, gate).then(
    (response) => writePlain(res, withRequestId(response, request.requestId)),
    () => writePlain(res, withRequestId(plainResponse(internalError()), request.requestId)),
  );
}

/** A listener that answers `/check` and hands every other request to `next`. */
export function withCheckEndpoint(
  gate: (request: GateRequest) => Promise<GateResult>,
  next: RequestListener,
): RequestListener {
  return (req, res) => (isCheckTarget(req.url ?? '') ? handleCheck(req, res, gate) : next(req, res));
}
