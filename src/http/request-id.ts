import { randomBytes } from 'node:crypto';

/**
 * An incoming `X-Request-Id` is taken as is only when it is short and made of characters
 * that are safe in a header, a log field and a shell: a UUID, Envoy's and nginx's ids, a
 * trace id. Anything else (too long, spaces, quotes, control characters, non-ASCII) is
 * replaced by a generated id rather than cleaned, so a log line never carries arbitrary
 * client text under the request id's name.
 */
const ACCEPTED = /^[A-Za-z0-9._:+/=@-]{1,128}$/;

/** Per process, so that ids from replicas and restarts do not collide in one log store. */
const prefix = randomBytes(6).toString('base64url');
let counter = 0;

/** A new id: the process prefix and a running count (no per-request randomness to pay for). */
export function generateRequestId(): string {
  return `${prefix}-${(++counter).toString(36)}`;
}

/** The request id for a request that sent `header` (absent, repeated, or one value). */
export function requestIdOf(header: string | readonly string[] | undefined): string {
  return typeof header === 'string' && ACCEPTED.test(header) ? header : generateRequestId();
}

/** The response header that echoes it, and the request header it is read from. */
export const REQUEST_ID_HEADER = 'x-request-id';
