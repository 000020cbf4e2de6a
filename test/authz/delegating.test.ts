import { describe, expect, it } from 'vitest';
import type { Attributes, Authorizer, AuthzResult } from '../../src/authz/authorizer.js';
import { delegateNoOpinion } from '../../src/authz/delegating.js';

const attributes: Attributes = {
  user: { username: 'u', groups: [] },
  verb: 'get',
  resourceRequest: true,
  namespace: 'ns1',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'pods',
  subresource: '',
  name: '',
  path: '',
};

/** An authorizer that always answers `result` and counts how often it was asked. */
function answering(result: AuthzResult, sync = true): Authorizer & { asked: number } {
  const a = {
    asked: 0,
    authorize() {
      a.asked++;
      return sync ? result : Promise.resolve(result);
    },
  };
  return a;
}

describe('delegateNoOpinion', () => {
  it('answers a local allow or deny itself, synchronously, without asking the delegate', () => {
    for (const decision of ['allow', 'deny'] as const) {
      const delegate = answering({ decision: 'allow', reason: 'cluster' });
      const local = { decision, reason: 'local' };
      expect(delegateNoOpinion(answering(local), delegate).authorize(attributes)).toEqual(local);
      expect(delegate.asked).toBe(0);
    }
  });

  it("gives the delegate's allow or deny as the delegate gave it when the local policy has no opinion", async () => {
    for (const theirs of [
      { decision: 'allow', reason: 'granted there' },
      { decision: 'deny', reason: 'denied there', error: 'both' },
    ] as AuthzResult[]) {
      const local = answering({ decision: 'no-opinion', reason: 'rbac: RBAC: role "x" not found' }, false);
      expect(await delegateNoOpinion(local, answering(theirs)).authorize(attributes)).toEqual(theirs);
    }
  });

  it('joins both no-opinion reasons with a newline and aggregates both errors, unprefixed', async () => {
    const local = answering({
      decision: 'no-opinion',
      reason: 'rbac: RBAC: role "x" not found',
      error: 'e1',
    });
    const delegate = answering({ decision: 'no-opinion', reason: 'cluster says nothing', error: 'e2' });
    expect(await delegateNoOpinion(local, delegate).authorize(attributes)).toEqual({
      decision: 'no-opinion',
      reason: 'rbac: RBAC: role "x" not found\ncluster says nothing',
      error: '[e1, e2]',
    });
    const quiet = answering({ decision: 'no-opinion', reason: '' });
    expect(
      await delegateNoOpinion(quiet, answering({ decision: 'no-opinion', reason: 'only theirs' })).authorize(
        attributes,
      ),
    ).toEqual({
      decision: 'no-opinion',
      reason: 'only theirs',
    });
  });
});
