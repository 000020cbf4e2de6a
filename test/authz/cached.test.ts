import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachedAuthorizer, decisionKey } from '../../src/authz/cached.js';
import type { Attributes, AuthzResult } from '../../src/authz/authorizer.js';
import { manualClock } from '../../src/clock.js';
import { attrs } from './helpers.js';

describe('decision cache', async () => {
  it('never gives distinct users or attributes the same key', async () => {
    const str = fc.string({ maxLength: 6, unit: fc.constantFrom('a', ':', '|', '1', 'g', 'e', 'v') });
    const attributes = fc.record({
      user: fc.record({
        username: str,
        uid: fc.option(str, { nil: undefined }),
        groups: fc.array(str, { maxLength: 3 }),
        extra: fc.option(fc.dictionary(str, fc.array(str, { maxLength: 2 }), { maxKeys: 2 }), {
          nil: undefined,
        }),
      }),
      verb: str,
      resourceRequest: fc.boolean(),
      namespace: str,
      apiGroup: str,
      apiVersion: str,
      resource: str,
      subresource: str,
      name: str,
      path: str,
    });
    const canonical = (a: Attributes) =>
      JSON.stringify({
        ...a,
        user: {
          ...a.user,
          uid: a.user.uid ?? '',
          extra: Object.fromEntries(Object.entries(a.user.extra ?? {}).sort(([x], [y]) => (x < y ? -1 : 1))),
        },
      });
    fc.assert(
      fc.property(attributes, attributes, (a, b) => {
        if (canonical(a) !== canonical(b)) expect(decisionKey(a)).not.toBe(decisionKey(b));
      }),
      { numRuns: 3000 },
    );
    expect(decisionKey(attrs({ user: 'a:b', verb: 'get', resource: 'pods' }))).not.toBe(
      decisionKey(attrs({ user: 'a', groups: ['b'], verb: 'get', resource: 'pods' })),
    );
  });

  it('keeps allow and deny for their TTLs and never keeps an evaluation error', async () => {
    // Not 0: lru-cache reads a start time of 0 as "no TTL".
    const clock = manualClock(1_000_000);
    let answer: AuthzResult = { decision: 'allow', reason: '' };
    let calls = 0;
    const cache = cachedAuthorizer(
      { authorize: () => (calls++, answer) },
      { allowTtlMs: 1000, denyTtlMs: 100, max: 10, clock },
    );
    const a = attrs({ user: 'u', verb: 'get', resource: 'pods' });
    cache.authorize(a);
    cache.authorize(a);
    expect(calls).toBe(1);
    clock.advance(1001);
    answer = { decision: 'no-opinion', reason: '' };
    expect((await cache.authorize(a)).decision).toBe('no-opinion');
    clock.advance(50);
    cache.authorize(a);
    expect(calls).toBe(2);
    clock.advance(51);
    cache.authorize(a);
    expect(calls).toBe(3);
    cache.clear();
    answer = { decision: 'no-opinion', reason: '', error: 'webhook down' };
    cache.authorize(a);
    cache.authorize(a);
    expect(calls).toBe(5);
  });
});
