import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadClusterConfig } from '../../src/live/cluster-config.js';
import { ClusterKeySource, issuerOf } from '../../src/live/cluster-keys.js';
import { startFakeApiserver, type FakeApiserver } from '../helpers/fake-apiserver.js';
import { tempDir } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { ISSUER, OTHER_ISSUER } from '../helpers/tokens.js';
import { jwksBody } from '../keys/jwks-server.js';

let server: FakeApiserver | undefined;
let source: ClusterKeySource | undefined;
afterEach(async () => {
  source?.close();
  source = undefined;
  await server?.close();
  server = undefined;
});

describe('issuerOf', () => {
  it('takes the issuer of the discovery document, checked against the configured ones', () => {
    expect(issuerOf(JSON.stringify({ issuer: ISSUER }), [])).toBe(ISSUER);
    expect(issuerOf(JSON.stringify({ issuer: ISSUER }), [OTHER_ISSUER, ISSUER])).toBe(ISSUER);
    expect(() => issuerOf(JSON.stringify({ issuer: ISSUER }), [OTHER_ISSUER])).toThrow(
      'the discovery document names another issuer than those configured',
    );
  });

  it.each([
    ['not JSON', '{"issuer":', 'the discovery document is not JSON'],
    ['an array', '[]', 'the discovery document has no issuer'],
    ['an empty issuer', '{"issuer":""}', 'the discovery document has no issuer'],
    ['an issuer that is not a string', '{"issuer":1}', 'the discovery document has no issuer'],
    ['an inherited issuer', '{"__proto__":{"issuer":"x"}}', 'the discovery document has no issuer'],
  ])('refuses a document that is %s', (_, text, message) => {
    expect(() => issuerOf(text, [])).toThrow(message);
  });
});

describe('ClusterKeySource', () => {
  it("loads the apiserver's keys and names its issuer only once they are in", async () => {
    server = await startFakeApiserver(tempDir());
    server.serveIssuer(ISSUER, jwksBody([rsaKey()]));
    source = new ClusterKeySource(loadClusterConfig(server.kubeconfig), { issuers: [] });
    expect(source.issuer()).toBeUndefined();
    expect(await source.whenReady(10_000)).toBe(true);
    expect(source.issuer()).toBe(ISSUER);
    expect(source.snapshot()?.keys.map((k) => k.kid)).toEqual([rsaKey().kid]);
  });

  it('presents the kubeconfig credentials: without them the apiserver refuses and no keys load', async () => {
    server = await startFakeApiserver(tempDir());
    server.serveIssuer(ISSUER, jwksBody([rsaKey()]));
    const anonymous = JSON.parse(readFileSync(server.kubeconfig, 'utf8')) as { users: { user: object }[] };
    anonymous.users[0]!.user = {};
    const file = `${tempDir()}/kubeconfig`;
    writeFileSync(file, JSON.stringify(anonymous));
    source = new ClusterKeySource(loadClusterConfig(file), { issuers: [], autoStart: false });
    await source.refresh();
    expect(source.health()).toMatchObject({ ready: false, lastFailureReason: 'status' });
    expect(source.issuer()).toBeUndefined();
  });

  it('follows an apiserver restarted with another issuer, telling its listeners', async () => {
    server = await startFakeApiserver(tempDir());
    server.serveIssuer(ISSUER, jwksBody([rsaKey()]));
    source = new ClusterKeySource(loadClusterConfig(server.kubeconfig), { issuers: [], autoStart: false });
    const seen: string[] = [];
    source.onIssuerChange((issuer) => seen.push(issuer));
    await source.refresh();
    server.serveIssuer(OTHER_ISSUER, jwksBody([rsaKey()]));
    await source.refresh();
    expect(source.issuer()).toBe(OTHER_ISSUER);
    expect(seen).toEqual([OTHER_ISSUER]);
  });
});
