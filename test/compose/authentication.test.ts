import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { buildAuthentication } from '../../src/compose/authentication.js';
import { loadLiveParts } from '../../src/compose/live-parts.js';
import { authenticationOptions } from '../../src/config/options.js';
import { loadConfig, requireTokenSettings } from '../../src/config/load.js';
import { FileKeySource } from '../../src/keys/file.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { rsaKey, type TestKey } from '../helpers/keys.js';
import { startFakeApiserver, type FakeApiserver } from '../helpers/fake-apiserver.js';
import {
  boundClaims,
  ISSUER,
  legacyClaims,
  mintToken,
  NOW_MS,
  OTHER_ISSUER,
  POD_UID,
  SA_UID,
} from '../helpers/tokens.js';
import { jwksBody, startJwksServer } from '../keys/jwks-server.js';

/** The chain `serve` would build from these flags, with a key file holding `keys`. */
function chainFor(flags: string[], keys: TestKey[] = [rsaKey()]) {
  const keyFile = writeFile(tempDir(), 'sa.pub', keys.map((k) => k.publicPem).join(''));
  const config = loadConfig('serve', ['--service-account-key-file', keyFile, ...flags]);
  const chain = buildAuthentication(authenticationOptions(config), {
    clock: manualClock(NOW_MS),
    watch: false,
  });
  return { chain, keyFile, config };
}

const outcome = async (
  chain: ReturnType<typeof chainFor>['chain'],
  token: string,
  audiences: string[] = [],
) => {
  const r = await chain.authenticator.authenticateToken(token, audiences);
  return r.outcome === 'error' ? r.error.message : r;
};

