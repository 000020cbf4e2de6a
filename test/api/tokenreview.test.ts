import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure, NO_OPINION, type AuthnResult } from '../../src/authn/authenticator.js';
import { decodeTokenReview, encodeTokenReview, encodeTokenReviewText } from '../../src/api/tokenreview.js';
import { INVALID_BEARER_TOKEN } from '../../src/authn/bearer.js';
import { TokenwardenError } from '../../src/errors.js';

const V1 = 'authentication.k8s.io/v1';
const V1BETA1 = 'authentication.k8s.io/v1beta1';

const BAD_REQUEST = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400 };

/** The decoded input, or the 400 message. */
function decode(body: unknown, version: 'v1' | 'v1beta1' = 'v1') {
  const r = decodeTokenReview(body, version);
  if (r.ok) return r.input;
  expect(r.status).toMatchObject(BAD_REQUEST);
  return r.status.message;
}

describe('decodeTokenReview', () => {
  it('reads a full v1 TokenReview', () => {
    expect(
      decode({ apiVersion: V1, kind: 'TokenReview', spec: { token: 'abc', audiences: ['api', 'vault'] } }),
    ).toEqual({
      apiVersion: V1,
      token: 'abc',
      audiences: ['api', 'vault'],
    });
  });

  it('reads a v1beta1 TokenReview on the v1beta1 path', () => {
    expect(
      decode({ apiVersion: V1BETA1, kind: 'TokenReview', spec: { token: 'abc' } }, 'v1beta1'),
    ).toMatchObject({
      apiVersion: V1BETA1,
    });
  });

  it("takes a body without apiVersion and kind as the path's version (Vault)", () => {
    expect(decode({ spec: { token: 'abc' } }, 'v1')).toEqual({ apiVersion: V1, token: 'abc', audiences: [] });
    expect(decode({ spec: { token: 'abc' } }, 'v1beta1')).toMatchObject({ apiVersion: V1BETA1 });
  });

  it('ignores metadata and a status the client sent', () => {
    expect(
      decode({
        metadata: { name: 'x', creationTimestamp: null },
        spec: { token: 'abc' },
        status: { authenticated: true, user: {} },
      }),
    ).toEqual({ apiVersion: V1, token: 'abc', audiences: [] });
  });

  it('refuses another apiVersion, naming the expected one', () => {
    expect(decode({ apiVersion: V1BETA1, spec: { token: 'abc' } }, 'v1')).toBe(
      `the API version in the data (${V1BETA1}) does not match the expected API version (${V1})`,
    );
    expect(decode({ apiVersion: 'v1', spec: { token: 'abc' } })).toMatch(
      /does not match the expected API version/,
    );
  });

  it('never echoes an apiVersion that could carry anything but a version', () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.SECRET.sig';
    for (const apiVersion of [secret, 42, { v: 1 }]) {
      const message = decode({ apiVersion, spec: { token: secret } });
      expect(message).toBe(`the API version in the data does not match the expected API version (${V1})`);
    }
  });

  it('refuses another kind', () => {
    expect(decode({ kind: 'SubjectAccessReview', spec: { token: 'abc' } })).toBe(
      'the kind in the data does not match the expected kind (TokenReview)',
    );
  });

  it.each([
    ['no spec', {}],
    ['a null spec', { spec: null }],
    ['no token', { spec: {} }],
    ['a null token', { spec: { token: null } }],
    ['an empty token', { spec: { token: '' } }],
  ])('refuses %s: token is required', (_name, body) => {
    expect(decode(body)).toBe('token is required for TokenReview in authentication');
  });

  it.each([
    ['an array body', [], /must be a TokenReview object/],
    ['a string body', 'abc', /must be a TokenReview object/],
    ['a null body', null, /must be a TokenReview object/],
    ['a string spec', { spec: 'abc' }, /spec must be an object/],
    ['a numeric token', { spec: { token: 1 } }, /spec\.token must be a string/],
    [
      'a string of audiences',
      { spec: { token: 'a', audiences: 'api' } },
      /audiences must be a list of strings/,
    ],
    [
      'a mixed audience list',
      { spec: { token: 'a', audiences: ['api', 1] } },
      /audiences must be a list of strings/,
    ],
  ])('refuses %s', (_name, body, message) => {
    expect(decode(body)).toMatch(message);
  });

  it('takes null audiences as none', () => {
    expect(decode({ spec: { token: 'abc', audiences: null } })).toMatchObject({ audiences: [] });
  });

  it("reviews the token as kube's bearer header would carry it", () => {
    expect(decode({ spec: { token: 'a b' } })).toMatchObject({ token: 'a' });
    expect(decode({ spec: { token: 'abc\n' } })).toMatchObject({ token: 'abc' });
    // A blank or space-led token carries no credential (kube would fall back to anonymous; we never do).
    expect(decode({ spec: { token: '   ' } })).toMatchObject({ token: undefined });
    expect(decode({ spec: { token: ' x' } })).toMatchObject({ token: undefined });
  });
});

