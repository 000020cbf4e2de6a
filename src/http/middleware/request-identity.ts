import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserInfo } from '../../user.js';
import { REQUEST_ID_HEADER, requestIdOf } from '../request-id.js';
import { callerName } from '../request-identity.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request id: the client's valid `X-Request-Id`, or one made here; echoed in the response. */
    requestId: string;
    /** The authenticated caller (`--authorize-callers`, or a SelfSubjectAccessReview's). */
    callerUser: UserInfo;
  }
}

interface NodeBindings {
  readonly incoming?: IncomingMessage;
  readonly outgoing?: ServerResponse;
}

/**
 * Sets the request id on the context and echoes it on every response, whoever answers
 * (a review, a 401/403, a 404). On Node the header goes straight onto the ServerResponse,
 * which merges it into the headers the app writes: no Headers object per request.
 */
export function requestIdentity(c: Context): string {
  const env = c.env as NodeBindings | undefined;
  const incoming = env?.incoming;
  const id = requestIdOf(incoming ? incoming.headers[REQUEST_ID_HEADER] : c.req.header(REQUEST_ID_HEADER));
  c.set('requestId', id);
  const outgoing = env?.outgoing;
  if (outgoing) outgoing.setHeader(REQUEST_ID_HEADER, id);
  else c.header(REQUEST_ID_HEADER, id);
  return id;
}

/** Who called, for the access log (request-identity.ts callerName). */
export function callerOf(c: Context): string | undefined {
  return callerName(c.get('callerUser'), (c.env as NodeBindings | undefined)?.incoming?.socket);
}
