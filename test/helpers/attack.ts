import { createServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'vitest';
import type { HttpsResponse } from './http.js';
import { SentTokens } from './logs.js';
import { tokenReview, type TestServer } from './server.js';

/** What kube-apiserver answers for a token nobody claims, or one of ours it cannot parse. */
export const INVALID = 'invalid bearer token';
/** A token of ours whose signature no candidate key verifies (go-jose's text, as kube). */
export const BAD_SIGNATURE = '[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]';
/** A token of ours whose kid names no key of its issuer. */
export const NO_KEY = '[invalid bearer token, invalid signature, no keys found]';
/** A token of ours whose claims go-jose refuses to decode after the signature verified. */
export const BAD_DATE =
  '[invalid bearer token, go-jose/go-jose/jwt: expected number value to unmarshal NumericDate]';
export const BAD_AUDIENCE_SHAPE =
  '[invalid bearer token, go-jose/go-jose/jwt: expected string or array value to unmarshal to Audience]';

/**
 * Drives one suite's attacks through a real server: every answer is checked for the
 * token it carried, every refusal must be a 200 TokenReview with `authenticated: false`
 * and the expected error, and the server must still be ready afterwards.
 */
export class Attacker {
  readonly sent = new SentTokens();

  constructor(private readonly server: () => TestServer) {}

  /** The raw answer to a TokenReview of `token`; never a 5xx, never the token echoed. */
  async review(token: string, audiences?: readonly string[]): Promise<HttpsResponse> {
    const res = await this.server().review(tokenReview(this.sent.add(token), audiences));
    expect(res.status, res.body).toBeLessThan(500);
    expect(this.sent.leaksIn(res.body)).toEqual([]);
    return res;
  }

  /** Expects a 200 refusal whose `status.error` is `error` (a RegExp matches it). */
  async refused(token: string, error: string | RegExp, audiences?: readonly string[]): Promise<void> {
    const res = await this.review(token, audiences);
    expect(res.status, res.body).toBe(200);
    const body = res.json<{ status: { authenticated: boolean; user: object; error?: string } }>();
    expect(body.status.authenticated, res.body).toBe(false);
    expect(body.status.user).toEqual({});
    if (typeof error === 'string') expect(body.status.error).toBe(error);
    else expect(body.status.error).toMatch(error);
  }

  /** Expects a 200 success; returns the status for further checks. */
  async accepted(
    token: string,
    audiences?: readonly string[],
  ): Promise<{ user: { username: string; groups?: string[] }; audiences: string[] }> {
    const res = await this.review(token, audiences);
    expect(res.status, res.body).toBe(200);
    const body = res.json<{
      status: { authenticated: boolean; user: { username: string; groups?: string[] }; audiences: string[] };
    }>();
    expect(body.status.authenticated, res.body).toBe(true);
    return body.status;
  }

  /** `/readyz` still answers 200 and no log line holds a token sent so far. */
  async stillServing(): Promise<void> {
    const server = this.server();
    const ready = await server.request({ path: '/readyz' });
    expect(ready.status, ready.body).toBe(200);
    expect(this.sent.leaksIn(server.logs.text())).toEqual([]);
  }
}

/**
 * A TCP listener on loopback that counts connections: a URL pointing at it proves the
 * service never fetched it (no key or URL comes from a token: RFC 8725 §3.10), whatever the scheme or path.
 */
export interface ConnectionTrap {
  readonly port: number;
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function connectionTrap(): Promise<ConnectionTrap> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
