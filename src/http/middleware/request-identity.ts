import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { UserInfo } from '../../user.js';
import { REQUEST_ID_HEADER, requestIdOf } from '../request-id.js';

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

/**
 * A connection's verified client certificate name, looked up once per connection (a
 * kept-alive connection carries many reviews). `authorized` means the handshake verified
 * the chain against `--client-ca-file`; an unverified certificate names nobody.
 */
const certificateNames = new WeakMap<Socket, string | null>();

function certificateName(socket: Socket): string | undefined {
  let name = certificateNames.get(socket);
  if (name === undefined) {
    const tls = socket as Partial<TLSSocket>;
    const cn = tls.authorized === true ? tls.getPeerCertificate?.().subject?.CN : undefined;
    name = typeof cn === 'string' && cn !== '' ? cn : null;
    certificateNames.set(socket, name);
  }
  return name ?? undefined;
}

/**
 * Who called, for the access log: the caller `--authorize-callers` authenticated, else the
 * common name of a client certificate the handshake verified, else the peer address.
 */
export function callerOf(c: Context): string | undefined {
  const authenticated = c.get('callerUser');
  if (authenticated !== undefined) return authenticated.username;
  const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
  if (!socket) return undefined;
  return certificateName(socket) ?? socket.remoteAddress;
}
