import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFunction, NO_OPINION } from '../../src/authn/authenticator.js';
import { manualClock } from '../../src/clock.js';
import { createApp } from '../../src/http/app.js';
import { Metrics } from '../../src/observe/metrics.js';
import { replaceFile, writeFile } from '../helpers/files.js';
import { authenticationConfigYaml, jwtIssuerYaml, serveIssuer } from '../helpers/idp.js';
import { ecKey, rsaKey } from '../helpers/keys.js';
import { captureLogs, SentTokens } from '../helpers/logs.js';
import { startTestServer, tokenReview, type TestServer } from '../helpers/server.js';
import { mintToken, NOW_MS } from '../helpers/tokens.js';
import { startJwksServer } from '../keys/jwks-server.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const get = (server: TestServer, path: string) => server.request({ method: 'GET', path });

describe('ops endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock: manualClock(NOW_MS) });
  });
  afterAll(() => server.close());

  it.each(['/healthz', '/livez', '/readyz'])('answers %s with ok', async (path) => {
    const res = await get(server, path);
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok');
  });

  it('lists each readiness check with ?verbose, as kube-apiserver', async () => {
    const res = await get(server, '/readyz?verbose');
    expect(res.status).toBe(200);
    expect(res.body).toBe('[+]ping ok\n[+]service-account-keys-0 ok\nreadyz check passed\n');
  });

  it('serves Prometheus metrics for requests, decisions, the cache and the keys', async () => {
    await server.review(tokenReview(mintToken()));
    await server.review(tokenReview(mintToken()));
    await server.review(tokenReview(mintToken({ key: rsaKey('stranger') })));
    const res = await get(server, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const source = 'service-account-keys-0';
    for (const line of [
      'tokenwarden_decisions_total{review="tokenreview",outcome="authenticated",reason="ok"} 2',
      'tokenwarden_decisions_total{review="tokenreview",outcome="rejected",reason="ERR_TOKEN_NO_KEY"} 1',
      'tokenwarden_token_cache_hits_total 1',
      'tokenwarden_token_cache_misses_total 2',
      `tokenwarden_keys{source="${source}"} 1`,
      `tokenwarden_key_load_failures_total{source="${source}"} 0`,
      `tokenwarden_key_source_ready{source="${source}"} 1`,
      `tokenwarden_build_info{version="${VERSION}",node_version="${process.version}"} 1`,
      // Running totals are counters, so rate() and increase() work on them.
      '# TYPE tokenwarden_token_cache_hits_total counter',
      '# TYPE tokenwarden_token_cache_misses_total counter',
      '# TYPE tokenwarden_key_loads_total counter',
      '# TYPE tokenwarden_key_load_failures_total counter',
      '# TYPE tokenwarden_key_source_fetch_failures_total counter',
    ]) {
      expect(res.body.split('\n')).toContain(line);
    }
    expect(res.body).toMatch(/^tokenwarden_http_requests_total\{.*code="200".*\} \d+$/m);
    expect(res.body).toMatch(/^tokenwarden_http_request_duration_seconds_bucket\{/m);
    expect(res.body).not.toContain(server.dir);
  });

  it('labels key sources by kind and number in /metrics, never by file path or issuer host', async () => {
    const idp = serveIssuer(await startJwksServer(), [rsaKey('metrics-idp')]);
    const other = await startTestServer({
      flags: [
        `--authentication-config=${writeFile(server.dir, 'authn.yaml', authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')))}`,
      ],
    });
    try {
      expect(await other.chain.whenReady(5000)).toBe(true);
      const body = (await get(other, '/metrics')).body;
      expect(body.split('\n')).toEqual(
        expect.arrayContaining([
          'tokenwarden_key_source_ready{source="service-account-keys-0"} 1',
          'tokenwarden_key_source_ready{source="jwt-issuer-keys-0"} 1',
        ]),
      );
      expect(body).not.toContain(other.dir);
      expect(body).not.toContain(new URL(idp.origin).host);
    } finally {
      await other.close();
      await idp.close();
    }
  });
});

describe('key-file rotation over HTTP', () => {
  let server: TestServer;
  const sent = new SentTokens();
  beforeAll(async () => {
    server = await startTestServer({ clock: manualClock(NOW_MS), keys: [rsaKey('a')], watch: true });
  });
  afterAll(() => server.close());

  const authenticated = async (token: string) =>
    (await server.review(tokenReview(sent.add(token)))).json<{
      status: { authenticated: boolean; error?: string };
    }>().status;

  it('picks up a rotated key file by itself, and forgets cached answers of the removed key', async () => {
    const oldToken = mintToken({ key: rsaKey('a') });
    const newToken = mintToken({ key: ecKey('P-384') });
    expect(await authenticated(oldToken)).toMatchObject({ authenticated: true });
    expect(await authenticated(newToken)).toMatchObject({ authenticated: false });

    const reloaded = server.logs.next((l) => l.msg === 'keys reloaded');
    replaceFile(server.keyFile, ecKey('P-384').publicPem);
    await reloaded;

    expect(await authenticated(newToken)).toMatchObject({ authenticated: true });
    // The old token's success was cached; the key change must drop it.
    expect(await authenticated(oldToken)).toEqual({
      authenticated: false,
      user: {},
      error: '[invalid bearer token, invalid signature, no keys found]',
    });
  });

  it('keeps serving the last good keys when the file breaks, and says so in readyz, health and metrics', async () => {
    const good = ecKey('P-256', 'before-breaking');
    const reloaded = server.logs.next((l) => l.msg === 'keys reloaded');
    replaceFile(server.keyFile, good.publicPem);
    await reloaded;

    const failed = server.logs.next((l) => l.msg === 'key reload failed; keeping the last good keys');
    replaceFile(server.keyFile, '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n');
    await failed;

    expect(await authenticated(mintToken({ key: good }))).toMatchObject({ authenticated: true });
    const ready = await get(server, '/readyz?verbose');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(
      /^\[\+\]service-account-keys-0 ok \(last reload failed.*serving the last good keys.*\)$/m,
    );
    expect(ready.body).not.toContain(server.keyFile);
    expect(server.chain.keySources[0]!.health()).toMatchObject({
      ready: true,
      keyCount: 1,
      lastError: `${server.keyFile}: PEM block 1 (PUBLIC KEY) is not a valid key or certificate`,
    });
    const metrics = await get(server, '/metrics');
    expect(metrics.body).toMatch(
      /^tokenwarden_key_load_failures_total\{source="service-account-keys-0"\} [1-9]\d*$/m,
    );
    expect(metrics.body).not.toContain(server.keyFile);
    expect(sent.leaksIn(server.logs.text())).toEqual([]);
  });
});

describe('readiness failures', () => {
  it('answers /readyz with 503 and names the failing check with ?verbose', async () => {
    const app = createApp({
      authenticator: fromFunction(() => NO_OPINION),
      apiAudiences: [],
      metrics: new Metrics(),
      logger: captureLogs().logger,
      maxRequestBytes: 1024,
      readiness: () => [
        { name: 'service-account-keys-0', ok: false, note: 'keys not loaded' },
        { name: 'shutdown', ok: true },
      ],
    });
    const plain = await app.request('/readyz');
    expect(plain.status).toBe(503);
    expect(await plain.text()).toBe('readyz check failed\n');
    const verbose = await app.request('/readyz?verbose');
    expect(verbose.status).toBe(503);
    expect(await verbose.text()).toBe(
      '[+]ping ok\n[-]service-account-keys-0 failed: keys not loaded\n[+]shutdown ok\nreadyz check failed\n',
    );
    expect((await app.request('/livez')).status).toBe(200);
  });
});