describe('encodeTokenReview', () => {
  const success: AuthnResult = {
    outcome: 'authenticated',
    user: {
      username: 'system:serviceaccount:ns1:app',
      uid: 'u-1',
      groups: ['system:serviceaccounts', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['p'] },
    },
    audiences: ['api'],
  };

  it('answers a success with the user and the audiences, in the request apiVersion', () => {
    expect(encodeTokenReview(V1BETA1, success, ['api', 'other'])).toEqual({
      kind: 'TokenReview',
      apiVersion: V1BETA1,
      metadata: {},
      status: {
        authenticated: true,
        user: success.outcome === 'authenticated' && success.user,
        audiences: ['api'],
      },
    });
  });

  it('lists the requested audiences when the authenticator checked none (Vault needs the field)', () => {
    const agnostic: AuthnResult = { ...success, audiences: [] };
    expect(encodeTokenReview(V1, agnostic, ['api']).status.audiences).toEqual(['api']);
  });

  it('answers a rejection with authenticated false, an empty user and the error text', () => {
    const r = encodeTokenReview(
      V1,
      failure(new TokenwardenError('ERR_TOKEN_EXPIRED', 'service account token has expired')),
      [],
    );
    expect(r).toEqual({
      kind: 'TokenReview',
      apiVersion: V1,
      metadata: {},
      status: {
        authenticated: false,
        user: {},
        error: '[invalid bearer token, service account token has expired]',
      },
    });
  });

  it('answers a token nobody claims with invalid bearer token', () => {
    expect(encodeTokenReview(V1, NO_OPINION, ['api']).status).toEqual({
      authenticated: false,
      user: {},
      error: INVALID_BEARER_TOKEN,
    });
    expect(INVALID_BEARER_TOKEN).toBe('invalid bearer token');
  });

  it('never carries a spec', () => {
    expect(encodeTokenReview(V1, success, [])).not.toHaveProperty('spec');
    expect(encodeTokenReview(V1, NO_OPINION, [])).not.toHaveProperty('spec');
  });
});

