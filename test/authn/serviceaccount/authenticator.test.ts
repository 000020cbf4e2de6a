import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthnResult } from '../../../src/authn/authenticator.js';
import {
  LEGACY_ISSUER,
  ServiceAccountAuthenticator,
  type LegacyTokenPolicy,
} from '../../../src/authn/serviceaccount/authenticator.js';
import { manualClock } from '../../../src/clock.js';
import { makeSnapshot, type KeySnapshot, type KeySource } from '../../../src/keys/key-source.js';
import { runAuthenticatorContract } from '../../helpers/contracts.js';
import { ecKey, rsaKey, staticSource, verificationKey } from '../../helpers/keys.js';
import {
  b64url,
  boundClaims,
  headerJson,
  ISSUER,
  JTI,
  LEGACY_ISS,
  legacyClaims,
  mintToken,
  NOW,
  NOW_MS,
  OTHER_ISSUER,
  rawToken,
  SA_UID,
  segments,
} from '../../helpers/tokens.js';

const keys = staticSource(rsaKey(), ecKey('P-256'));

function authenticator(
  options: { legacy?: LegacyTokenPolicy; issuers?: Map<string, KeySource>; implicit?: string[] } = {},
) {
  const clock = manualClock(NOW_MS);
  const sa = new ServiceAccountAuthenticator({
    issuers: options.issuers ?? new Map([[ISSUER, keys]]),
    legacyKeys: keys,
    legacy: options.legacy ?? 'reject',
    implicitAudiences: options.implicit ?? [ISSUER],
    clock,
  });
  return { sa, clock };
}

/** The error message, or 'no-opinion', or the authenticated result. */
function verdict(r: AuthnResult) {
  if (r.outcome === 'error') return r.error.message;
  if (r.outcome === 'no-opinion') return 'no-opinion';
  return r;
}

async function review(
  token: string,
  audiences: string[] = [],
  options?: Parameters<typeof authenticator>[0],
) {
  return verdict(await authenticator(options).sa.authenticateToken(token, audiences));
}

/**
 * A remote-like source holding the default RSA key, whose refresh (recorded in `asked`) brings
 * in `stranger` too.
 */
function rotatingSource(stranger: ReturnType<typeof rsaKey>, asked: string[] = []): KeySource {
  let current: KeySnapshot = makeSnapshot([verificationKey(rsaKey())], 1);
  return {
    name: 'remote',
    snapshot: () => current,
    refreshForKid: (kid) => {
      asked.push(kid);
      current = makeSnapshot([verificationKey(rsaKey()), verificationKey(stranger)], 2);
      return Promise.resolve(current);
    },
    onChange: () => () => {},
    health: () => ({ name: 'remote', ready: true, keyCount: 1, loads: 1, loadFailures: 0 }),
    close: () => {},
  };
}

