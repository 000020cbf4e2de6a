import { describe, expect, it } from 'vitest';
import { failure, fromFunction, NO_OPINION, type AuthnResult } from '../../src/authn/authenticator.js';
import { unionAuthenticator } from '../../src/authn/union.js';
import { TokenwardenError, type ErrorCode } from '../../src/errors.js';

const ok: AuthnResult = { outcome: 'authenticated', user: { username: 'u', groups: [] }, audiences: [] };
const err = (message: string, code: ErrorCode = 'ERR_TOKEN_SIGNATURE') =>
  failure(new TokenwardenError(code, message));
const member = (r: AuthnResult) => fromFunction(() => r);
const run = (...results: AuthnResult[]) => unionAuthenticator(results.map(member)).authenticateToken('t', []);

describe('unionAuthenticator', () => {
  it('returns the first success and drops earlier errors', async () => {
    expect(await run(err('a'), NO_OPINION, ok, err('b'))).toBe(ok);
  });

  it('has no opinion when no member has one', async () => {
    expect(await run(NO_OPINION, NO_OPINION)).toBe(NO_OPINION);
  });

  it('returns a single error as it is', async () => {
    const e = err('service account token has expired', 'ERR_TOKEN_EXPIRED');
    expect(await run(NO_OPINION, e)).toEqual(e);
  });

  it('aggregates several errors as kube does: [a, b], duplicates dropped', async () => {
    const r = await run(err('a'), err('b'), err('a'));
    expect(r.outcome === 'error' && r.error.message).toBe('[a, b]');
    expect(r.outcome === 'error' && r.error.code).toBe('ERR_TOKEN_INVALID');
  });

  it('keeps an aggregate transient when one of its errors is', async () => {
    const r = await run(err('a'), err('keys', 'ERR_KEYS_UNAVAILABLE'));
    expect(r.outcome === 'error' && r.error.transient).toBe(true);
  });
});
