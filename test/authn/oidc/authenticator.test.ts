import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../../src/clock.js';
import { OidcAuthenticator, goTime } from '../../../src/authn/oidc/authenticator.js';
import { parseAuthenticationConfiguration } from '../../../src/authn/oidc/config.js';
import type { AuthnResult } from '../../../src/authn/authenticator.js';
import type { KeySource } from '../../../src/keys/key-source.js';
import { ecKey, rsaKey, staticSource, type TestKey } from '../../helpers/keys.js';
import { mintToken, NOW, NOW_MS, type Claims } from '../../helpers/tokens.js';

const FIXTURES = new URL('../../fixtures/oidc/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/**
 * A docs example with its groups expression `claims.roles.split(",")` rebuilt as a list kube
 * 1.37 takes: split() gives a Go []string, which kube's convertCELValueToStringList refuses.
 */
const kubeFixture = (name: string): string =>
  fixture(name).replace('claims.roles.split(",")', 'claims.roles.split(",").map(r, r)');

/** The docs' payload, made current and for the configured audience (the docs' "kubernetes" would fail the audience check). */
function docClaims(overrides: Claims = {}): Claims {
  const base = JSON.parse(fixture('doc-token-payload.json')) as Claims;
  return { ...base, aud: 'my-app', iat: NOW, nbf: NOW, exp: NOW + 3600, ...overrides };
}

const KEY = rsaKey('oidc-a');

function authenticatorFor(yaml: string, key: TestKey = KEY, clock = manualClock(NOW_MS)): OidcAuthenticator {
  const config = parseAuthenticationConfiguration(yaml);
  return new OidcAuthenticator({ spec: config.jwt[0]!, keys: staticSource(key), clock });
}

function config(jwt: string): string {
  return `apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n${jwt}`;
}

const SIMPLE = config(`- issuer:
    url: https://issuer.example
    audiences: [my-app]
  claimMappings:
    username: {claim: sub, prefix: "oidc:"}
    groups: {claim: groups, prefix: "oidc:"}
`);

function claims(overrides: Claims = {}): Claims {
  return {
    iss: 'https://issuer.example',
    aud: 'my-app',
    sub: 'jane',
    exp: NOW + 600,
    iat: NOW,
    ...overrides,
  };
}

async function run(
  a: OidcAuthenticator,
  c: Claims,
  key: TestKey = KEY,
  header: Record<string, unknown> = {},
): Promise<AuthnResult> {
  return a.authenticateToken(mintToken({ claims: c, key, header }), []);
}

function errorOf(r: AuthnResult): string {
  expect(r.outcome).toBe('error');
  return r.outcome === 'error' ? r.error.message : '';
}

describe('OIDC authenticator: the Kubernetes documentation examples', () => {
  it('maps the valid-token example to the documented UserInfo', async () => {
    // As written, kube 1.37 refuses the example's groups: split() returns a Go []string.
    expect(errorOf(await run(authenticatorFor(fixture('valid-token.yaml')), docClaims()))).toBe(
      'oidc: error evaluating group claim expression: expression must return a string or a list of strings',
    );
    const a = authenticatorFor(kubeFixture('valid-token.yaml'));
    const r = await run(a, docClaims());
    expect(r).toMatchObject({ outcome: 'authenticated' });
    if (r.outcome !== 'authenticated') return;
    expect(r.user).toEqual({
      username: 'foo:external-user',
      uid: 'auth',
      groups: ['user', 'admin'],
      extra: {
        // kube adds the credential id from jti before the configured extra mappings.
        'authentication.kubernetes.io/credential-id': [
          'JTI=7c337942807e73caa2c30c868ac0ce910bce02ddcbfebe8c23b8b5f27ad62873',
        ],
        'example.com/tenant': ['72f988bf-86f1-41af-91ab-2d7cd011db4a'],
      },
    });
    expect(r.expiresAt).toBe(NOW + 3600);
  });

  it('fails the claim-validation example: the token has no hd claim', async () => {
    const a = authenticatorFor(kubeFixture('fails-claim-validation.yaml'));
    expect(errorOf(await run(a, docClaims()))).toBe(
      `oidc: error evaluating claim validation expression: expression 'claims.hd == "example.com"' resulted in error: no such key: hd`,
    );
    expect(errorOf(await run(a, docClaims({ hd: 'other.example' })))).toBe(
      `oidc: error evaluating claim validation expression: validation expression 'claims.hd == "example.com"' failed: the hd claim must be set to example.com`,
    );
    expect((await run(a, docClaims({ hd: 'example.com' }))).outcome).toBe('authenticated');
  });

  it('fails the user-validation example: the username starts with system:', async () => {
    const a = authenticatorFor(kubeFixture('fails-user-validation.yaml'));
    expect(errorOf(await run(a, docClaims({ hd: 'example.com' })))).toBe(
      "oidc: error evaluating user info validation rule: validation expression '!user.username.startsWith('system:')' failed: username cannot used reserved system: prefix",
    );
  });
});

describe('OIDC authenticator: claim mappings', () => {
  it('prefixes the username and groups claims, groups from a list or a single string', async () => {
    const a = authenticatorFor(SIMPLE);
    const list = await run(a, claims({ groups: ['dev', 'ops'] }));
    expect(list).toMatchObject({
      outcome: 'authenticated',
      user: { username: 'oidc:jane', groups: ['oidc:dev', 'oidc:ops'] },
    });
    const single = await run(a, claims({ groups: 'dev' }));
    expect(single).toMatchObject({ user: { groups: ['oidc:dev'] } });
    const none = await run(a, claims());
    expect(none).toMatchObject({ user: { groups: [] } });
    expect(errorOf(await run(a, claims({ groups: 7 })))).toBe(
      'oidc: parse groups claim "groups": json: cannot unmarshal number into Go value of type string',
    );
  });

  it('refuses a distributed groups claim rather than dropping it', async () => {
    const a = authenticatorFor(SIMPLE);
    const distributed = {
      _claim_names: { groups: 'src1' },
      _claim_sources: { src1: { endpoint: 'https://x' } },
    };
    expect(errorOf(await run(a, claims(distributed)))).toBe(
      'oidc: could not expand distributed claims: distributed claims are not supported by tokenwarden',
    );
  });

  it('reports a missing or non-string username claim as kube does', async () => {
    const a = authenticatorFor(SIMPLE);
    expect(errorOf(await run(a, claims({ sub: undefined })))).toBe(
      'oidc: parse username claims "sub": claim not present',
    );
    // go-oidc v2 decodes sub into its idToken before any mapping runs.
    expect(errorOf(await run(a, claims({ sub: 42 })))).toBe(
      'oidc: verify token: oidc: failed to unmarshal claims: json: cannot unmarshal number into Go struct field idToken.sub of type string',
    );
  });

  it('requires email_verified to be true when the username claim is email and it is present', async () => {
    const a = authenticatorFor(
      config(`- issuer: {url: "https://issuer.example", audiences: [my-app]}
  claimMappings:
    username: {claim: email, prefix: ""}
`),
    );
    expect(await run(a, claims({ email: 'jane@example.com' }))).toMatchObject({
      user: { username: 'jane@example.com' },
    });
    expect(await run(a, claims({ email: 'jane@example.com', email_verified: true }))).toMatchObject({
      outcome: 'authenticated',
    });
    expect(errorOf(await run(a, claims({ email: 'jane@example.com', email_verified: false })))).toBe(
      'oidc: email not verified',
    );
    expect(errorOf(await run(a, claims({ email: 'jane@example.com', email_verified: 'true' })))).toBe(
      "oidc: parse 'email_verified' claim: json: cannot unmarshal string into Go value of type bool",
    );
  });

  it('maps groups, uid and extra by expression; empty values are dropped, bad types refused', async () => {
    const a = authenticatorFor(
      config(`- issuer: {url: "https://issuer.example", audiences: [my-app]}
  claimMappings:
    username: {expression: "'u:' + claims.sub"}
    groups: {expression: "dyn(claims.teams).map(t, 'team:' + t)"}
    uid: {claim: oid}
    extra:
    - key: example.com/dept
      valueExpression: "has(claims.dept) ? claims.dept : ''"
    - key: example.com/tags
      valueExpression: "claims.tags"
`),
    );
    const ok = await run(a, claims({ teams: ['a', 'b'], oid: 'id-1', tags: ['x', '', 'y'] }));
    expect(ok).toMatchObject({
      outcome: 'authenticated',
      user: {
        username: 'u:jane',
        uid: 'id-1',
        groups: ['team:a', 'team:b'],
        extra: { 'example.com/tags': ['x', 'y'] },
      },
    });
    if (ok.outcome === 'authenticated') expect(ok.user.extra).not.toHaveProperty('example.com/dept');
    expect(errorOf(await run(a, claims({ teams: ['a'], oid: 'id-1', tags: [1] })))).toBe(
      'oidc: error evaluating extra claim expression: claims.tags: expression must return a string or a list of strings',
    );
    expect(errorOf(await run(a, claims({ teams: ['a'], oid: 'id-1' })))).toBe(
      "expression 'claims.tags' resulted in error: no such key: tags",
    );
    expect(errorOf(await run(a, claims({ teams: ['a'], tags: [] })))).toBe(
      'oidc: parse uid claim "oid": claim not present',
    );
  });

  it('refuses an empty or non-string username from an expression', async () => {
    const a = authenticatorFor(
      config(`- issuer: {url: "https://issuer.example", audiences: [my-app]}
  claimMappings:
    username: {expression: "claims.name"}
`),
    );
    expect(errorOf(await run(a, claims({ name: '' })))).toBe(
      'oidc: empty username via CEL expression is not allowed',
    );
    expect(errorOf(await run(a, claims({ name: 5 })))).toBe(
      'oidc: error evaluating username claim expression: username claim expression must return a string',
    );
  });

  it('checks required claims with kube texts', async () => {
    const a = authenticatorFor(
      config(`- issuer: {url: "https://issuer.example", audiences: [my-app]}
  claimValidationRules:
  - claim: hd
    requiredValue: example.com
  claimMappings:
    username: {claim: sub, prefix: ""}
`),
    );
    expect(errorOf(await run(a, claims()))).toBe('oidc: required claim hd not present in ID token');
    expect(errorOf(await run(a, claims({ hd: 'x.example' })))).toBe(
      'oidc: required claim hd value does not match. Got = x.example, want = example.com',
    );
    expect(errorOf(await run(a, claims({ hd: 1 })))).toBe(
      'oidc: parse claim hd: json: cannot unmarshal number into Go value of type string',
    );
    expect((await run(a, claims({ hd: 'example.com' }))).outcome).toBe('authenticated');
  });

  it('reads claims named __proto__ and constructor as plain data', async () => {
    const a = authenticatorFor(
      config(`- issuer: {url: "https://issuer.example", audiences: [my-app]}
  claimMappings:
    username: {claim: __proto__, prefix: "p:"}
    groups: {expression: "[claims['constructor'], claims.__proto__]"}
  userValidationRules:
  - expression: "user.groups.size() == 2"
`),
    );
    const token = mintToken({
      key: KEY,
      claims: JSON.parse(
        `{"iss":"https://issuer.example","aud":"my-app","exp":${NOW + 60},"__proto__":"proto","constructor":"ctor"}`,
      ) as Claims,
    });
    expect(await a.authenticateToken(token, [])).toMatchObject({
      outcome: 'authenticated',
      user: { username: 'p:proto', groups: ['ctor', 'proto'] },
    });
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});

describe('OIDC authenticator: verification as go-oidc does it', () => {
  it('has no opinion on another issuer and never uses its keys', async () => {
    const other = rsaKey('oidc-b');
    const a = authenticatorFor(SIMPLE);
    expect(await run(a, claims({ iss: 'https://other.example' }), other)).toEqual({ outcome: 'no-opinion' });
    // Our issuer, signed by another issuer's key that even claims our kid: refused.
    expect(errorOf(await run(a, claims(), other, { kid: KEY.kid }))).toBe(
      'oidc: verify token: failed to verify signature: failed to verify id token signature',
    );
  });

  it('accepts ES256 and PS256 signatures', async () => {
    const ec = ecKey('P-256', 'oidc-ec');
    const a = authenticatorFor(SIMPLE, ec);
    expect((await run(a, claims(), ec)).outcome).toBe('authenticated');
    const b = authenticatorFor(SIMPLE);
    expect((await run(b, claims(), KEY, { alg: 'PS256' })).outcome).toBe('authenticated');
  });

  it('requires exp, with no leeway; allows nbf up to 1 minute ahead (go-oidc v2, kube 1.37)', async () => {
    const clock = manualClock(NOW_MS);
    const a = authenticatorFor(SIMPLE, KEY, clock);
    expect(errorOf(await run(a, claims({ exp: undefined })))).toBe(
      'oidc: verify token: oidc: token is expired (Token Expiry: 0001-01-01 00:00:00 +0000 UTC)',
    );
    expect(errorOf(await run(a, claims({ exp: NOW - 1 })))).toBe(
      `oidc: verify token: oidc: token is expired (Token Expiry: ${goTime((NOW - 1) * 1000)})`,
    );
    expect((await run(a, claims({ exp: NOW }))).outcome).toBe('authenticated');
    expect((await run(a, claims({ nbf: NOW + 60 }))).outcome).toBe('authenticated');
    expect(errorOf(await run(a, claims({ nbf: NOW + 61 })))).toBe(
      `oidc: verify token: oidc: current time ${goTime(NOW_MS)} before the nbf (not before) time: ${goTime((NOW + 61) * 1000)}`,
    );
    // go-oidc's jsonTime: a number in a string counts, a null nbf is no nbf.
    expect((await run(a, claims({ exp: String(NOW + 60) }))).outcome).toBe('authenticated');
    expect((await run(a, claims({ nbf: null }))).outcome).toBe('authenticated');
    expect(goTime(Date.UTC(2023, 11, 22, 8, 15, 49))).toBe('2023-12-22 08:15:49 +0000 UTC');
  });

  it('checks a single audience before expiry, and several (MatchAny) after the signature', async () => {
    const a = authenticatorFor(SIMPLE);
    expect(errorOf(await run(a, claims({ aud: ['other'], exp: NOW - 10 })))).toBe(
      'oidc: verify token: oidc: expected audience "my-app" got ["other"]',
    );
    const multi = authenticatorFor(
      config(`- issuer:
    url: https://issuer.example
    audiences: [my-app, my-other-app]
    audienceMatchPolicy: MatchAny
  claimMappings:
    username: {claim: sub, prefix: ""}
`),
    );
    expect((await run(multi, claims({ aud: ['x', 'my-other-app'] }))).outcome).toBe('authenticated');
    expect(errorOf(await run(multi, claims({ aud: 'x' })))).toBe(
      'oidc: verify token: oidc: expected audience in ["my-app" "my-other-app"] got ["x"]',
    );
    expect(errorOf(await run(multi, claims({ aud: 'x', exp: NOW - 10 })))).toMatch(/token is expired/);
  });

  it('says "not initialized" while the issuer has no keys, as a transient error', async () => {
    const config0 = parseAuthenticationConfiguration(SIMPLE);
    const notLoaded: KeySource = {
      name: 'not-loaded',
      snapshot: () => undefined,
      refreshForKid: () => Promise.resolve(undefined),
      onChange: () => () => {},
      health: () => ({ name: 'not-loaded', ready: false, keyCount: 0, loads: 0, loadFailures: 1 }),
      close: () => {},
    };
    const a = new OidcAuthenticator({ spec: config0.jwt[0]!, keys: notLoaded, clock: manualClock(NOW_MS) });
    const r = await run(a, claims());
    expect(errorOf(r)).toBe('oidc: authenticator not initialized');
    if (r.outcome === 'error') expect(r.error.transient).toBe(true);
  });
});
