import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OidcAuthenticator } from '../../../src/authn/oidc/authenticator.js';
import { parseAuthenticationConfiguration } from '../../../src/authn/oidc/config.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildAuthentication } from '../../../src/compose/authentication.js';
import { loadOidcParts } from '../../../src/compose/oidc-parts.js';
import { authenticationOptions } from '../../../src/config/options.js';
import { manualClock, systemClock } from '../../../src/clock.js';
import { createDiscoveryKeySource } from '../../../src/keys/discovery.js';
import { tempDir, writeFile } from '../../helpers/files.js';
import { rsaKey } from '../../helpers/keys.js';
import { startTestServer, tokenReview, type TestServer } from '../../helpers/server.js';
import { boundClaims, ISSUER, mintToken, NOW, NOW_MS, type Claims } from '../../helpers/tokens.js';
import { json, jwksBody, serverPool, type JwksServer } from '../../keys/jwks-server.js';

// buildAuthentication is the synchronous composition: compose() loads these first.
beforeAll(() => loadOidcParts());

const pool = serverPool();
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const IDP_KEY = rsaKey('idp');
const SA_KEY = rsaKey('sa-for-oidc');

/** The CA as a YAML block scalar, indented for `certificateAuthority:` under `issuer:`. */
function block(pem: string): string {
  return `|\n${pem
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}`;
}

function authnConfig(idp: JwksServer, extraIssuer = ''): string {
  return `apiVersion: apiserver.config.k8s.io/v1beta1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: ${idp.origin}
    certificateAuthority: ${block(idp.tls.ca)}
    audiences: [kubernetes]
  claimValidationRules:
  - expression: "claims.?tenant.orValue('') == 'acme'"
    message: wrong tenant
  claimMappings:
    username: {claim: email, prefix: "idp:"}
    groups: {expression: "claims.roles.split(',').map(r, r)"}
    extra:
    - {key: example.com/tenant, valueExpression: "claims.?tenant.orValue('')"}
  userValidationRules:
  - expression: "!user.username.startsWith('system:')"
    message: no system users
${extraIssuer}`;
}

/** An AuthenticationConfiguration with one jwt issuer (`issuer` is its YAML value), sub mapped to the username. */
function oneIssuerConfig(issuer: string): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer: ${issuer}
  claimMappings:
    username: {claim: sub, prefix: "idp:"}
