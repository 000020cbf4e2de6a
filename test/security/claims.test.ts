import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { MAX_TOKEN_LENGTH } from '../../src/authn/jwt/gate.js';
import { Attacker, BAD_AUDIENCE_SHAPE, BAD_DATE, INVALID } from '../helpers/attack.js';
import { rsaKey } from '../helpers/keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  boundClaims,
  headerJson,
  ISSUER,
  jsonWithRaw,
  mintToken,
  NOW,
  NOW_MS,
  rawToken,
  withPrivate,
  type Claims,
} from '../helpers/tokens.js';

/**
 * docs/security.md (the attack suite), RFC 8725 §3.9–3.11: validly signed tokens whose claims lie about
 * time, audience, issuer or subject, sent as TokenReviews to the real service on a
 * fixed clock. The signature holds in every case; only the claim checks can refuse.
 */

const key = rsaKey();
const clock = manualClock(NOW_MS);
let server: TestServer;
const attack = new Attacker(() => server);

beforeAll(async () => {
  // No negative cache: the clock moves between reviews of one token.
  server = await startTestServer({ clock, keys: [key], flags: ['--negative-cache-ttl', '0s'] });
});
afterAll(() => server.close());
afterEach(async () => {
  clock.set(NOW_MS);
  await attack.stillServing();
});

const token = (claims: Claims) => mintToken({ key, claims });
const claimsError = (detail: string) =>
  `[invalid bearer token, invalid service account token claims: ${detail}]`;

describe('time claims of the wrong type or size', () => {
  for (const claim of ['exp', 'nbf', 'iat']) {
    it.each([
      ['a string', '"1768482000"'],
      ['true', 'true'],
      ['null', 'null'],
      ['an object', '{}'],
      ['an array', '[1768482000]'],
    ])(`refuses ${claim} given as %s, as go-jose does`, async (_name, raw) => {
      await attack.refused(
        rawToken(headerJson(key), jsonWithRaw(boundClaims(), { [claim]: raw }), key),
        BAD_DATE,
      );
    });

    it.each([
      ['1e400 (Infinity in JavaScript)', '1e400'],
      ['-1e400', '-1e400'],
      ['2^53', '9007199254740992'],
      ['2^63', '9223372036854775808'],
      ['1e308', '1e308'],
    ])(`refuses ${claim} of %s`, async (_name, raw) => {
      await attack.refused(
        rawToken(headerJson(key), jsonWithRaw(boundClaims(), { [claim]: raw }), key),
        INVALID,
      );
    });
  }

  it('reads 9e15 (just under 2^53) as a time: exp far ahead, nbf and iat in the future', async () => {
    await attack.accepted(token(boundClaims({ exp: 9e15 })));
    await attack.refused(
      token(boundClaims({ nbf: 9e15 })),
      '[invalid bearer token, service account token is not valid yet]',
    );
    await attack.refused(
      token(boundClaims({ iat: 9e15 })),
      '[invalid bearer token, service account token is issued in the future]',
    );
  });

  it('accepts float times, truncated as go-jose does', async () => {
    await attack.accepted(token(boundClaims({ exp: NOW + 3600.5, nbf: NOW - 0.5, iat: NOW + 0.9 })));
  });

  it('refuses a bound token without exp (stricter than kube)', async () => {
    await attack.refused(
      token(boundClaims({ exp: undefined })),
      '[invalid bearer token, service account token has no expiration (exp)]',
    );
  });
});

describe('leeway edges on the service clock', () => {
  const expired = '[invalid bearer token, service account token has expired]';
  const notYet = '[invalid bearer token, service account token is not valid yet]';
  const future = '[invalid bearer token, service account token is issued in the future]';

  it.each([-300_000, 0, 300_000])(
    'judges exp, nbf and iat ±60 s around the clock skewed by %i ms',
    async (skew) => {
      const now = NOW + skew / 1000;
      clock.set(NOW_MS + skew);
      const at = (c: Claims) => token(boundClaims({ iat: now - 600, nbf: now - 600, ...c }, now));
      await attack.accepted(at({ exp: now - 59 }));
      await attack.refused(at({ exp: now - 61 }), expired);
      await attack.accepted(at({ nbf: now + 59 }));
      await attack.refused(at({ nbf: now + 61 }), notYet);
      await attack.accepted(at({ iat: now + 59 }));
      await attack.refused(at({ iat: now + 61 }), future);
    },
  );

  it('accepts a token valid for a year, as kube extends kubelet tokens', async () => {
    await attack.accepted(token(boundClaims({ exp: NOW + 365 * 86_400 })));
  });
});