describe('ServiceAccountAuthenticator', () => {
  it('authenticates a pod-bound token as kube does', async () => {
    const r = await authenticator().sa.authenticateToken(mintToken(), []);
    expect(r).toEqual({
      outcome: 'authenticated',
      user: {
        username: 'system:serviceaccount:ns1:app',
        uid: SA_UID,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1'],
        extra: expect.objectContaining({ 'authentication.kubernetes.io/credential-id': [`JTI=${JTI}`] }),
      },
      audiences: [ISSUER],
      expiresAt: NOW + 3600,
    });
  });

  it('answers at once when the keys are at hand, and through a promise when a kid needs a refresh, as authenticateToken does', async () => {
    const stranger = rsaKey('rotated-in');
    const { sa } = authenticator({ issuers: new Map([[ISSUER, rotatingSource(stranger)]]) });
    const tokens = [
      mintToken(),
      mintToken({ claims: boundClaims({ aud: ['elsewhere'] }) }),
      mintToken({ header: { jku: 'https://example.com/keys' } }),
      mintToken({ claims: boundClaims({ iss: OTHER_ISSUER }) }),
      'not a jwt',
    ];
    for (const token of tokens) {
      const now = sa.authenticateTokenNow(token, []);
      expect(now).not.toBeInstanceOf(Promise);
      expect(now).toEqual(await sa.authenticateToken(token, []));
    }
    const later = sa.authenticateTokenNow(mintToken({ key: stranger }), []);
    expect(later).toBeInstanceOf(Promise);
    expect(verdict(await later)).toMatchObject({ outcome: 'authenticated' });
    // The refreshed keys are at hand now: the next token of that kid is answered at once.
    expect(verdict(sa.authenticateTokenNow(mintToken({ key: stranger }), []) as AuthnResult)).toMatchObject({
      outcome: 'authenticated',
    });
    // A signature that fails under a known kid asks for fresh keys first, as kube's key cache does.
    const refused = sa.authenticateTokenNow(`${mintToken().slice(0, -4)}AAAA`, []);
    expect(refused).toBeInstanceOf(Promise);
    expect(verdict(await refused)).toBe('go-jose/go-jose: error in cryptographic primitive');
  });

  it('authenticates tokens of each key of the issuer', async () => {
    expect(await review(mintToken({ key: ecKey('P-256') }))).toMatchObject({ outcome: 'authenticated' });
  });

  describe('not mine', () => {
    it.each([
      ['a foreign issuer', mintToken({ claims: boundClaims({ iss: OTHER_ISSUER }) })],
      ['an issuer with a trailing slash', mintToken({ claims: boundClaims({ iss: `${ISSUER}/` }) })],
      ['the issuer __proto__', mintToken({ claims: boundClaims({ iss: '__proto__' }) })],
      ['the issuer constructor', mintToken({ claims: boundClaims({ iss: 'constructor' }) })],
      ['not a JWT', 'hello'],
      ['JWS JSON serialization', '{"payload":"e30","signatures":[]}'],
    ])('has no opinion on %s', async (_name, token) => {
      expect(await review(token)).toBe('no-opinion');
    });
  });

  describe('spellings', () => {
    /** Every character of the chosen segments moved by 0x100: Go's decoder refuses each, Node's keeps the low byte. */
    const shifted = (token: string, which: readonly number[]) =>
      segments(token)
        .map((seg, i) =>
          which.includes(i)
            ? [...seg].map((c) => String.fromCharCode(c.charCodeAt(0) + 0x100)).join('')
            : seg,
        )
        .join('.');
    const good = mintToken();

    it('has no opinion on a valid token whose payload is spelled outside the base64url alphabet', async () => {
      expect(await review(good)).toMatchObject({ outcome: 'authenticated' });
      expect(await review(shifted(good, [0, 1, 2]))).toBe('no-opinion');
      expect(await review(shifted(good, [1]))).toBe('no-opinion');
    });

    it.each([
      ['header', [0]],
      ['signature', [2]],
    ])('rejects a valid token whose %s is spelled outside the base64url alphabet', async (_name, which) => {
      expect(await review(shifted(good, which))).toBe('invalid bearer token');
    });
  });

  describe('keys', () => {
    it('rejects an unknown kid without trying other keys', async () => {
      expect(await review(mintToken({ key: rsaKey('stranger') }))).toBe('invalid signature, no keys found');
    });

    it('tries every key of the issuer when the token has no kid', async () => {
      for (const key of [rsaKey(), ecKey('P-256')]) {
        expect(await review(mintToken({ key, header: { kid: undefined } }))).toMatchObject({
          outcome: 'authenticated',
        });
      }
      expect(await review(mintToken({ key: rsaKey('stranger'), header: { kid: undefined } }))).toBe(
        'go-jose/go-jose: error in cryptographic primitive',
      );
    });

    it('rejects a token signed by another key under a known kid', async () => {
      expect(await review(mintToken({ key: rsaKey('stranger'), header: { kid: rsaKey().kid } }))).toBe(
        'go-jose/go-jose: error in cryptographic primitive',
      );
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
      'rejects the prototype-named kid %s as unknown',
      async (kid) => {
        expect(await review(mintToken({ header: { kid } }))).toBe('invalid signature, no keys found');
      },
    );

    it("never uses another issuer's keys, even for a kid they hold", async () => {
      const issuers = new Map<string, KeySource>([
        [ISSUER, staticSource(rsaKey('a'))],
        [OTHER_ISSUER, staticSource(rsaKey('b'))],
      ]);
      const token = mintToken({ key: rsaKey('b'), claims: boundClaims({ iss: ISSUER }) });
      expect(await review(token, [], { issuers })).toBe('invalid signature, no keys found');
      const own = mintToken({ key: rsaKey('b'), claims: boundClaims({ iss: OTHER_ISSUER, aud: [ISSUER] }) });
      expect(await review(own, [], { issuers })).toMatchObject({ outcome: 'authenticated' });
    });

    it('reports keys that have not loaded yet as a transient error', async () => {
      const unloaded: KeySource = {
        name: 'unloaded',
        snapshot: () => undefined,
        refreshForKid: () => Promise.resolve(undefined),
        onChange: () => () => {},
        health: () => ({ name: 'unloaded', ready: false, keyCount: 0, loads: 0, loadFailures: 1 }),
        close: () => {},
      };
      const r = await authenticator({ issuers: new Map([[ISSUER, unloaded]]) }).sa.authenticateToken(
        mintToken(),
        [],
      );
      expect(r.outcome === 'error' && r.error.code).toBe('ERR_KEYS_UNAVAILABLE');
      expect(r.outcome === 'error' && r.error.transient).toBe(true);
    });

    it('asks a source to refresh only for a gated token with a kid it lacks', async () => {
      const stranger = rsaKey('rotated-in');
      const asked: string[] = [];
      const { sa } = authenticator({ issuers: new Map([[ISSUER, rotatingSource(stranger, asked)]]) });
      await sa.authenticateToken(mintToken(), []);
      await sa.authenticateToken(
        mintToken({ key: stranger, claims: boundClaims({ iss: OTHER_ISSUER }) }),
        [],
      );
      await sa.authenticateToken(mintToken({ key: stranger, header: { crit: ['exp'] } }), []);
      expect(asked).toEqual([]);
      expect(verdict(await sa.authenticateToken(mintToken({ key: stranger }), []))).toMatchObject({
        outcome: 'authenticated',
      });
      expect(asked).toEqual([stranger.kid]);
    });
  });

  describe('algorithms', () => {
    it('rejects HS256 signed with the public key as the HMAC secret', async () => {
      const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: rsaKey().kid }))}.${b64url(JSON.stringify(boundClaims()))}`;
      for (const secret of [
        rsaKey().publicPem,
        rsaKey().publicPem.trim(),
        rsaKey().publicKey.export({ type: 'spki', format: 'der' }),
      ]) {
        const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
        // As kube-apiserver: the kid selects the key, then go-jose refuses the algorithm.
        expect(await review(token)).toBe('go-jose/go-jose: error in cryptographic primitive');
      }
    });

    it('rejects alg none with an empty, a real or no signature', async () => {
      const real = segments(mintToken())[2];
      for (const alg of ['none', 'None']) {
        const input = `${b64url(JSON.stringify({ alg }))}.${b64url(JSON.stringify(boundClaims()))}`;
        for (const token of [`${input}.`, `${input}.${real}`, input]) {
          expect(await review(token)).not.toMatchObject({ outcome: 'authenticated' });
        }
      }
    });

    it('rejects an RS256 header over an EC key and ES256 over an RSA key', async () => {
      const ecAsRsa = rawToken(
        headerJson(ecKey('P-256'), { alg: 'RS256' }),
        JSON.stringify(boundClaims()),
        ecKey('P-256'),
        'ES256',
      );
      expect(await review(ecAsRsa)).toBe('go-jose/go-jose: error in cryptographic primitive');
      const rsaAsEc = rawToken(
        headerJson(rsaKey(), { alg: 'ES256' }),
        JSON.stringify(boundClaims()),
        rsaKey(),
        'RS256',
      );
      expect(await review(rsaAsEc)).toBe('go-jose/go-jose: error in cryptographic primitive');
    });
  });

  describe('audiences', () => {
    it('accepts a token for a requested audience', async () => {
      expect(await review(mintToken(), [ISSUER])).toMatchObject({ audiences: [ISSUER] });
    });

    it('rejects a token whose audience is not requested', async () => {
      expect(await review(mintToken({ claims: boundClaims({ aud: ['vault'] }) }), ['api'])).toBe(
        'token audiences ["vault"] is invalid for the target audiences ["api"]',
      );
    });

    it('holds a token to the implicit audiences when none are requested', async () => {
      expect(await review(mintToken({ claims: boundClaims({ aud: ['istio-ca'] }) }))).toBe(
        `token audiences ["istio-ca"] is invalid for the target audiences ["${ISSUER}"]`,
      );
      expect(
        await review(mintToken({ claims: boundClaims({ aud: ['api'] }) }), [], { implicit: ['api', ISSUER] }),
      ).toMatchObject({
        audiences: ['api'],
      });
    });

    it('returns the intersection in requested order', async () => {
      const token = mintToken({ claims: boundClaims({ aud: ['api', 'vault'] }) });
      expect(await review(token, ['vault', 'x', 'api'])).toMatchObject({ audiences: ['vault', 'api'] });
    });

    it('takes aud as a single string', async () => {
      expect(await review(mintToken({ claims: boundClaims({ aud: 'vault' }) }), ['vault'])).toMatchObject({
        audiences: ['vault'],
      });
    });

    it('rejects a bound token without aud or with an empty one, unlike kube', async () => {
      for (const aud of [undefined, []]) {
        expect(await review(mintToken({ claims: boundClaims({ aud }) }))).toBe(
          'service account token has no audience (aud)',
        );
      }
    });

    it('checks the audience before time: an expired token for the wrong audience reports the audience', async () => {
      const token = mintToken({ claims: boundClaims({ aud: ['vault'], exp: NOW - 3600 }) });
      expect(await review(token, ['api'])).toBe(
        'token audiences ["vault"] is invalid for the target audiences ["api"]',
      );
      expect(await review(token, ['vault'])).toBe('service account token has expired');
    });

    it('checks aud only after the signature', async () => {
      const token = mintToken({
        key: rsaKey('stranger'),
        header: { kid: rsaKey().kid },
        claims: boundClaims({ aud: undefined }),
      });
      expect(await review(token)).toBe('go-jose/go-jose: error in cryptographic primitive');
    });
  });

  describe('time', () => {
    it('accepts exp == now - 60s and rejects it a millisecond later', async () => {
      const { sa, clock } = authenticator();
      const token = mintToken({ claims: boundClaims({ exp: NOW - 60 }) });
      expect(verdict(await sa.authenticateToken(token, []))).toMatchObject({ outcome: 'authenticated' });
      clock.advance(1);
      expect(verdict(await sa.authenticateToken(token, []))).toBe('service account token has expired');
    });

    it('accepts nbf == now + 60s and rejects nbf == now + 61s', async () => {
      expect(await review(mintToken({ claims: boundClaims({ nbf: NOW + 60 }) }))).toMatchObject({
        outcome: 'authenticated',
      });
      expect(await review(mintToken({ claims: boundClaims({ nbf: NOW + 61 }) }))).toBe(
        'service account token is not valid yet',
      );
    });

    it('accepts iat == now + 60s and rejects iat == now + 61s', async () => {
      expect(await review(mintToken({ claims: boundClaims({ iat: NOW + 60 }) }))).toMatchObject({
        outcome: 'authenticated',
      });
      expect(await review(mintToken({ claims: boundClaims({ iat: NOW + 61 }) }))).toBe(
        'service account token is issued in the future',
      );
    });

    it('requires exp on a bound token, unlike kube, but only after the signature', async () => {
      expect(await review(mintToken({ claims: boundClaims({ exp: undefined }) }))).toBe(
        'service account token has no expiration (exp)',
      );
      const forged = mintToken({
        key: rsaKey('stranger'),
        header: { kid: rsaKey().kid },
        claims: boundClaims({ exp: undefined }),
      });
      expect(await review(forged)).toBe('go-jose/go-jose: error in cryptographic primitive');
    });

    it('accepts a token that expires in a year and ignores a past warnafter', async () => {
      const claims = boundClaims({ exp: NOW + 365 * 86_400 });
      (claims['kubernetes.io'] as Record<string, unknown>).warnafter = NOW - 86_400;
      expect(await review(mintToken({ claims }))).toMatchObject({ expiresAt: NOW + 365 * 86_400 });
    });

    it('caches nothing beyond a fractional exp: expiresAt is truncated', async () => {
      expect(await review(mintToken({ claims: boundClaims({ exp: NOW + 10.9 }) }))).toMatchObject({
        expiresAt: NOW + 10,
      });
    });
  });

  describe('claims', () => {
    it('rejects a validly signed token with broken private claims', async () => {
      expect(await review(mintToken({ claims: boundClaims({ 'kubernetes.io': 'x' }) }))).toBe(
        'invalid service account token claims: kubernetes.io must be an object',
      );
    });
  });

  describe('claims in live mode', () => {
    const live = (token: string) =>
      new ServiceAccountAuthenticator({
        issuers: new Map([[ISSUER, keys]]),
        legacy: 'reject',
        implicitAudiences: [ISSUER],
        clock: manualClock(NOW_MS),
        objects: {
          synced: () => true,
          serviceAccount: (ns, name) => (ns === 'ns1' && name === 'app' ? { uid: SA_UID } : undefined),
          secret: () => undefined,
          pod: () => ({ uid: 'unused' }),
          node: () => undefined,
        },
      })
        .authenticateToken(token, [])
        .then(verdict);
    const k8s = (value: unknown) => mintToken({ claims: boundClaims({ 'kubernetes.io': value }) });

    it("answers a missing namespace, name or uid with kube's lookup error, as kube has no offline check of them", async () => {
      expect(await live(mintToken({ claims: boundClaims({ 'kubernetes.io': undefined }) }))).toBe(
        'resource name may not be empty',
      );
      expect(await live(k8s({ namespace: 'ns1' }))).toBe('resource name may not be empty');
      expect(await live(k8s({ serviceaccount: { name: 'app', uid: SA_UID } }))).toBe(
        'the server could not find the requested resource',
      );
      expect(await live(k8s({ namespace: 'ns1', serviceaccount: { name: 'app' } }))).toBe(
        `service account UID (${SA_UID}) does not match claim ()`,
      );
    });

    it('keeps its own text for claims Go could not decode', async () => {
      expect(await live(k8s('x'))).toBe(
        'invalid service account token claims: kubernetes.io must be an object',
      );
    });
  });

  describe('legacy tokens', () => {
    const legacyToken = () => mintToken({ claims: legacyClaims() });

    it('claims legacy tokens and rejects them by default', async () => {
      const r = await authenticator().sa.authenticateToken(legacyToken(), []);
      expect(r.outcome === 'error' && r.error.code).toBe('ERR_TOKEN_LEGACY_REFUSED');
      expect(verdict(r)).toBe('legacy service account tokens are not accepted');
      expect(LEGACY_ISSUER).toBe(LEGACY_ISS);
    });

    it('accepts them with legacy accept, without extra, for the implicit audiences', async () => {
      expect(await review(legacyToken(), [], { legacy: 'accept' })).toEqual({
        outcome: 'authenticated',
        user: {
          username: 'system:serviceaccount:ns1:app',
          uid: SA_UID,
          groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1'],
        },
        audiences: [ISSUER],
      });
    });

    it('holds them to the implicit audiences', async () => {
      expect(await review(legacyToken(), ['vault'], { legacy: 'accept' })).toBe(
        `token audiences ["${ISSUER}"] is invalid for the target audiences ["vault"]`,
      );
    });

    it('does no time check on them, as kube', async () => {
      const old = mintToken({ claims: legacyClaims({ exp: NOW - 86_400, nbf: NOW + 86_400 }) });
      expect(await review(old, [], { legacy: 'accept' })).toMatchObject({ outcome: 'authenticated' });
    });

    it("applies kube's legacy claim checks", async () => {
      expect(
        await review(
          mintToken({ claims: legacyClaims({ sub: 'system:serviceaccount:kube-system:app' }) }),
          [],
          { legacy: 'accept' },
        ),
      ).toBe('sub claim is invalid');
      expect(
        await review(
          mintToken({ claims: legacyClaims({ 'kubernetes.io/serviceaccount/secret.name': undefined }) }),
          [],
          {
            legacy: 'accept',
          },
        ),
      ).toBe('secretName claim is missing');
    });

    it('verifies their signature like any other', async () => {
      expect(
        await review(mintToken({ key: rsaKey('stranger'), claims: legacyClaims() }), [], {
          legacy: 'accept',
        }),
      ).toBe('invalid signature, no keys found');
    });
  });

  it('never throws and never authenticates garbage or mangled tokens (property)', async () => {
    const { sa } = authenticator({ legacy: 'accept' });
    const good = mintToken();
    const mangled = fc
      .tuple(
        fc.nat(good.length - 1),
        fc.constantFrom('', '.', 'A', '=', ' ', '\n', '+', '{', '\u0000'),
        fc.nat(3),
      )
      .map(([at, insert, cut]) => good.slice(0, at) + insert + good.slice(at + cut));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mangled), async (token) => {
        fc.pre(token !== good);
        const r = await sa.authenticateToken(token, []);
        expect(r.outcome).not.toBe('authenticated');
      }),
      { numRuns: 1000 },
    );
  });
});

runAuthenticatorContract('ServiceAccountAuthenticator', () => authenticator({ legacy: 'accept' }).sa);
