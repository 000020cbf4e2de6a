import { describe, expect, it, vi } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { buildAuthentication } from '../../src/compose/authentication.js';
import { loadOidcParts } from '../../src/compose/oidc-parts.js';
import { authenticationOptions } from '../../src/config/options.js';
import { loadConfig, requireTokenSettings } from '../../src/config/load.js';
import {
  createDiscoveryKeySource,
  discoveryUrlFor,
  parseDiscoveryDocument,
} from '../../src/keys/discovery.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { ISSUER, NOW_MS, boundClaims, mintToken } from '../helpers/tokens.js';
import { json, jwksBody, serverPool } from './jwks-server.js';

const { cleanup, server } = serverPool();

function discoveryDoc(issuer: string, jwksUri: string): string {
  return JSON.stringify({ issuer, jwks_uri: jwksUri, response_types_supported: ['id_token'] });
}

describe('OIDC discovery key source', () => {
  it('builds the well-known URL as OIDC Discovery §4 does', () => {
    expect(discoveryUrlFor('https://a.example')).toBe('https://a.example/.well-known/openid-configuration');
    expect(discoveryUrlFor('https://a.example/')).toBe('https://a.example/.well-known/openid-configuration');
    expect(discoveryUrlFor('https://a.example/tenant')).toBe(
      'https://a.example/tenant/.well-known/openid-configuration',
    );
  });

  it('requires the issuer to match exactly and the jwks_uri to be https', () => {
    const iss = 'https://a.example';
    expect(parseDiscoveryDocument(discoveryDoc(iss, 'https://keys.example/jwks'), iss)).toBe(
      'https://keys.example/jwks',
    );
    for (const other of [
      'https://a.example/',
      'https://A.example',
      'http://a.example',
      ' https://a.example',
    ]) {
      expect(() => parseDiscoveryDocument(discoveryDoc(other, 'https://keys.example/jwks'), iss)).toThrow(
        /another issuer/,
      );
    }
    expect(() => parseDiscoveryDocument(discoveryDoc(iss, 'http://keys.example/jwks'), iss)).toThrow(
      /not https/,
    );
    expect(() => parseDiscoveryDocument(discoveryDoc(iss, 'not a url'), iss)).toThrow(/jwks_uri/);
    expect(() => parseDiscoveryDocument('<html>', iss)).toThrow(/not JSON/);
    expect(() => parseDiscoveryDocument('[]', iss)).toThrow(/object/);
  });

  it('finds the keys through the discovery document, sending the bearer token to both endpoints', async () => {
    const s = await server();
    const key = rsaKey('disc');
    const issuer = s.origin;
    s.respond('/.well-known/openid-configuration', json(discoveryDoc(issuer, `${s.origin}/openid/v1/jwks`)));
    s.respond('/openid/v1/jwks', json(jwksBody([key])));
    const tokenFile = writeFile(tempDir(), 'token', 'projected');
    const src = createDiscoveryKeySource({
      issuer,
      ca: s.tls.ca,
      bearerTokenFile: tokenFile,
      clock: manualClock(NOW_MS),
    });
    cleanup.push(() => src.close());
    expect(await src.whenReady(5_000)).toBe(true);
    expect(src.snapshot()?.byKid.has(key.kid)).toBe(true);
    expect(s.authorizations).toEqual(['Bearer projected', 'Bearer projected']);
    // A healthy refresh costs one request: the jwks_uri is remembered.
    await src.refresh();
    expect(s.hits.get('/.well-known/openid-configuration')).toBe(1);
    expect(s.hits.get('/openid/v1/jwks')).toBe(2);
  });

  it('sends the bearer token only to the origin it was configured for: a jwks_uri elsewhere gets none', async () => {
    const issuer = await server();
    const keys = await server();
    const key = rsaKey('disc');
    const tokenFile = writeFile(tempDir(), 'token', 'projected');
    for (const [name, jwksUri] of [
      ['another port', keys.url],
      ['another host name for the same address and port', `https://localhost:${issuer.port}/elsewhere`],
    ] as const) {
      issuer.authorizations.length = 0;
      keys.authorizations.length = 0;
      issuer.respond('/.well-known/openid-configuration', json(discoveryDoc(issuer.origin, jwksUri)));
      issuer.respond('/elsewhere', json(jwksBody([key])));
      keys.serveKeys([key]);
      const src = createDiscoveryKeySource({
        issuer: issuer.origin,
        ca: issuer.tls.ca + keys.tls.ca,
        bearerTokenFile: tokenFile,
        clock: manualClock(NOW_MS),
      });
      cleanup.push(() => src.close());
      expect(await src.whenReady(5_000), name).toBe(true);
      expect(src.snapshot()?.byKid.has(key.kid), name).toBe(true);
      expect([...issuer.authorizations, ...keys.authorizations], name).toEqual([
        'Bearer projected',
        undefined,
      ]);
    }
  });

  it('refuses a discovery document for another issuer and never fetches its keys', async () => {
    const s = await server();
    s.respond(
      '/.well-known/openid-configuration',
      json(discoveryDoc('https://evil.example', `${s.origin}/jwks`)),
    );
    s.serveKeys([rsaKey('disc')]);
    const src = createDiscoveryKeySource({ issuer: s.origin, ca: s.tls.ca, backoffInitialMs: 10_000 });
    cleanup.push(() => src.close());
    await vi.waitFor(() => expect(src.health().loadFailures).toBe(1), { timeout: 5_000, interval: 10 });
    expect(src.health()).toMatchObject({ ready: false, lastFailureReason: 'invalid-document' });
    expect(s.hits.get('/jwks')).toBeUndefined();
  });

  it('never lets the discovery document point the keys at the metadata address (§3.11)', async () => {
    const s = await server();
    s.respond(
      '/.well-known/openid-configuration',
      json(discoveryDoc(s.origin, 'https://169.254.169.254/latest/meta-data/jwks')),
    );
    // The issuer is a loopback IP written by the operator: loopback is allowed, metadata still is not.
    const src = createDiscoveryKeySource({ issuer: s.origin, ca: s.tls.ca, backoffInitialMs: 10_000 });
    cleanup.push(() => src.close());
    await vi.waitFor(() => expect(src.health().loadFailures).toBe(1), { timeout: 5_000, interval: 10 });
    expect(src.health()).toMatchObject({ ready: false, lastFailureReason: 'refused-address' });
  });

  it('lets the jwks_uri reach loopback by name when the operator wrote a loopback IP for the issuer', async () => {
    const s = await server();
    const key = rsaKey('disc');
    s.respond(
      '/.well-known/openid-configuration',
      json(discoveryDoc(s.origin, `https://localhost:${s.port}/keys`)),
    );
    s.respond('/keys', json(jwksBody([key])));
    const src = createDiscoveryKeySource({ issuer: s.origin, ca: s.tls.ca });
    cleanup.push(() => src.close());
    expect(await src.whenReady(5_000)).toBe(true);
    expect(src.snapshot()?.byKid.has(key.kid)).toBe(true);
  });
});