describe('audience', () => {
  const invalidFor = (have: string, want: string) =>
    `[invalid bearer token, token audiences ["${have}"] is invalid for the target audiences ["${want}"]]`;

  it.each([
    ['a list holding a number', '["https://kubernetes.default.svc.cluster.local",1]'],
    ['an object', '{"0":"https://kubernetes.default.svc.cluster.local"}'],
    ['a number', '1'],
    ['true', 'true'],
    ['null', 'null'],
  ])('refuses aud given as %s', async (_name, raw) => {
    await attack.refused(
      rawToken(headerJson(key), jsonWithRaw(boundClaims(), { aud: raw }), key),
      BAD_AUDIENCE_SHAPE,
    );
  });

  it('reads a string aud as a one-element list', async () => {
    const status = await attack.accepted(token(boundClaims({ aud: ISSUER })));
    expect(status.audiences).toEqual([ISSUER]);
  });

  it.each([
    ['[]', []],
    ['""', ''],
  ])('refuses a bound token whose aud is %s (stricter than kube)', async (_name, aud) => {
    await attack.refused(
      token(boundClaims({ aud })),
      /^\[invalid bearer token, (service account token has no audience \(aud\)|token audiences .* is invalid for the target audiences .*)\]$/,
    );
  });

  it('refuses a token replayed to another audience, named or implicit', async () => {
    const vault = token(boundClaims({ aud: ['vault'] }));
    await attack.refused(vault, invalidFor('vault', 'api'), ['api']);
    await attack.refused(vault, invalidFor('vault', ISSUER));
    await attack.refused(vault, invalidFor('vault', 'Vault'), ['Vault']);
    await attack.refused(vault, invalidFor('vault', 'vault '), ['vault ']);
    const status = await attack.accepted(vault, ['api', 'vault']);
    expect(status.audiences).toEqual(['vault']);
  });

  it('answers one token for two audiences with exactly the intersection, in request order', async () => {
    const both = token(boundClaims({ aud: ['a', 'b'] }));
    expect((await attack.accepted(both, ['b', 'x', 'a'])).audiences).toEqual(['b', 'a']);
    await attack.refused(both, /is invalid for the target audiences \["a,b"\]/, ['a,b']);
  });
});

describe('issuer', () => {
  it.each([
    ['a trailing slash', `${ISSUER}/`],
    ['http for https', ISSUER.replace('https', 'http')],
    ['another case', ISSUER.toUpperCase()],
    ['a leading space', ` ${ISSUER}`],
    ['a homoglyph (Cyrillic е)', ISSUER.replace('default', 'd\u0435fault')],
    ['NFD form', ISSUER.replace('default', 'de\u0301fault')],
    ['an unconfigured issuer', 'https://evil.example'],
    ['an array', [ISSUER]],
  ])('has no opinion on a token whose iss has %s', async (_name, iss) => {
    await attack.refused(token(boundClaims({ iss })), INVALID);
  });
});

describe('private claims', () => {
  it.each([
    ['kubernetes.io is a string', boundClaims({ 'kubernetes.io': 'ns1' }), 'kubernetes.io must be an object'],
    ['kubernetes.io is an array', boundClaims({ 'kubernetes.io': [] }), 'kubernetes.io must be an object'],
    [
      'kubernetes.io is missing',
      boundClaims({ 'kubernetes.io': undefined }),
      'kubernetes.io must be an object',
    ],
    ['the namespace is empty', withPrivate({ namespace: '' }), 'kubernetes.io.namespace is invalid'],
    [
      'the namespace holds a colon',
      withPrivate({ namespace: 'kube-system:admin' }),
      'kubernetes.io.namespace is invalid',
    ],
    [
      'the namespace is upper case',
      withPrivate({ namespace: 'Kube-System' }),
      'kubernetes.io.namespace is invalid',
    ],
    [
      'the namespace is not ASCII',
      withPrivate({ namespace: 'k\u00fcbe' }),
      'kubernetes.io.namespace is invalid',
    ],
    ['the namespace is a number', withPrivate({ namespace: 1 }), 'kubernetes.io.namespace is invalid'],
    [
      'the service account has no name',
      withPrivate({ serviceaccount: { uid: 'u' } }),
      'kubernetes.io.serviceaccount.name and kubernetes.io.serviceaccount.uid must be strings',
    ],
    [
      'the service account name holds a colon',
      withPrivate({ serviceaccount: { name: 'app:admin', uid: 'u' } }),
      'kubernetes.io.serviceaccount.name is invalid',
    ],
    [
      'the service account uid is a number',
      withPrivate({ serviceaccount: { name: 'app', uid: 7 } }),
      'kubernetes.io.serviceaccount.name and kubernetes.io.serviceaccount.uid must be strings',
    ],
    [
      'the service account is missing',
      withPrivate({ serviceaccount: undefined }),
      'kubernetes.io.serviceaccount.name is invalid',
    ],
  ])('refuses a token where %s', async (_name, claims, detail) => {
    await attack.refused(token(claims), claimsError(detail));
  });

  it('takes the identity from kubernetes.io, never from sub', async () => {
    const status = await attack.accepted(
      token(boundClaims({ sub: 'system:serviceaccount:kube-system:admin' })),
    );
    expect(status.user.username).toBe('system:serviceaccount:ns1:app');
  });
});

describe('huge and deep claims', () => {
  const padded = (bytes: number) => token(boundClaims({ pad: 'x'.repeat(bytes) }));

  it('accepts a token just under 16 KiB and refuses one just over, before decoding', async () => {
    const base = padded(0).length;
    // base64url grows 3 bytes into 4 characters.
    const under = padded(Math.floor(((MAX_TOKEN_LENGTH - base) * 3) / 4) - 3);
    expect(under.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    await attack.accepted(under);
    const over = padded(Math.ceil(((MAX_TOKEN_LENGTH - base) * 3) / 4) + 3);
    expect(over.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    await attack.refused(over, INVALID);
  });

  it('refuses a claim nested 17 objects deep, and accepts 15', async () => {
    const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    await attack.accepted(rawToken(headerJson(key), jsonWithRaw(boundClaims(), { deep: nested(15) }), key));
    await attack.refused(
      rawToken(headerJson(key), jsonWithRaw(boundClaims(), { deep: nested(16) }), key),
      INVALID,
    );
  });

  it('refuses a token of 3,000 claims, over the size cap', async () => {
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`c${i}`, i]));
    await attack.refused(token(boundClaims(many)), INVALID);
  });
});
