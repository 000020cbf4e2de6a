import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { AuthnRequest } from '../authn/authenticator.js';
import type { UserInfo } from '../user.js';

/** A chain longer than this is not a client chain anyone uses; walking stops there. */
const MAX_PRESENTED_CHAIN = 10;

/**
 * The client certificate chain of a TLS socket, leaf first, as DER. The server requests a
 * certificate but does not require one and does not reject an unverified one
 * (`rejectUnauthorized: false`), so this is what the client *presented*: authenticators
 * verify it themselves, each against its own CA bundle (client CA, front-proxy CA).
 */
export function presentedChain(socket: TLSSocket | undefined): Buffer[] | undefined {
  if (!socket || typeof socket.getPeerCertificate !== 'function') return undefined;
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const chain: Buffer[] = [];
  while (cert && cert.raw && chain.length < MAX_PRESENTED_CHAIN) {
    if (chain.some((c) => c.equals(cert!.raw))) break; // a self-signed root points at itself
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain.length > 0 ? chain : undefined;
}

/**
 * The request as request-level authenticators see it: every header line separately
 * (Node's `headersDistinct`, so `X-Remote-Group` lines are never comma-joined) and the
 * presented client certificate chain. Outside Node (app.request() in tests) headers come
 * from the Fetch request, one value each, and there is no certificate.
 */
export function authnRequestFrom(c: Context): AuthnRequest {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return authnRequestOf(incoming);
  // Header names come from the client: no prototype to reach through a name like `__proto__`.
  const headers: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = [value];
  });
  return { headers };
}

/** The request as request-level authenticators see it, from Node's request. */
export function authnRequestOf(incoming: IncomingMessage): AuthnRequest {
  const chain = presentedChain(incoming.socket as TLSSocket);
  return { headers: incoming.headersDistinct, ...(chain ? { peerCertificates: chain } : {}) };
}

/**
 * A connection's name for the access log, looked up once per connection (a kept-alive
 * connection carries many reviews, and the peer address is a getter that asks the socket):
 * its verified client certificate's common name, else its peer address. `authorized` means
 * the handshake verified the chain against `--client-ca-file`; an unverified certificate
 * names nobody.
 */
const connectionNames = new WeakMap<Socket, string>();

function connectionName(socket: Socket): string | undefined {
  let name = connectionNames.get(socket);
  if (name === undefined) {
    const tls = socket as Partial<TLSSocket>;
    const cn = tls.authorized === true ? tls.getPeerCertificate?.().subject?.CN : undefined;
    name = typeof cn === 'string' && cn !== '' ? cn : socket.remoteAddress;
    // A socket already closed has no address to give; it carries no further request to ask again.
    if (name !== undefined) connectionNames.set(socket, name);
  }
  return name;
}

/**
 * Who called, for the access log: the caller `--authorize-callers` authenticated, else the
 * common name of a client certificate the handshake verified, else the peer address.
 */
export function callerName(
  authenticated: UserInfo | undefined,
  socket: Socket | undefined,
): string | undefined {
  if (authenticated !== undefined) return authenticated.username;
  if (!socket) return undefined;
  return connectionName(socket);
}