`;
}

async function idpServer(): Promise<JwksServer> {
  const idp = await pool.server();
  idp.respond(
    '/.well-known/openid-configuration',
    json(JSON.stringify({ issuer: idp.origin, jwks_uri: `${idp.origin}/jwks` })),
  );
  idp.serveKeys([IDP_KEY]);
  return idp;
}

function idpClaims(idp: JwksServer, overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: idp.origin,
    aud: 'kubernetes',
    sub: '1234',
    email: 'jane@acme.example',
    email_verified: true,
    roles: 'dev,ops',
    tenant: 'acme',
    exp: now + 600,
    iat: now,
    ...overrides,
  };
}

describe('--authentication-config over HTTP', () => {
  it('discovers the issuer over HTTPS with its CA and answers a TokenReview with the mapped user', async () => {
    const idp = await idpServer();
    const path = writeFile(tempDir(), 'authn.yaml', authnConfig(idp));
    const server = await startTestServer({ keys: [SA_KEY], flags: [`--authentication-config=${path}`] });
    servers.push(server);
    expect(await server.chain.whenReady(5000)).toBe(true);
    expect(idp.hits.get('/.well-known/openid-configuration')).toBe(1);

    const res = await server.review(tokenReview(mintToken({ key: IDP_KEY, claims: idpClaims(idp) })));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { status: Record<string, unknown> };
    expect(body.status).toEqual({
      authenticated: true,
      user: {
        username: 'idp:jane@acme.example',
        groups: ['dev', 'ops', 'system:authenticated'],
        extra: { 'example.com/tenant': ['acme'] },
      },
      // Audience-agnostic, as kube wraps the JWT authenticators: the API audiences.
      audiences: [ISSUER],
    });

    // Claim validation fails: the review says so.
    const wrongTenant = await server.review(
      tokenReview(mintToken({ key: IDP_KEY, claims: idpClaims(idp, { tenant: 'other' }) })),
    );
    const wt = JSON.parse(wrongTenant.body) as { status: { authenticated?: boolean; error?: string } };
    expect(wt.status.authenticated).toBeFalsy();
    expect(wt.status.error).toContain(
      "oidc: error evaluating claim validation expression: validation expression 'claims.?tenant.orValue('') == 'acme'' failed: wrong tenant",
    );
    // No tenant claim at all: the optional's default applies, and the rule fails the same way.
    const noTenant = await server.review(
      tokenReview(mintToken({ key: IDP_KEY, claims: idpClaims(idp, { tenant: undefined }) })),
    );
    expect((JSON.parse(noTenant.body) as { status: { error?: string } }).status.error).toContain(
      "validation expression 'claims.?tenant.orValue('') == 'acme'' failed: wrong tenant",
    );

    // A requested audience outside the API audiences: the JWT authenticators have no opinion (audagnostic.go).
    const other = await server.review(
      tokenReview(mintToken({ key: IDP_KEY, claims: idpClaims(idp) }), ['https://elsewhere.example']),
    );
    expect(
      (JSON.parse(other.body) as { status: { authenticated?: boolean } }).status.authenticated,
    ).toBeFalsy();

    // Service-account tokens still come first in the union and still work.
    const sa = await server.review(
      tokenReview(
        mintToken({
          key: SA_KEY,
          claims: boundClaims({ exp: Math.floor(Date.now() / 1000) + 600, nbf: undefined, iat: undefined }),
        }),
      ),
    );
    expect((JSON.parse(sa.body) as { status: { user?: { username?: string } } }).status.user?.username).toBe(
      'system:serviceaccount:ns1:app',
    );

    // The IdP's token signed with the service-account key (kid included) is not believed.
    const forged = await server.review(
      tokenReview(mintToken({ key: SA_KEY, header: { kid: IDP_KEY.kid }, claims: idpClaims(idp) })),
    );
    const f = JSON.parse(forged.body) as { status: { authenticated?: boolean; error?: string } };
    expect(f.status.authenticated).toBeFalsy();
    expect(f.status.error).toContain('failed to verify id token signature');
    expect(server.logs.text()).not.toContain(
      mintToken({ key: IDP_KEY, claims: idpClaims(idp) }).split('.')[2],
    );
  });

  it('uses discoveryURL as given, and lists the issuer in /readyz', async () => {
    const idp = await pool.server();
    idp.respond(
      '/elsewhere/openid-configuration',
      json(JSON.stringify({ issuer: idp.origin, jwks_uri: `${idp.origin}/jwks` })),
    );
    idp.serveKeys([IDP_KEY]);
    const yaml = authnConfig(idp)
      .replace(`claims.?tenant.orValue('') == 'acme'`, `claims.tenant == 'acme'`)
      .replace(
        `    audiences: [kubernetes]`,
        `    discoveryURL: ${idp.origin}/elsewhere/openid-configuration\n    audiences: [kubernetes]`,
      );
    const path = writeFile(tempDir(), 'authn.yaml', yaml);
    const server = await startTestServer({ keys: [SA_KEY], flags: [`--authentication-config=${path}`] });
    servers.push(server);
    expect(await server.chain.whenReady(5000)).toBe(true);
    expect(idp.hits.get('/elsewhere/openid-configuration')).toBe(1);
    expect(idp.hits.get('/.well-known/openid-configuration')).toBeUndefined();
    const ready = await server.request({ method: 'GET', path: '/readyz?verbose' });
    expect(ready.body).toContain('jwt-issuer-keys-0');
    const res = await server.review(tokenReview(mintToken({ key: IDP_KEY, claims: idpClaims(idp) })));
    expect((JSON.parse(res.body) as { status: { authenticated?: boolean } }).status.authenticated).toBe(true);
  });

  it('takes new key material under a known kid after one refetch, and a bad-signature flood costs one fetch per cooldown', async () => {
    const idp = await pool.server();
    idp.respond(
      '/.well-known/openid-configuration',
      json(JSON.stringify({ issuer: idp.origin, jwks_uri: `${idp.origin}/jwks` })),
    );
    idp.respond('/jwks', json(jwksBody([IDP_KEY], 'idp-kid')));
    const clock = manualClock(NOW_MS);
    const keys = createDiscoveryKeySource({ issuer: idp.origin, ca: idp.tls.ca, clock });
    pool.cleanup.push(() => keys.close());
    const spec = parseAuthenticationConfiguration(
      oneIssuerConfig(`{url: "${idp.origin}", audiences: [kubernetes]}`),
    ).jwt[0]!;
    const oidc = new OidcAuthenticator({ spec, keys, clock });
    const next = rsaKey('idp-next');
    expect(await keys.whenReady(5000)).toBe(true);
    const claims = { iss: idp.origin, aud: 'kubernetes', sub: 'jane', exp: NOW + 600, iat: NOW };
    const token = (key = IDP_KEY) => mintToken({ key, header: { kid: 'idp-kid' }, claims });
    const signatureError =
      'oidc: verify token: failed to verify signature: failed to verify id token signature';

    // Tokens of the next key before the IdP publishes it: bad signatures under a known kid,
    // at most one fetch per cooldown, kube's text every time.
    const flood = () => Promise.all(Array.from({ length: 200 }, () => oidc.authenticateToken(token(next))));
    for (const r of await flood()) expect(r.outcome === 'error' && r.error.message).toBe(signatureError);
    expect(idp.hits.get('/jwks')).toBe(2);
    for (const r of await flood()) expect(r.outcome === 'error' && r.error.message).toBe(signatureError);
    expect(idp.hits.get('/jwks')).toBe(2);

    idp.respond('/jwks', json(jwksBody([next], 'idp-kid')));
    clock.advance(5_000);
    expect(await oidc.authenticateToken(token(next))).toMatchObject({ outcome: 'authenticated' });
    expect(idp.hits.get('/jwks')).toBe(3);
    for (const r of await flood()) expect(r.outcome).toBe('authenticated');
    const old = await oidc.authenticateToken(token(IDP_KEY));
    expect(old.outcome === 'error' && old.error.message).toBe(signatureError);
    expect(idp.hits.get('/jwks')).toBe(3);
    expect(idp.hits.get('/.well-known/openid-configuration')).toBe(1);
  });

  it('discovers an issuer whose name resolves to loopback only with --allow-loopback-key-sources (§3.11)', async () => {
    const idp = await pool.server();
    const issuer = `https://localhost:${idp.port}`;
    idp.respond(
      '/.well-known/openid-configuration',
      json(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` })),
    );
    idp.serveKeys([IDP_KEY]);
    const path = writeFile(
      tempDir(),
      'authn.yaml',
      oneIssuerConfig(`
    url: ${issuer}
    certificateAuthority: ${block(idp.tls.ca)}
    audiences: [kubernetes]`),
    );
    const chainWith = (flags: string[]) => {
      const chain = buildAuthentication(
        authenticationOptions(loadConfig('serve', [`--authentication-config=${path}`, ...flags])),
        {
          clock: systemClock,
          watch: false,
        },
      );
      pool.cleanup.push(() => chain.close());
      return chain;
    };
    const refused = chainWith([]);
    await vi.waitFor(
      () => expect(refused.readiness().map((c) => c.note)).toContain('keys not loaded (refused-address)'),
      { timeout: 5_000, interval: 10 },
    );
    expect(idp.connections).toBe(0);
    expect(await chainWith(['--allow-loopback-key-sources']).whenReady(5_000)).toBe(true);
  });

  it('refuses at start an issuer that is also a --service-account-issuer (kubernetes/kubernetes#123561)', () => {
    const path = writeFile(tempDir(), 'authn.yaml', oneIssuerConfig(`{url: "${ISSUER}", audiences: [x]}`));
    const key = writeFile(tempDir(), 'sa.pub', SA_KEY.publicPem);
    const config = loadConfig('serve', [
      `--service-account-issuer=${ISSUER}`,
      `--service-account-key-file=${key}`,
      `--authentication-config=${path}`,
    ]);
    expect(() =>
      buildAuthentication(authenticationOptions(config), { clock: systemClock, watch: false }),
    ).toThrow(
      `jwt[0].issuer.url: Invalid value: "${ISSUER}": URL must not overlap with disallowed issuers: [${ISSUER}]`,
    );
  });
});
