import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure, fromFunction, NO_OPINION, type AuthnResult } from '../../src/authn/authenticator.js';
import { cachedAuthenticator, type CacheOptions } from '../../src/authn/cached.js';
import { manualClock } from '../../src/clock.js';
import { TokenwardenError, type ErrorCode } from '../../src/errors.js';
import { withAuthenticatedGroup } from '../../src/authn/group-adder.js';
import { ServiceAccountAuthenticator } from '../../src/authn/serviceaccount/authenticator.js';
import { unionAuthenticator } from '../../src/authn/union.js';
import { runAuthenticatorContract } from '../helpers/contracts.js';
import { rsaKey, staticSource } from '../helpers/keys.js';
import { tokentest } from '../helpers/tokentest.js';
import { ISSUER, NOW_MS } from '../helpers/tokens.js';

/** The answer an inner authenticator gives for a pair, naming the pair so a mix-up shows. */
function answerFor(token: string, audiences: readonly string[], expiresAt?: number): AuthnResult {
  return {
    outcome: 'authenticated',
    // The groups are the audiences too, so the lists the cache shares between entries are checked.
    user: { username: JSON.stringify([token, audiences]), groups: [...audiences] },
    audiences: [...audiences],
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

/** An inner authenticator that counts its calls; `answer` decides per call. */
function counting(
  answer: (token: string, audiences: readonly string[]) => AuthnResult | Promise<AuthnResult>,
) {
  const calls: [string, readonly string[]][] = [];
  const inner = fromFunction((token, audiences) => {
    calls.push([token, audiences]);
    return answer(token, audiences);
  });
  return { inner, calls };
}

function setup(
  answer: (token: string, audiences: readonly string[]) => AuthnResult | Promise<AuthnResult>,
  options: Partial<CacheOptions> = {},
) {
  const clock = manualClock(NOW_MS);
  const { inner, calls } = counting(answer);
  const cache = cachedAuthenticator(inner, {
    ttlMs: 120_000,
    negativeTtlMs: 10_000,
    max: 100,
    clock,
    ...options,
  });
  return { cache, calls, clock };
}

const error = (code: ErrorCode, message = 'nope') => failure(new TokenwardenError(code, message));

describe('cachedAuthenticator', () => {
  it('answers a repeated (token, audiences) pair from the cache', async () => {
    const { cache, calls } = setup((t, a) => answerFor(t, a));
    const first = await cache.authenticateToken('t', ['api']);
    expect(await cache.authenticateToken('t', ['api'])).toEqual(first);
    expect(calls).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
  });

  it('answers a hit at once and a miss or a rejection through a promise, the same results as authenticateToken', async () => {
    const { cache, calls } = setup((t, a) => (t === 'bad' ? error('ERR_TOKEN_INVALID') : answerFor(t, a)));
    const miss = cache.authenticateTokenNow!('t', ['api']);
    expect(miss).toBeInstanceOf(Promise);
    const missed = await miss;
    const hit = cache.authenticateTokenNow!('t', ['api']);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toEqual(missed);
    expect(await cache.authenticateToken('t', ['api'])).toBe(hit);
    // Another audience list is another key: a miss again.
    expect(cache.authenticateTokenNow!('t', ['other'])).toBeInstanceOf(Promise);
    const rejected = await cache.authenticateTokenNow!('bad', ['api']);
    expect(rejected).toMatchObject({ outcome: 'error' });
    expect(cache.authenticateTokenNow!('bad', ['api'])).toBe(rejected);
    expect(calls).toHaveLength(3);
  });

  it('stores an answer the inner authenticator gives at once, with nothing in flight, and answers the next lookup from it', async () => {
    const clock = manualClock(NOW_MS);
    let calls = 0;
    let throws = false;
    const inner = {
      authenticateToken: () => Promise.reject(new Error('the cache must ask authenticateTokenNow')),
      authenticateTokenNow: (t: string, a: readonly string[]): AuthnResult | Promise<AuthnResult> => {
        calls++;
        if (throws) throw new Error('bug');
        return t === 'slow'
          ? Promise.resolve(answerFor(t, a))
          : t === 'bad'
            ? error('ERR_TOKEN_INVALID')
            : answerFor(t, a);
      },
    };
    const cache = cachedAuthenticator(inner, { ttlMs: 120_000, negativeTtlMs: 10_000, max: 100, clock });
    const miss = cache.authenticateTokenNow!('t', ['api']);
    expect(miss).not.toBeInstanceOf(Promise);
    expect(miss).toEqual(answerFor('t', ['api']));
    expect(Object.isFrozen(miss)).toBe(false);
    const hit = cache.authenticateTokenNow!('t', ['api']);
    expect(hit).toEqual(miss);
    expect(Object.isFrozen(hit)).toBe(true);
    const rejected = cache.authenticateTokenNow!('bad', ['api']);
    expect(cache.authenticateTokenNow!('bad', ['api'])).toBe(rejected);
    // An answer that waits is still shared by concurrent identical lookups.
    const [a, b] = [
      cache.authenticateTokenNow!('slow', ['api']),
      cache.authenticateTokenNow!('slow', ['api']),
    ];
    expect(a).toBeInstanceOf(Promise);
    expect(b).toBe(a);
    expect(await a).toEqual(answerFor('slow', ['api']));
    expect(calls).toBe(3);
    expect(cache.stats()).toMatchObject({ hits: 2, size: 2, negativeSize: 1 });
    throws = true;
    const broken = await cache.authenticateToken('other', ['api']);
    expect(broken.outcome === 'error' && broken.error.code).toBe('ERR_INTERNAL');
    expect(cache.stats()).toMatchObject({ size: 2, negativeSize: 1 });
  });

  it('hands out the result it keeps frozen on every hit, and a miss its own unfrozen answer', async () => {
    // The HTTP layer keeps the response bytes of frozen results only (src/http/review-bytes.ts).
    const { cache } = setup((t, a) => answerFor(t, a));
    const miss = await cache.authenticateToken('t', ['api']);
    const hit = await cache.authenticateToken('t', ['api']);
    expect(Object.isFrozen(miss)).toBe(false);
    expect(Object.isFrozen(hit)).toBe(true);
    expect(await cache.authenticateToken('t', ['api'])).toBe(hit);
    expect(hit).toEqual(miss);
  });

  it('keeps a frozen group or audience list as it is, and one shared copy of equal unfrozen ones', async () => {
    const frozen = Object.freeze(['g1', 'g2']);
    const { cache } = setup((t) => ({
      outcome: 'authenticated',
      user: { username: t, groups: t.startsWith('f') ? frozen : ['g1', 'g2'] },
      audiences: ['api'],
    }));
    const kept = async (t: string) => {
      await cache.authenticateToken(t, ['api']);
      const r = await cache.authenticateToken(t, ['api']);
      if (r.outcome !== 'authenticated') throw new Error('not authenticated');
      return r;
    };
    const [f1, f2, u1, u2] = [await kept('f1'), await kept('f2'), await kept('u1'), await kept('u2')];
    expect(f1.user.groups).toBe(frozen);
    expect(f2.user.groups).toBe(frozen);
    expect(u1.user.groups).toBe(u2.user.groups);
    expect(u1.user.groups).not.toBe(frozen);
    expect(u1.user.groups).toEqual(['g1', 'g2']);
    expect(u1.audiences).toBe(u2.audiences);
  });

  it('never answers one (token, audiences) pair with the result of another (property)', async () => {
    // A tiny alphabet of delimiter-like characters makes naive key concatenation collide.
    const text = fc.string({
      unit: fc.constantFrom('a', '|', ':', '1', '2', ',', '\n', '\u0000', '\uD800', '\uFFFD', 'é'),
      maxLength: 6,
    });
    const pair = fc.tuple(text, fc.array(text, { maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { minLength: 2, maxLength: 12 }), async (pairs) => {
        const { cache } = setup((t, a) => answerFor(t, a));
        for (const [token, audiences] of [...pairs, ...pairs]) {
          expect(await cache.authenticateToken(token, audiences)).toEqual(answerFor(token, audiences));
        }
      }),
      {
        numRuns: 300,
        // Pairs whose naive concatenations coincide, whatever the random runs find.
        examples: [
          [
            [
              ['t|1:a', []],
              ['t', ['a']],
            ],
          ],
          [
            [
              ['a', ['b,c']],
              ['a', ['b', 'c']],
            ],
          ],
          [
            [
              ['', ['']],
              ['', []],
            ],
          ],
        ],
      },
    );
  });

  it('gives each user exactly its own groups and audiences when one list item holds a newline', async () => {
    const lists: Record<string, string[]> = { joined: ['dev\noidc:admins'], split: ['dev', 'oidc:admins'] };
    const { cache } = setup((t, a) => ({
      outcome: 'authenticated',
      user: { username: t, groups: lists[t]! },
      audiences: [...a],
    }));
    for (const order of [
      ['joined', 'split'],
      ['split', 'joined'],
    ]) {
      // The second round is answered from the cache, whose entries hold the interned lists.
      for (const name of [...order, ...order]) {
        const r = await cache.authenticateToken(name, lists[name]!);
        expect(r.outcome === 'authenticated' && [r.user.groups, r.audiences]).toEqual([
          lists[name],
          lists[name],
        ]);
      }
      cache.clear();
    }
  });

  it('never shares a key between a lone surrogate and U+FFFD, in the token or an audience', async () => {
    const { cache, calls } = setup((t, a) => answerFor(t, a));
    const pairs: [string, string[]][] = [
      ['\uD800', []],
      ['\uFFFD', []],
      ['t', ['\uDC00']],
      ['t', ['\uFFFD']],
      ['t', ['a\uD800|1:b']],
      ['t', ['a\uFFFD', 'b']],
    ];
    for (const [token, audiences] of [...pairs, ...pairs]) {
      const r = await cache.authenticateToken(token, audiences);
      expect(r.outcome === 'authenticated' && r.user.username).toBe(JSON.stringify([token, audiences]));
    }
    expect(calls).toHaveLength(pairs.length);
  });

  it('keys on each audience separately, in order', async () => {
    const { cache, calls } = setup((t, a) => answerFor(t, a));
    for (const auds of [['a', 'b'], ['b', 'a'], ['ab'], ['a'], [], ['a', 'b']])
      await cache.authenticateToken('t', auds);
    expect(calls).toHaveLength(5);
  });

  it('never keeps a positive result past the token exp, even with a longer TTL', async () => {
    const exp = NOW_MS / 1000 + 30;
    const { cache, calls, clock } = setup((t, a) => answerFor(t, a, exp));
    await cache.authenticateToken('t', []);
    clock.set(exp * 1000 - 1);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(1);
    clock.set(exp * 1000 + 1);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('does not cache a success whose exp has already passed (inside the leeway)', async () => {
    const { cache, calls } = setup((t, a) => answerFor(t, a, NOW_MS / 1000 - 30));
    await cache.authenticateToken('t', []);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
    expect(cache.stats().size).toBe(0);
  });

  it('keeps a positive result no longer than the cache TTL', async () => {
    const { cache, calls, clock } = setup((t, a) => answerFor(t, a, NOW_MS / 1000 + 3600), {
      ttlMs: 120_000,
    });
    await cache.authenticateToken('t', []);
    clock.advance(120_000);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('keeps a rejection for the negative TTL only', async () => {
    const { cache, calls, clock } = setup(() => error('ERR_TOKEN_EXPIRED'), { negativeTtlMs: 10_000 });
    await cache.authenticateToken('t', []);
    clock.advance(10_000);
    expect(await cache.authenticateToken('t', [])).toEqual(error('ERR_TOKEN_EXPIRED'));
    expect(calls).toHaveLength(1);
    expect(cache.stats().negativeSize).toBe(1);
    clock.advance(1);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('keeps no rejection when the negative TTL is 0', async () => {
    const { cache, calls } = setup(() => NO_OPINION, { negativeTtlMs: 0 });
    await cache.authenticateToken('t', []);
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it.each(['ERR_KEYS_UNAVAILABLE', 'ERR_INTERNAL'] as const)(
    'never caches the transient error %s',
    async (code) => {
      const { cache, calls } = setup(() => error(code));
      await cache.authenticateToken('t', []);
      await cache.authenticateToken('t', []);
      expect(calls).toHaveLength(2);
      expect(cache.stats()).toMatchObject({ size: 0, negativeSize: 0 });
    },
  );

  it('turns an inner exception into an uncached internal error', async () => {
    const { cache, calls } = setup(() => {
      throw new Error('bug');
    });
    const r = await cache.authenticateToken('t', []);
    expect(r.outcome === 'error' && r.error.code).toBe('ERR_INTERNAL');
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('verifies concurrent identical lookups once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { cache, calls } = setup(async (t, a) => {
      await gate;
      return answerFor(t, a);
    });
    const pending = Array.from({ length: 5 }, () => cache.authenticateToken('t', ['api']));
    const other = cache.authenticateToken('t', ['other']);
    release();
    const results = await Promise.all(pending);
    await other;
    expect(calls).toEqual([
      ['t', ['api']],
      ['t', ['other']],
    ]);
    for (const r of results) expect(r).toEqual(answerFor('t', ['api']));
  });

  it('forgets everything on clear(), as on a key change', async () => {
    const { cache, calls } = setup((t, a) => answerFor(t, a));
    await cache.authenticateToken('t', []);
    cache.clear();
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('does not store the answer of a lookup that was in flight during clear()', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    const { cache, calls } = setup(async (t, a) => {
      if (first) {
        first = false;
        await gate;
      }
      return answerFor(t, a);
    });
    const stale = cache.authenticateToken('t', []);
    cache.clear();
    release();
    await stale;
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('evicts only the answers that relied on a changed cluster object', async () => {
    const { cache, calls } = setup((t, a) => ({
      ...answerFor(t, a),
      dependsOn: t === 'on-pod' ? ['pods/ns1/web', 'serviceaccounts/ns1/app'] : ['serviceaccounts/ns1/other'],
    }));
    await cache.authenticateToken('on-pod', []);
    await cache.authenticateToken('elsewhere', []);
    cache.evictDependents('pods/ns1/web');
    await cache.authenticateToken('on-pod', []);
    await cache.authenticateToken('elsewhere', []);
    expect(calls.map(([t]) => t)).toEqual(['on-pod', 'elsewhere', 'on-pod']);
  });

  it('does not store the answer of a lookup that was in flight when a cluster object changed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    const { cache, calls } = setup(async (t, a) => {
      if (first) {
        first = false;
        await gate;
      }
      return { ...answerFor(t, a), dependsOn: ['pods/ns1/web'] };
    });
    const stale = cache.authenticateToken('t', []);
    cache.evictDependents('pods/ns1/web');
    release();
    await stale;
    await cache.authenticateToken('t', []);
    expect(calls).toHaveLength(2);
  });

  it('lets no flood of rejections evict valid results', async () => {
    const { cache, calls } = setup(
      (t, a) => (t === 'good' ? answerFor(t, a) : error('ERR_TOKEN_SIGNATURE')),
      { max: 10 },
    );
    await cache.authenticateToken('good', []);
    for (let i = 0; i < 200; i++) await cache.authenticateToken(`bad-${i}`, []);
    await cache.authenticateToken('good', []);
    expect(calls.filter(([t]) => t === 'good')).toHaveLength(1);
    expect(cache.stats().negativeSize).toBe(1);
  });

  it('bounds the positive cache by its size', async () => {
    const { cache, calls } = setup((t, a) => answerFor(t, a), { max: 2 });
    for (const t of ['a', 'b', 'c', 'a']) await cache.authenticateToken(t, []);
    expect(cache.stats().size).toBe(2);
    expect(calls.map(([t]) => t)).toEqual(['a', 'b', 'c', 'a']);
  });
});

runAuthenticatorContract(
  'the review chain: cache, group adder, union of tokentest and service accounts',
  () =>
    cachedAuthenticator(
      withAuthenticatedGroup(
        unionAuthenticator([
          tokentest({ 'known-token': { username: 'u', groups: [] } }),
          new ServiceAccountAuthenticator({
            issuers: new Map([[ISSUER, staticSource(rsaKey())]]),
            legacy: 'reject',
            implicitAudiences: [ISSUER],
            clock: manualClock(NOW_MS),
          }),
        ]),
      ),
      { ttlMs: 60_000, negativeTtlMs: 10_000, max: 100, clock: manualClock(NOW_MS) },
    ),
);
