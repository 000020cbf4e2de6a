import type { ServerResponse } from 'node:http';
import type { HttpAnswer } from '../api/outcomes.js';

/** A complete small response, written by the proxy, `/check` and the Hono middleware alike. */
export interface PlainResponse {
  readonly status: number;
  /** Header lines in order; a name may repeat (one `X-Remote-Group` line per group). */
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly body: string;
}

/** Node's flat rawHeaders form of a response's lines, with its content-length. */
export function rawHeadersOf(response: PlainResponse): string[] {
  const raw: string[] = [];
  for (const [name, value] of response.headers) raw.push(name, value);
  raw.push('content-length', String(Buffer.byteLength(response.body)));
  return raw;
}

/**
 * An answer decided in `api/outcomes.ts`, as bytes for a listener without a framework (the
 * proxy's, a socket left by an upgrade, the Hono middleware's Response): nothing here
 * chooses a status, a header or a body.
 */
export function plainResponse(answer: HttpAnswer): PlainResponse {
  return {
    status: answer.status,
    headers: [['content-type', 'application/json'], ...Object.entries(answer.headers ?? {})],
    body: JSON.stringify(answer.body),
  };
}

/** Writes a response on a node listener; once an upstream's headers went out, only a reset is left. */
export function writePlain(res: ServerResponse, response: PlainResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(response.status, rawHeadersOf(response));
  res.end(response.body);
}
