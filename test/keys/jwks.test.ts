import { describe, expect, it, vi } from 'vitest';
import { manualClock, type Clock } from '../../src/clock.js';
import { ServiceAccountAuthenticator } from '../../src/authn/serviceaccount/authenticator.js';
import { fetchDocument, parseMaxAge } from '../../src/keys/fetch.js';
import { CRYPTO_FAILURE } from '../../src/authn/jwt/verify.js';
import { createJwksKeySource, type RemoteKeySource } from '../../src/keys/jwks.js';
import type { KeySource } from '../../src/keys/key-source.js';
import { MergedKeySource } from '../../src/keys/merged.js';
import { rsaKey, ecKey, staticSource } from '../helpers/keys.js';
import { ISSUER, NOW_MS, boundClaims, mintToken } from '../helpers/tokens.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { json, jwksBody, serverPool, startJwksServer, type JwksServer } from './jwks-server.js';

const k1 = rsaKey('jwks-1');
const k2 = rsaKey('jwks-2');
const { cleanup, server } = serverPool();

/** The service-account authenticator of one issuer whose keys come from `keys`. */
function saAuthenticator(keys: KeySource, clock: Clock): ServiceAccountAuthenticator {
  return new ServiceAccountAuthenticator({
    issuers: new Map([[ISSUER, keys]]),
    legacy: 'reject',
    implicitAudiences: [ISSUER],
    clock,
  });
}

function source(s: JwksServer, extra: Partial<Parameters<typeof createJwksKeySource>[0]> = {}) {
  const clock = manualClock(NOW_MS);
  const src = createJwksKeySource({
    url: s.url,
    ca: s.tls.ca,
    clock,
    backoffInitialMs: 20,
    backoffMaxMs: 40,
    random: () => 0.5,
    ...extra,
  });
  cleanup.push(() => src.close());
  const authn = saAuthenticator(src, clock);
  const check = async (token: string) => authn.authenticateToken(token, []);
  return { src, clock, check };
}

const loaded = async (src: RemoteKeySource) => {
  expect(await src.whenReady(5_000)).toBe(true);
};

