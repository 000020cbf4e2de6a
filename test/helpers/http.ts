import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The serving certificate the TLS handshake presented. */
  readonly peerCertificate: PeerCertificate;
  json<T = Record<string, unknown>>(): T;
}

export interface HttpsRequest {
  readonly port: number;
  /** PEM CA bundle the server certificate must chain to: nothing is ever unverified. */
  readonly ca: string;
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string | number>;
  /** Sent with a Content-Length unless `chunked`. */
  readonly body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, in pieces of this many bytes. */
  readonly chunked?: number;
  /**
   * A client certificate chain (PEM, leaf first) and its key, presented in the handshake;
   * `weakSignatures` lets OpenSSL load a SHA-1-signed one, for refusal tests.
   */
  readonly clientCert?: { readonly cert: string; readonly key: string; readonly weakSignatures?: boolean };
}

/** One HTTPS exchange with a loopback server, on a fresh connection (no agent, no keep-alive). */
export function httpsRequest(req: HttpsRequest): Promise<HttpsResponse> {
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers: Record<string, string | number> = { ...req.headers };
  if (body && !req.chunked && headers['content-length'] === undefined)
    headers['content-length'] = body.length;
  const options: RequestOptions = {
    host: '127.0.0.1',
    port: req.port,
    ca: req.ca,
    method: req.method ?? (body ? 'POST' : 'GET'),
    path: req.path,
    headers,
    agent: false,
    ...(req.clientCert ? { cert: req.clientCert.cert, key: req.clientCert.key } : {}),
    ...(req.clientCert?.weakSignatures ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
  };
  return new Promise((resolve, reject) => {
    const r = request(options, (res) => {
      const peerCertificate = (res.socket as TLSSocket).getPeerCertificate();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text,
          peerCertificate,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    r.on('error', reject);
    if (body && req.chunked) {
      for (let i = 0; i < body.length; i += req.chunked) r.write(body.subarray(i, i + req.chunked));
      r.end();
    } else {
      r.end(body);
    }
  });
}

/** A POST the server has taken (its `100 Continue` came back) but whose body is not sent yet. */
export interface HeldRequest {
  /** Resolves once the server has taken the request. */
  readonly taken: Promise<void>;
  /** Sends the body; resolves with the response. */
  finish(): Promise<{ status: number; text: string }>;
}

/**
 * Starts a JSON POST with `Expect: 100-continue` on a fresh connection and holds its body:
 * a request in flight for shutdown tests, which a signal can then overtake.
 */
export function heldRequest(req: { port: number; ca: string; path: string; body: string }): HeldRequest {
  const r = request({
    host: '127.0.0.1',
    port: req.port,
    ca: req.ca,
    method: 'POST',
    path: req.path,
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(req.body),
      expect: '100-continue',
    },
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    r.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    r.on('error', reject);
  });
  const taken = new Promise<void>((resolve) => r.once('continue', resolve));
  return {
    taken,
    finish() {
      r.end(req.body);
      return response;
    },
  };
}