describe('many issuers, wired from flags', () => {
  it("routes each token by its iss to that issuer's keys only, even when kids collide", async () => {
    const a = await server();
    const b = await server();
    const keyA = rsaKey('issuer-a');
    const keyB = rsaKey('issuer-b');
    // Both endpoints publish their key under the same kid.
    a.respond('/jwks', json(jwksBody([keyA], 'shared-kid')));
    b.respond('/jwks', json(jwksBody([keyB], 'shared-kid')));
    const dir = tempDir();
    const caA = writeFile(dir, 'a.pem', a.tls.ca);
    const caB = writeFile(dir, 'b.pem', b.tls.ca);
    const issA = 'https://issuer-a.example';
    const issB = 'https://issuer-b.example';
    const config = loadConfig('serve', [
      `--service-account-issuer=${issA}`,
      `--service-account-issuer=${issB}`,
      `--service-account-jwks-uri=${issA}=${a.url}`,
      `--service-account-jwks-uri=${issB}=${b.url}`,
      `--service-account-jwks-ca-file=${issA}=${caA}`,
      `--service-account-jwks-ca-file=${issB}=${caB}`,
    ]);
    requireTokenSettings(config);
    const chain = buildAuthentication(authenticationOptions(config), {
      clock: manualClock(NOW_MS),
      watch: false,
    });
    cleanup.push(() => chain.close());
    expect(chain.readiness().every((c) => c.ok)).toBe(false);
    expect(await chain.whenReady(5_000)).toBe(true);
    expect(chain.readiness().every((c) => c.ok)).toBe(true);

    const mint = (key: typeof keyA, iss: string) =>
      mintToken({ key, header: { kid: 'shared-kid' }, claims: boundClaims({ iss, aud: [iss] }) });
    const check = (t: string) => chain.uncached.authenticateToken(t, []);
    expect((await check(mint(keyA, issA))).outcome).toBe('authenticated');
    expect((await check(mint(keyB, issB))).outcome).toBe('authenticated');
    // iss=A signed with B's key under the shared kid: A's keys only, so it fails.
    const mixed = await check(mint(keyB, issA));
    expect(mixed.outcome).toBe('error');
    expect((await check(mint(keyA, issB))).outcome).toBe('error');
  });

  it('reaches a jwks-uri whose name resolves to loopback only with --allow-loopback-key-sources', async () => {
    const s = await server();
    const key = rsaKey('loopback-flag');
    s.serveKeys([key]);
    const ca = writeFile(tempDir(), 'ca.pem', s.tls.ca);
    const flags = [
      `--service-account-issuer=${ISSUER}`,
      `--service-account-jwks-uri=https://localhost:${s.port}/jwks`,
      `--service-account-jwks-ca-file=${ca}`,
    ];
    const build = (extra: string[]) => {
      const config = loadConfig('serve', [...flags, ...extra]);
      const chain = buildAuthentication(authenticationOptions(config), {
        clock: manualClock(NOW_MS),
        watch: false,
      });
      cleanup.push(() => chain.close());
      return { config, chain };
    };
    const refused = build([]);
    expect(refused.config.allowLoopbackKeySources).toBe(false);
    await vi.waitFor(
      () =>
        expect(refused.chain.readiness().map((c) => c.note)).toContain('keys not loaded (refused-address)'),
      { timeout: 5_000, interval: 10 },
    );
    expect(s.connections).toBe(0);

    const allowed = build(['--allow-loopback-key-sources']);
    expect(allowed.config.allowLoopbackKeySources).toBe(true);
    expect(await allowed.chain.whenReady(5_000)).toBe(true);
    expect((await allowed.chain.uncached.authenticateToken(mintToken({ key }), [])).outcome).toBe(
      'authenticated',
    );
  });

  it('refuses a jwks-uri that is not https and a CA file that cannot be read, naming the flag', () => {
    expect(() =>
      loadConfig('serve', [
        '--service-account-issuer=https://a',
        '--service-account-jwks-uri=http://keys.example/jwks',
      ]),
    ).toThrow(/--service-account-jwks-uri: "http:\/\/keys.example\/jwks" is not an https URL/);
    expect(() =>
      loadConfig('serve', [
        '--service-account-issuer=https://a',
        '--service-account-jwks-ca-file=/nonexistent/ca.pem',
      ]),
    ).toThrow(/--service-account-jwks-ca-file: cannot read/);
  });

  it('reads --authentication-config at start and refuses an invalid one (tests in test/authn/oidc)', async () => {
    // buildAuthentication is the synchronous composition: compose() loads these first.
    await loadOidcParts();
    const path = writeFile(
      tempDir(),
      'authn.yaml',
      'apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: http://x}\n',
    );
    const config = loadConfig('serve', [`--authentication-config=${path}`]);
    expect(() =>
      buildAuthentication(authenticationOptions(config), { clock: manualClock(NOW_MS), watch: false }),
    ).toThrow(
      /--authentication-config: .*authn\.yaml: \[jwt\[0\]\.issuer\.url: Invalid value: "http:\/\/x": URL scheme must be https/,
    );
  });

  it('accepts discovery alone as the key source and is not ready until it has loaded', async () => {
    const s = await server();
    const key = rsaKey('disc-flag');
    s.respond('/.well-known/openid-configuration', json(discoveryDoc(s.origin, `${s.origin}/keys`)));
    s.respond('/keys', json(jwksBody([key])));
    const ca = writeFile(tempDir(), 'ca.pem', s.tls.ca);
    const config = loadConfig('serve', [
      `--service-account-issuer=${s.origin}`,
      '--service-account-issuer-discovery',
      `--service-account-jwks-ca-file=${ca}`,
    ]);
    requireTokenSettings(config);
    const chain = buildAuthentication(authenticationOptions(config), {
      clock: manualClock(NOW_MS),
      watch: false,
    });
    cleanup.push(() => chain.close());
    expect(await chain.whenReady(5_000)).toBe(true);
    const token = mintToken({ key, claims: boundClaims({ iss: s.origin, aud: [s.origin] }) });
    expect((await chain.authenticator.authenticateToken(token, [])).outcome).toBe('authenticated');
  });
});
