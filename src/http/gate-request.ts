import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { GateRequest } from '../proxy/gate.js';
import type { PlainResponse } from './gate-response.js';
import { presentedChain } from './request-identity.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';

/**
 * The gate's view of a node request: every header line apart, the presented certificate
 * chain, and for the access line the request id (the client's `X-Request-Id` when it is
 * safe, else a new one) and the peer's address.
 */
export function gateRequestOf(req: IncomingMessage): GateRequest & { readonly requestId: string } {
  const socket = req.socket as TLSSocket;
  const headers = req.headersDistinct;
  // Repeated lines are no id (node's `headers` would join them with a comma, which is refused too).
  const ids = headers[REQUEST_ID_HEADER];
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '',
    headers,
    requestId: requestIdOf(ids?.length === 1 ? ids[0] : undefined),
    peer: socket.remoteAddress,
    // Walked only when asked: only the client-certificate authenticator reads it.
    get peerCertificates() {
      return presentedChain(socket);
    },
  };
}

/**
 * The request id on a response of the proxy's own. Never through `res.setHeader`: node
 * then merges the raw header list by name, and repeated lines (`X-Remote-Group`,
 * `Set-Cookie`) would collapse into one.
 */
export function withRequestId(response: PlainResponse, requestId: string): PlainResponse {
  return { ...response, headers: [...response.headers, [REQUEST_ID_HEADER, requestId]] };
}