describe('buildAuthentication', () => {
  it('verifies every issuer with the key files, and defaults the API audiences to all issuers', async () => {
    const { chain, config } = chainFor([
      '--service-account-issuer',
      ISSUER,
      '--service-account-issuer',
      OTHER_ISSUER,
    ]);
    expect(config.apiAudiences).toEqual([ISSUER, OTHER_ISSUER]);
    const other = mintToken({ claims: boundClaims({ iss: OTHER_ISSUER, aud: [OTHER_ISSUER] }) });
    expect(await outcome(chain, other)).toMatchObject({
      outcome: 'authenticated',
      audiences: [OTHER_ISSUER],
    });
    expect(await outcome(chain, mintToken())).toMatchObject({
      outcome: 'authenticated',
      audiences: [ISSUER],
    });
    chain.close();
  });

  it('takes the implicit audiences from --api-audiences when given', async () => {
    const { chain, config } = chainFor(['--service-account-issuer', ISSUER, '--api-audiences', 'api,vault']);
    expect(config.apiAudiences).toEqual(['api', 'vault']);
    expect(await outcome(chain, mintToken())).toBe(
      `token audiences ["${ISSUER}"] is invalid for the target audiences ["api" "vault"]`,
    );
    expect(await outcome(chain, mintToken({ claims: boundClaims({ aud: ['vault'] }) }))).toMatchObject({
      audiences: ['vault'],
    });
    chain.close();
  });

  it('adds system:authenticated to every success', async () => {
    const { chain } = chainFor(['--service-account-issuer', ISSUER]);
    expect(await outcome(chain, mintToken())).toMatchObject({
      user: { groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'] },
    });
    chain.close();
  });

  it('honours --service-account-legacy-tokens', async () => {
    const legacy = mintToken({ claims: legacyClaims() });
    const rejecting = chainFor(['--service-account-issuer', ISSUER]).chain;
    expect(await outcome(rejecting, legacy)).toBe('legacy service account tokens are not accepted');
    const accepting = chainFor([
      '--service-account-issuer',
      ISSUER,
      '--service-account-legacy-tokens',
      'accept',
    ]).chain;
    expect(await outcome(accepting, legacy)).toMatchObject({ outcome: 'authenticated' });
    rejecting.close();
    accepting.close();
  });

  it('empties the cache when the key files change, so a removed key stops working at once', async () => {
    const { chain, keyFile } = chainFor(['--service-account-issuer', ISSUER], [rsaKey('a')]);
    const token = mintToken({ key: rsaKey('a') });
    expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' });
    expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' });
    expect(chain.authenticator.stats().hits).toBe(1);

    replaceFile(keyFile, rsaKey('b').publicPem);
    const files = chain.keySources.find((s): s is FileKeySource => s instanceof FileKeySource);
    expect(files?.reload()).toBe(true);
    expect(await outcome(chain, token)).toBe('invalid signature, no keys found');
    chain.close();
  });

  it('empties the cache when a JWKS brings a new key set, so a key removed there stops working at once', async () => {
    const jwks = await startJwksServer();
    jwks.serveKeys([rsaKey('a')]);
    const config = loadConfig('serve', [
      '--service-account-issuer',
      ISSUER,
      '--service-account-jwks-uri',
      jwks.url,
      '--service-account-jwks-ca-file',
      writeFile(tempDir(), 'ca.pem', jwks.tls.ca),
    ]);
    const chain = buildAuthentication(authenticationOptions(config), {
      clock: manualClock(NOW_MS),
      watch: false,
    });
    try {
      expect(await chain.whenReady(5_000)).toBe(true);
      const token = mintToken({ key: rsaKey('a') });
      expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' });
      expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' });
      expect(chain.authenticator.stats().hits).toBe(1);

      jwks.serveKeys([rsaKey('b')]);
      // The new key's unknown kid makes the source fetch the set without the old key.
      expect(await outcome(chain, mintToken({ key: rsaKey('b') }))).toMatchObject({
        outcome: 'authenticated',
      });
      expect(await outcome(chain, token)).toBe('invalid signature, no keys found');
    } finally {
      chain.close();
      await jwks.close();
    }
  });
});

describe('buildAuthentication in live mode (--kubeconfig)', () => {
  async function live(extra: string[] = [], before: (s: FakeApiserver) => void = () => {}) {
    // As compose() does before composing live mode.
    await loadLiveParts();
    const server = await startFakeApiserver(tempDir());
    before(server);
    server.put('serviceaccounts', { metadata: { name: 'app', namespace: 'ns1', uid: SA_UID } });
    server.put('pods', { metadata: { name: 'app-7d9', namespace: 'ns1', uid: POD_UID } });
    const { chain } = chainFor([
      '--service-account-issuer',
      ISSUER,
      '--kubeconfig',
      server.kubeconfig,
      ...extra,
    ]);
    onTestFinished(async () => {
      chain.close();
      await server.close();
    });
    return { server, chain };
  }

  it('is not ready, and accepts no token, until the watch caches have listed', async () => {
    const { server, chain } = await live(['--live-staleness-bound', '1h'], (s) => s.fail('pods', true));
    expect(chain.readiness().find((c) => c.name === 'cluster-objects')).toMatchObject({ ok: false });
    expect(await outcome(chain, mintToken())).toBe('cluster state not yet available');
    server.fail('pods', false);
    expect(await chain.whenReady(10_000)).toBe(true);
    expect(chain.readiness().find((c) => c.name === 'cluster-objects')).toMatchObject({ ok: true });
    // Without a note once every watch is open after its list.
    await vi.waitFor(() =>
      expect(chain.readiness().find((c) => c.name === 'cluster-objects')).toEqual({
        name: 'cluster-objects',
        ok: true,
      }),
    );
  });

  it('accepts a pod-bound token while its pod lives, and refuses it once a watch event says the pod is gone', async () => {
    const { server, chain } = await live();
    await chain.whenReady(10_000);
    const token = mintToken();
    expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' });
    server.remove('pods', 'ns1', 'app-7d9');
    await vi.waitFor(async () =>
      expect(await outcome(chain, token)).toBe('service account token has been invalidated'),
    );
  });

  it('refuses a token whose service account was recreated with a new uid', async () => {
    const { server, chain } = await live();
    await chain.whenReady(10_000);
    const token = mintToken();
    expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' });
    server.put('serviceaccounts', { metadata: { name: 'app', namespace: 'ns1', uid: 'new-uid' } });
    await vi.waitFor(async () =>
      expect(await outcome(chain, token)).toBe(
        `service account UID (new-uid) does not match claim (${SA_UID})`,
      ),
    );
  });

  it('accepts a legacy token only while its Secret holds it', async () => {
    const { server, chain } = await live(['--service-account-legacy-tokens', 'accept']);
    await chain.whenReady(10_000);
    const token = mintToken({ claims: legacyClaims() });
    expect(await outcome(chain, token)).toBe('Token has been invalidated');
    server.put('secrets', {
      metadata: { name: 'app-token-42nbt', namespace: 'ns1', uid: 's1' },
      data: { token: Buffer.from(token).toString('base64') },
    });
    await vi.waitFor(async () =>
      expect(await outcome(chain, token)).toMatchObject({ outcome: 'authenticated' }),
    );
  });
});

describe("buildAuthentication in live mode without a key source (the apiserver's issuer and keys)", () => {
  async function discovering(flags: string[] = [], before: (s: FakeApiserver) => void = () => {}) {
    await loadLiveParts();
    const server = await startFakeApiserver(tempDir());
    server.put('serviceaccounts', { metadata: { name: 'app', namespace: 'ns1', uid: SA_UID } });
    server.put('pods', { metadata: { name: 'app-7d9', namespace: 'ns1', uid: POD_UID } });
    before(server);
    const config = loadConfig('serve', ['--kubeconfig', server.kubeconfig, ...flags]);
    requireTokenSettings(config);
    const chain = buildAuthentication(authenticationOptions(config), {
      clock: manualClock(NOW_MS),
      watch: false,
    });
    onTestFinished(async () => {
      chain.close();
      await server.close();
    });
    return { server, chain };
  }
  const keysCheck = (chain: Awaited<ReturnType<typeof discovering>>['chain']) =>
    chain.readiness().find((c) => c.name.startsWith('service-account-keys'));

  it('takes the issuer from the discovery document and the keys from /openid/v1/jwks on the apiserver, with the kubeconfig credentials', async () => {
    const { server, chain } = await discovering([], (s) => s.serveIssuer(ISSUER, jwksBody([rsaKey()])));
    expect(await chain.whenReady(10_000)).toBe(true);
    // kube's default: the implicit audiences are the issuer.
    expect(chain.apiAudiences).toEqual([ISSUER]);
    expect(await outcome(chain, mintToken())).toMatchObject({
      outcome: 'authenticated',
      audiences: [ISSUER],
    });
    expect(await outcome(chain, mintToken({ claims: boundClaims({ aud: ['vault'] }) }))).toBe(
      `token audiences ["vault"] is invalid for the target audiences ["${ISSUER}"]`,
    );
    // The document's jwks_uri names the issuer's own host; the keys came from the apiserver.
    expect(server.hits.get('/openid/v1/jwks')).toBeGreaterThan(0);
    const other = mintToken({ claims: boundClaims({ iss: OTHER_ISSUER, aud: [OTHER_ISSUER] }) });
    expect(await outcome(chain, other)).toEqual({ outcome: 'no-opinion' });
    expect(keysCheck(chain)).toMatchObject({ ok: true });
  });

  it('is not ready, and answers a transient error, never a success, until the first keys arrive', async () => {
    const { server, chain } = await discovering([], (s) => s.unreachable(true));
    expect(keysCheck(chain)).toMatchObject({ ok: false });
    const first = await chain.authenticator.authenticateToken(mintToken(), []);
    expect(first).toMatchObject({
      outcome: 'error',
      error: { code: 'ERR_KEYS_UNAVAILABLE', transient: true },
    });
    server.serveIssuer(ISSUER, jwksBody([rsaKey()]));
    server.unreachable(false);
    await chain.loadOnce();
    await vi.waitFor(() => expect(keysCheck(chain)).toMatchObject({ ok: true }));
    expect(await chain.whenReady(10_000)).toBe(true);
    expect(await outcome(chain, mintToken())).toMatchObject({ outcome: 'authenticated' });
  });

  it('refetches the keys for an unknown kid, so a key the cluster rotated in verifies', async () => {
    const { server, chain } = await discovering([], (s) => s.serveIssuer(ISSUER, jwksBody([rsaKey('a')])));
    expect(await chain.whenReady(10_000)).toBe(true);
    server.serveIssuer(ISSUER, jwksBody([rsaKey('a'), rsaKey('b')]));
    expect(await outcome(chain, mintToken({ key: rsaKey('b') }))).toMatchObject({
      outcome: 'authenticated',
    });
  });

  it('with --service-account-issuer given, serves those issuers with the apiserver keys, and only if the apiserver names one of them', async () => {
    const named = await discovering(
      ['--service-account-issuer', OTHER_ISSUER, '--service-account-issuer', ISSUER],
      (s) => s.serveIssuer(ISSUER, jwksBody([rsaKey()])),
    );
    expect(await named.chain.whenReady(10_000)).toBe(true);
    expect(named.chain.apiAudiences).toEqual([OTHER_ISSUER, ISSUER]);
    expect(await outcome(named.chain, mintToken())).toMatchObject({ outcome: 'authenticated' });

    const other = await discovering(['--service-account-issuer', OTHER_ISSUER], (s) =>
      s.serveIssuer(ISSUER, jwksBody([rsaKey()])),
    );
    expect(await other.chain.loadOnce()).toBe(false);
    expect(keysCheck(other.chain)).toMatchObject({ ok: false, note: 'keys not loaded (invalid-document)' });
    expect(await outcome(other.chain, mintToken({ claims: boundClaims({ iss: OTHER_ISSUER }) }))).toBe(
      'keys for issuer not yet available',
    );
  });

  it('reads nothing from the apiserver when a key source is given: explicit configuration wins', async () => {
    const keyFile = writeFile(tempDir(), 'sa.pub', rsaKey().publicPem);
    const { server, chain } = await discovering(
      ['--service-account-issuer', ISSUER, '--service-account-key-file', keyFile],
      (s) => s.serveIssuer(ISSUER, jwksBody([rsaKey('other')])),
    );
    expect(await chain.whenReady(10_000)).toBe(true);
    expect(await outcome(chain, mintToken())).toMatchObject({ outcome: 'authenticated' });
    expect(server.hits.get('/.well-known/openid-configuration')).toBeUndefined();
    expect(server.hits.get('/openid/v1/jwks')).toBeUndefined();
  });
});
