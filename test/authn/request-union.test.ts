import { describe, expect, it } from 'vitest';
import {
  failure,
  NO_OPINION,
  type AuthnRequest,
  type AuthnResult,
  type RequestAuthenticator,
} from '../../src/authn/authenticator.js';
import { requestAuthenticatorChain } from '../../src/authn/request-union.js';
import { TokenwardenError } from '../../src/errors.js';

const success = (username: string, groups: string[]): AuthnResult => ({
  outcome: 'authenticated',
  user: { username, groups },
  audiences: [],
});
const answering = (r: AuthnResult): RequestAuthenticator => ({
  authenticateRequest: () => Promise.resolve(r),
});
const request: AuthnRequest = { headers: {} };
const run = (...members: RequestAuthenticator[]) =>
  requestAuthenticatorChain(members).authenticateRequest(request);

describe('requestAuthenticatorChain', () => {
  it('adds system:authenticated to the success of a lone member, as to one among several', async () => {
    const alice = success('alice', ['dev']);
    for (const result of [await run(answering(alice)), await run(answering(NO_OPINION), answering(alice))]) {
      expect(result).toEqual({
        ...alice,
        user: { username: 'alice', groups: ['dev', 'system:authenticated'] },
      });
    }
    expect(alice.outcome === 'authenticated' && alice.user.groups).toEqual(['dev']);
  });

  it("gives a lone member's error or lack of opinion as it is", async () => {
    const refused = failure(new TokenwardenError('ERR_TOKEN_EXPIRED', 'token has expired'));
    expect(await run(answering(refused))).toBe(refused);
    expect(await run(answering(NO_OPINION))).toBe(NO_OPINION);
  });

  it('leaves a user that already has system:authenticated as it is', async () => {
    const bob = success('bob', ['system:authenticated']);
    expect(await run(answering(bob))).toBe(bob);
  });
});
