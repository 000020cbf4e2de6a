import { statusOf, type StatusReason } from '../api/types.js';
import type { Denial } from '../proxy/gate.js';

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

const REASONS: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'InternalError',
  502: 'ServiceUnavailable',
  503: 'ServiceUnavailable',
};

/** A Kubernetes `Status` body with its status code. */
export function statusResponse(
  status: number,
  message: string,
  headers: readonly (readonly [string, string])[] = [],
): PlainResponse {
  const body = JSON.stringify(statusOf(status, REASONS[status] ?? 'InternalError', message));
  return { status, headers: [['content-type', 'application/json'], ...headers], body };
}

/**
 * A gate's refusal as HTTP. 401 carries the RFC 6750 challenge: `Bearer` when no token
 * came, `Bearer error="invalid_token"` when one did (§3.1); the message never says why a
 * token failed, so a caller learns nothing about the key set from it.
 */
export function denialResponse(denial: Denial): PlainResponse {
  if (denial.status === 401) {
    return statusResponse(401, 'Unauthorized', [
      ['www-authenticate', denial.tokenGiven ? 'Bearer error="invalid_token"' : 'Bearer'],
    ]);
  }
  return statusResponse(denial.status, denial.message);
}