describe('encodeTokenReviewText', () => {
  const objectText = (apiVersion: string, r: AuthnResult, requested: readonly string[]): string =>
    JSON.stringify(encodeTokenReview(apiVersion, r, requested));
  const success = (user: AuthnSuccessUser, audiences: readonly string[] = ['api']): AuthnResult => ({
    outcome: 'authenticated',
    user,
    audiences,
    expiresAt: 1_800_000_000,
  });
  type AuthnSuccessUser = Extract<AuthnResult, { outcome: 'authenticated' }>['user'];

  it('writes the text JSON.stringify writes for every shape of success', () => {
    const cases: [AuthnResult, readonly string[]][] = [
      [
        success({
          username: 'system:serviceaccount:ns1:app',
          uid: 'u-1',
          groups: Object.freeze(['system:serviceaccounts', 'system:authenticated']),
          extra: {
            'authentication.kubernetes.io/pod-name': ['p'],
            'authentication.kubernetes.io/credential-id': ['JTI=1'],
          },
        }),
        [],
      ],
      [success({ username: 'u', uid: '', groups: [] }), []],
      [success({ username: 'u', groups: ['g'], extra: {} }), []],
      [success({ username: 'u', groups: ['g'] }, []), ['requested', 'other']],
      [
        success({
          username: 'quote " back \\ nl \n \u2028 lone \ud800 pair \ud83d\ude00',
          groups: ['\u0000'],
        }),
        [],
      ],
      // JSON.stringify writes integer-like keys first, whatever order they were added in.
      [
        success({ username: 'u', groups: ['g'], extra: { b: ['1'], '2': ['2'], a: [], '1': ['x', 'y'] } }),
        [],
      ],
      [
        success({ username: 'u', groups: ['g'], extra: JSON.parse('{"__proto__":["p"],"toJSON":["t"]}') }),
        [],
      ],
      [success({ username: 'u', groups: ['g'], extra: Object.create({ inherited: ['i'] }) }), []],
      [success({ username: 'u', groups: ['g'], extra: { odd: 'not a list' as unknown as string[] } }), []],
      // Values of other types than the types say, as a buggy authenticator might hand over.
      [success({ username: 'u', groups: ['g', 7 as unknown as string] }), []],
      // eslint-disable-next-line no-sparse-arrays
      [success({ username: 'u', groups: ['g', , 'h'] as string[] }), []],
      [success({ username: 'u', uid: 42 as unknown as string, groups: [] }), []],
      [success({ username: 'u', groups: [], extra: { k: [null as unknown as string] } }), []],
      [success({ username: 'u', groups: [] }, [{} as unknown as string]), []],
      [NO_OPINION, ['api']],
      [failure(new TokenwardenError('ERR_TOKEN_EXPIRED', 'service account token has expired')), []],
    ];
    for (const [r, requested] of cases) {
      for (const v of [V1, V1BETA1])
        expect(encodeTokenReviewText(v, r, requested)).toBe(objectText(v, r, requested));
    }
  });

  it('writes the text JSON.stringify writes for random users and audiences', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const list = fc.array(text, { maxLength: 4 });
    fc.assert(
      fc.property(
        text,
        fc.option(text, { nil: undefined }),
        list,
        fc.option(fc.dictionary(text, list, { maxKeys: 4 }), { nil: undefined }),
        list,
        list,
        (username, uid, groups, extra, audiences, requested) => {
          const user: AuthnSuccessUser = {
            username,
            groups,
            ...(uid !== undefined ? { uid } : {}),
            ...(extra !== undefined ? { extra } : {}),
          };
          const r = success(user, audiences);
          expect(encodeTokenReviewText(V1, r, requested)).toBe(objectText(V1, r, requested));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('decodeTokenReview (properties)', () => {
  const token = fc.string({ unit: 'binary', maxLength: 40 });
  const body = fc.oneof(
    fc.anything({ withNullPrototype: true, withObjectString: true }),
    fc.record(
      {
        apiVersion: fc.oneof(fc.constantFrom(V1, V1BETA1, 'v1', ''), fc.jsonValue()),
        kind: fc.oneof(fc.constantFrom('TokenReview', 'tokenreview'), fc.jsonValue()),
        spec: fc.oneof(
          fc.record(
            {
              token: fc.oneof(token, fc.jsonValue()),
              audiences: fc.oneof(
                fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { maxLength: 3 }),
                fc.jsonValue(),
              ),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        metadata: fc.jsonValue(),
        status: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
  );

  it('never throws; every answer is a bearer token and string audiences, or a 400 Status that quotes nothing', () => {
    fc.assert(
      fc.property(body, fc.constantFrom('v1' as const, 'v1beta1' as const), (b, version) => {
        const r = decodeTokenReview(b, version);
        if (!r.ok) {
          expect(r.status).toMatchObject(BAD_REQUEST);
          const sent = (b as { spec?: { token?: unknown } } | null)?.spec?.token;
          if (typeof sent === 'string' && sent.length >= 4) expect(r.status.message).not.toContain(sent);
          return;
        }
        expect(r.input.apiVersion).toBe(`authentication.k8s.io/${version}`);
        expect(r.input.audiences.every((a) => typeof a === 'string')).toBe(true);
        if (r.input.token !== undefined) {
          // kube's bearer parsing: one non-empty word, taken from the given token.
          expect(r.input.token).not.toBe('');
          expect(r.input.token).not.toContain(' ');
          expect((b as { spec: { token: string } }).spec.token).toContain(r.input.token);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
