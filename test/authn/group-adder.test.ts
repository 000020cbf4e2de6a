import { describe, expect, it } from 'vitest';
import { failure, fromFunction, type AuthnResult } from '../../src/authn/authenticator.js';
import { withAuthenticatedGroup } from '../../src/authn/group-adder.js';
import { TokenwardenError } from '../../src/errors.js';

const success = (username: string, groups: string[]): AuthnResult => ({
  outcome: 'authenticated',
  user: { username, groups },
  audiences: ['api'],
});
const run = (r: AuthnResult) => withAuthenticatedGroup(fromFunction(() => r)).authenticateToken('t', []);
const groups = (r: AuthnResult) => (r.outcome === 'authenticated' ? r.user.groups : undefined);

describe('withAuthenticatedGroup', () => {
  it('appends system:authenticated, on a copy', async () => {
    const inner = success('system:serviceaccount:ns1:app', [
      'system:serviceaccounts',
      'system:serviceaccounts:ns1',
    ]);
    expect(groups(await run(inner))).toEqual([
      'system:serviceaccounts',
      'system:serviceaccounts:ns1',
      'system:authenticated',
    ]);
    expect(groups(inner)).toHaveLength(2);
  });

  it('answers at once when the inner authenticator does, through a promise when it waits', async () => {
    const answer = success('system:serviceaccount:ns1:app', ['system:serviceaccounts']);
    const adder = withAuthenticatedGroup({
      authenticateToken: (t) =>
        Promise.resolve(t === 'now' ? answer : failure(new TokenwardenError('ERR_TOKEN_INVALID', 'x'))),
      authenticateTokenNow: (t) => (t === 'now' ? answer : Promise.resolve(answer)),
    });
    const now = adder.authenticateTokenNow!('now', []);
    expect(now).not.toBeInstanceOf(Promise);
    expect(groups(now as AuthnResult)).toEqual(['system:serviceaccounts', 'system:authenticated']);
    const later = adder.authenticateTokenNow!('later', []);
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toEqual(now);
    expect(await adder.authenticateToken('now', [])).toEqual(now);
    expect(withAuthenticatedGroup(fromFunction(() => answer)).authenticateTokenNow).toBeUndefined();
  });

  it('appends to a frozen (shared) list once and shares the frozen copy', async () => {
    const shared = Object.freeze(['system:serviceaccounts', 'system:serviceaccounts:ns1']);
    const a = groups(await run(success('system:serviceaccount:ns1:a', shared as string[])));
    const b = groups(await run(success('system:serviceaccount:ns1:b', shared as string[])));
    expect(a).toEqual([...shared, 'system:authenticated']);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(shared).toHaveLength(2);
  });

  it.each([
    ['anonymous', success('system:anonymous', ['system:unauthenticated'])],
    ['already authenticated', success('u', ['system:authenticated', 'g'])],
    ['unauthenticated', success('u', ['system:unauthenticated'])],
  ])('leaves a user that is %s as it is', async (_name, r) => {
    expect(await run(r)).toBe(r);
  });

  it('passes failures through', async () => {
    const f = failure(new TokenwardenError('ERR_TOKEN_EXPIRED', 'x'));
    expect(await run(f)).toBe(f);
  });
});