describe('remote JWKS key source', () => {
  it('loads the keys, verifies a token and reports itself ready', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, check } = source(s);
    await loaded(src);
    expect(src.health()).toMatchObject({ ready: true, keyCount: 1, loads: 1, loadFailures: 0 });
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
  });

  it('picks up a rotated-in kid on first use at once after start, and rejects a removed kid after the next refresh', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, check } = source(s);
    await loaded(src);
    s.serveKeys([k1, k2]);
    // No time passes: the start-up fetch does not hold back the fetch for a rotated-in key.
    const tokens = Array.from({ length: 50 }, () => mintToken({ key: k2 }));
    const results = await Promise.all(tokens.map(check));
    expect(results.every((r) => r.outcome === 'authenticated')).toBe(true);
    expect(s.hits.get('/jwks')).toBe(2); // 50 concurrent new-kid tokens, one fetch

    s.serveKeys([k2]);
    await src.refresh();
    const old = await check(mintToken({ key: k1 }));
    expect(old.outcome).toBe('error');
    expect(old.outcome === 'error' && old.error.message).toBe('invalid signature, no keys found');
    expect((await check(mintToken({ key: k2 }))).outcome).toBe('authenticated');
  });

  it('stops verifying a removed key as soon as an unknown-kid fetch brings a set without it', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, check } = source(s);
    await loaded(src);
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
    s.serveKeys([k2]);
    expect((await check(mintToken({ key: k2 }))).outcome).toBe('authenticated');
    const old = await check(mintToken({ key: k1 }));
    expect(old.outcome === 'error' && old.error.message).toBe('invalid signature, no keys found');
    expect(s.hits.get('/jwks')).toBe(2);
  });

  it('notifies listeners only when the key set really changes', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src } = source(s);
    await loaded(src);
    const seen: number[] = [];
    src.onChange((snap) => seen.push(snap.generation));
    await src.refresh();
    expect(seen).toEqual([]);
    s.serveKeys([k1, k2]);
    await src.refresh();
    expect(seen).toEqual([2]);
  });

  it('bounds an unknown-kid flood to one fetch per 5 s cooldown, healthy and failing', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, clock, check } = source(s);
    await loaded(src);
    const flood = () =>
      Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          check(mintToken({ key: k1, header: { kid: `random-${i}-${Math.random()}` } })),
        ),
      );
    let results = await flood();
    expect(results.every((r) => r.outcome === 'error')).toBe(true);
    expect(s.hits.get('/jwks')).toBe(2); // 200 unknown kids, one fetch
    clock.advance(4_999);
    results = await flood();
    expect(s.hits.get('/jwks')).toBe(2); // on cooldown
    clock.advance(1);
    results = await flood();
    expect(s.hits.get('/jwks')).toBe(3);

    s.respond('/jwks', (_q, res) => res.writeHead(500).end());
    clock.advance(5_000);
    await flood();
    await flood();
    expect(s.hits.get('/jwks')).toBe(4); // failing source: still one attempt per cooldown
    expect(results.every((r) => r.outcome === 'error')).toBe(true);
    // Known kids still verify throughout.
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
  });

  it('refreshes once when the source rotates the key material under the same kid, and accepts the new key', async () => {
    const s = await server();
    s.respond('/jwks', json(jwksBody([k1], 'rotating')));
    const { src, check } = source(s);
    await loaded(src);
    expect((await check(mintToken({ key: k1, header: { kid: 'rotating' } }))).outcome).toBe('authenticated');
    s.respond('/jwks', json(jwksBody([k2], 'rotating')));
    const tokens = Array.from({ length: 50 }, () => mintToken({ key: k2, header: { kid: 'rotating' } }));
    const results = await Promise.all(tokens.map(check));
    expect(results.every((r) => r.outcome === 'authenticated')).toBe(true);
    expect(s.hits.get('/jwks')).toBe(2); // 50 concurrent tokens on the new material, one fetch
    // The old material is gone: its tokens fail, and cost nothing while the cooldown runs.
    const old = await check(mintToken({ key: k1, header: { kid: 'rotating' } }));
    expect(old.outcome === 'error' && old.error.message).toBe(CRYPTO_FAILURE);
    expect(s.hits.get('/jwks')).toBe(2);
  });

  it('bounds a flood of bad signatures under a known kid to one fetch per cooldown, with the same error', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, clock, check } = source(s);
    await loaded(src);
    // Signed by k2 but naming k1's kid: the signature can never verify.
    const flood = () =>
      Promise.all(Array.from({ length: 200 }, () => check(mintToken({ key: k2, header: { kid: k1.kid } }))));
    const expectRejected = (results: Awaited<ReturnType<typeof flood>>) => {
      for (const r of results) expect(r.outcome === 'error' && r.error.message).toBe(CRYPTO_FAILURE);
    };
    expectRejected(await flood());
    expect(s.hits.get('/jwks')).toBe(2); // 200 bad signatures, one fetch
    clock.advance(4_999);
    expectRejected(await flood());
    expect(s.hits.get('/jwks')).toBe(2); // on cooldown
    clock.advance(1);
    expectRejected(await flood());
    expect(s.hits.get('/jwks')).toBe(3);

    // The text is the one a key source with nothing to refresh gives.
    const offline = saAuthenticator(staticSource(k1), clock);
    const bad = mintToken({ key: k2, header: { kid: k1.kid } });
    const today = await offline.authenticateToken(bad, []);
    const remote = await check(bad);
    expect(remote.outcome === 'error' && remote.error).toEqual(today.outcome === 'error' && today.error);
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
  });

  it('never refreshes a remote source for a bad signature under a kid that only a key file serves', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, clock } = source(s);
    await loaded(src);
    const authn = saAuthenticator(new MergedKeySource('issuer', [staticSource(k2), src]), clock);
    clock.advance(60_000);
    const r = await authn.authenticateToken(mintToken({ key: k1, header: { kid: k2.kid } }), []);
    expect(r.outcome === 'error' && r.error.message).toBe(CRYPTO_FAILURE);
    expect(s.hits.get('/jwks')).toBe(1);
  });

  it('is not ready while the source is down at start, then ready once it comes up', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const port = s.port;
    await s.close();
    const { src, check } = source(s);
    await vi.waitFor(() => expect(src.health().loadFailures).toBeGreaterThan(0), {
      timeout: 5_000,
      interval: 10,
    });
    expect(src.health()).toMatchObject({ ready: false, lastFailureReason: 'network' });
    const early = await check(mintToken({ key: k1 }));
    expect(early.outcome === 'error' && early.error.message).toBe('keys for issuer not yet available');
    expect(early.outcome === 'error' && early.error.transient).toBe(true);

    await s.reopen();
    expect(s.port).toBe(port);
    // Retries follow the (test-sized) backoff; no sleeping in the test, just a bounded wait.
    await loaded(src);
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
  });

  it('keeps verifying known kids while the source is down mid-run, and reports the staleness', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, clock, check } = source(s);
    await loaded(src);
    await s.close();
    clock.advance(45_000);
    await src.refresh();
    const h = src.health();
    expect(h).toMatchObject({ ready: true, keyCount: 1, lastFailureReason: 'network' });
    expect(clock.now() - h.lastSuccess!).toBe(45_000);
    for (let i = 0; i < 20; i++) expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
  });

  it('answers known kids at once while a fetch stalls, and aborts the stalled fetch at its deadline', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, clock, check } = source(s, { timeoutMs: 300 });
    await loaded(src);
    s.respond('/jwks', () => {
      /* never answers */
    });
    clock.advance(31_000);
    const stalled = check(mintToken({ key: k2 })); // unknown kid: waits for the fetch
    let stalledDone = false;
    void stalled.then(() => (stalledDone = true));
    const known = await check(mintToken({ key: k1 }));
    expect(known.outcome).toBe('authenticated');
    expect(stalledDone).toBe(false);
    const r = await stalled;
    expect(r.outcome).toBe('error');
    expect(src.health()).toMatchObject({ ready: true, lastFailureReason: 'timeout' });
  });

  it('also cuts off a body that trickles past the deadline', async () => {
    const s = await server();
    s.respond('/jwks', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
      // never ends
    });
    await expect(
      fetchDocument(s.url, { ca: s.tls.ca, timeoutMs: 200, maxBytes: 1024, allowLoopback: true }),
    ).rejects.toMatchObject({ reason: 'timeout' });
  });

  const garbage: Array<[string, (s: JwksServer) => void, string]> = [
    [
      'an HTML login page',
      (s) =>
        s.respond('/jwks', (_q, res) =>
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
        ),
      'content-type',
    ],
    [
      '5 MB of JSON',
      (s) => s.respond('/jwks', json(`{"keys":[],"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`)),
      'too-large',
    ],
    [
      '5 MB streamed without a length',
      (s) =>
        s.respond('/jwks', (_q, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = 'x'.repeat(64 * 1024);
          let sent = 0;
          const pump = (): void => {
            while (sent < 80 && res.write(chunk)) sent++;
            if (sent < 80) res.once('drain', pump);
            else res.end();
          };
          pump();
        }),
      'too-large',
    ],
    ['truncated JSON', (s) => s.respond('/jwks', json('{"keys":[{"kty":"RSA"')), 'invalid-document'],
    ['a JSON array', (s) => s.respond('/jwks', json('[]')), 'invalid-document'],
    ['keys that is a string', (s) => s.respond('/jwks', json('{"keys":"x"}')), 'invalid-document'],
    ['an empty key set', (s) => s.respond('/jwks', json('{"keys":[]}')), 'empty-key-set'],
    [
      'only symmetric keys',
      (s) => s.respond('/jwks', json('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}')),
      'empty-key-set',
    ],
    [
      'a key with bad members',
      (s) => s.respond('/jwks', json('{"keys":[{"kty":"RSA","n":1,"e":"AQAB"}]}')),
      'invalid-document',
    ],
    ['HTTP 503', (s) => s.respond('/jwks', (_q, res) => res.writeHead(503).end()), 'status'],
    [
      'a gzip-encoded answer',
      (s) => s.respond('/jwks', json('{}', { 'content-encoding': 'gzip' })),
      'content-encoding',
    ],
  ];
  it.each(garbage)('keeps the last good keys when the source returns %s', async (_name, breakIt, reason) => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, check } = source(s);
    await loaded(src);
    breakIt(s);
    await src.refresh();
    expect(src.health()).toMatchObject({
      ready: true,
      keyCount: 1,
      lastFailureReason: reason,
      loadFailures: 1,
    });
    expect(src.health().failuresByReason).toEqual({ [reason]: 1 });
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
  });

  it('refuses a redirect, and the redirect target sees no connection', async () => {
    const s = await server();
    const target = await server();
    target.serveKeys([k2]);
    s.respond('/jwks', (_q, res) => res.writeHead(302, { location: target.url }).end());
    const { src } = source(s);
    await vi.waitFor(() => expect(src.health().loadFailures).toBeGreaterThan(0), {
      timeout: 5_000,
      interval: 10,
    });
    expect(src.health()).toMatchObject({ ready: false, lastFailureReason: 'redirect' });
    expect(target.connections).toBe(0);
  });

  it('refuses a name that resolves to loopback unless allowed, and the listener sees no connection (§3.11)', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const url = `https://localhost:${s.port}/jwks`;
    const refused = source(s, { url }).src;
    await vi.waitFor(() => expect(refused.health().loadFailures).toBeGreaterThan(0), {
      timeout: 5_000,
      interval: 10,
    });
    expect(refused.health()).toMatchObject({ ready: false, lastFailureReason: 'refused-address' });
    expect(Object.keys(refused.health().failuresByReason ?? {})).toEqual(['refused-address']);
    expect(s.connections).toBe(0);

    const { src, check } = source(s, { url, allowLoopback: true });
    await loaded(src);
    expect((await check(mintToken({ key: k1 }))).outcome).toBe('authenticated');
    // The same listener by its IP, written in the URL: the operator chose loopback, no flag needed.
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    await loaded(source(s).src);
  });

  it('refuses a server whose certificate the configured CA did not sign', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const other = await startJwksServer();
    cleanup.push(() => other.close());
    await expect(
      fetchDocument(s.url, { ca: other.tls.ca, timeoutMs: 2_000, maxBytes: 1024, allowLoopback: true }),
    ).rejects.toMatchObject({ reason: 'network' });
  });

  it('refuses plain http unless explicitly allowed', async () => {
    await expect(
      fetchDocument('http://127.0.0.1:1/jwks', { timeoutMs: 100, maxBytes: 10 }),
    ).rejects.toMatchObject({ reason: 'network' });
  });

  it('sends the bearer token file, re-read on every fetch', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const dir = tempDir();
    const tokenFile = writeFile(dir, 'token', 'first-token\n');
    const { src } = source(s, { bearerTokenFile: tokenFile });
    await loaded(src);
    writeFile(dir, 'token', 'second-token');
    await src.refresh();
    expect(s.authorizations).toEqual(['Bearer first-token', 'Bearer second-token']);
  });

  it('verifies EC keys from a JWKS and ignores a JWKS kid only when it names no key', async () => {
    const s = await server();
    const ec = ecKey('P-256', 'jwks-ec');
    s.respond('/jwks', json(jwksBody([ec])));
    const { src, check } = source(s);
    await loaded(src);
    expect((await check(mintToken({ key: ec }))).outcome).toBe('authenticated');
  });

  it('reads Cache-Control max-age within bounds', () => {
    expect(parseMaxAge('public, max-age=3600')).toBe(3_600_000);
    expect(parseMaxAge('no-store')).toBe(0);
    expect(parseMaxAge('max-age=abc')).toBeUndefined();
    expect(parseMaxAge(undefined)).toBeUndefined();
  });

  it('refreshes in the background at the max-age the server sends, clamped to the floor', async () => {
    const s = await server();
    s.serveKeys([k1], { 'cache-control': 'max-age=0' });
    const { src } = source(s, { minRefreshMs: 30, maxRefreshMs: 60 });
    await loaded(src);
    await vi.waitFor(() => expect(s.hits.get('/jwks')).toBeGreaterThanOrEqual(3), {
      timeout: 5_000,
      interval: 10,
    });
    src.close();
    const after = s.hits.get('/jwks')!;
    await new Promise((r) => setTimeout(r, 150));
    expect(s.hits.get('/jwks')).toBe(after); // close() stops the timer
  });

  it('rejects tokens of a kid the server serves under a different kid value', async () => {
    const s = await server();
    s.respond('/jwks', json(jwksBody([k1], 'custom-kid')));
    const { src, check } = source(s);
    await loaded(src);
    expect((await check(mintToken({ key: k1, header: { kid: 'custom-kid' } }))).outcome).toBe(
      'authenticated',
    );
    const other = await check(mintToken({ key: k1 }));
    expect(other.outcome).toBe('error');
  });

  it('never lets a failing token-less claim reach the network: foreign issuers cost nothing', async () => {
    const s = await server();
    s.serveKeys([k1]);
    const { src, clock, check } = source(s);
    await loaded(src);
    clock.advance(60_000);
    const r = await check(mintToken({ key: k2, claims: boundClaims({ iss: 'https://elsewhere.example' }) }));
    expect(r.outcome).toBe('no-opinion');
    expect(s.hits.get('/jwks')).toBe(1);
  });
});
