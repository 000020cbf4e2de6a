import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  liveToken as token,
  rawHttps,
  recordingUpstream,
  startTestProxy,
  useProxy,
} from '../helpers/proxy.js';

/** One sample's value from a Prometheus text page, or undefined when the series is absent. */
function sample(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('tokenwarden proxy --proxy-endpoints-port', () => {
  const setup = useProxy({ flags: ['--proxy-endpoints-port', '0'] });
  const endpoints = (path: string) =>
    rawHttps({ port: setup.proxy.running.endpoints!.port, ca: setup.proxy.ca, path });

  it('serves /livez, /healthz and /readyz on a listener of its own', async () => {
    for (const path of ['/livez', '/healthz', '/readyz']) {
      const res = await endpoints(path);
      expect([path, res.status, res.body]).toEqual([path, 200, 'ok']);
    }
    const verbose = await endpoints('/readyz?verbose');
    expect(verbose.body).toContain('[+]service-account-keys-0 ok');
    expect(verbose.body).toContain('[+]shutdown ok');
    expect((await endpoints('/anything-else')).status).toBe(404);
  });

  it('leaves /metrics, /readyz and /livez on the proxy port to the upstream', async () => {
    const before = setup.upstream.received.length;
    for (const path of ['/metrics', '/readyz', '/livez']) {
      const withToken = await setup.proxy.request({ path, headers: ['Authorization', `Bearer ${token()}`] });
      expect([path, withToken.status, withToken.body]).toEqual([path, 200, 'upstream ok']);
      expect((await setup.proxy.request({ path })).status).toBe(401);
    }
    expect(setup.upstream.received.slice(before).map((r) => r.url)).toEqual([
      '/metrics',
      '/readyz',
      '/livez',
    ]);
  });

  it("counts requests by outcome and the proxy's added latency, beside serve's metrics", async () => {
    const page0 = (await endpoints('/metrics')).body;
    const forwarded0 = sample(page0, 'tokenwarden_proxy_requests_total{outcome="forwarded"}') ?? 0;
    const refused0 = sample(page0, 'tokenwarden_proxy_requests_total{outcome="unauthenticated"}') ?? 0;
    const timed0 = sample(page0, 'tokenwarden_proxy_added_latency_seconds_count') ?? 0;
    await setup.proxy.request({ path: '/a', headers: ['Authorization', `Bearer ${token()}`] });
    await setup.proxy.request({ path: '/a', headers: ['Authorization', `Bearer ${token()}`] });
    await setup.proxy.request({ path: '/a' });
    const page = (await endpoints('/metrics')).body;
    expect(sample(page, 'tokenwarden_proxy_requests_total{outcome="forwarded"}')).toBe(forwarded0 + 2);
    expect(sample(page, 'tokenwarden_proxy_requests_total{outcome="unauthenticated"}')).toBe(refused0 + 1);
    expect(sample(page, 'tokenwarden_proxy_added_latency_seconds_count')).toBe(timed0 + 2);
    // The same series serve exports, where they apply: the token cache, the key sources, the build.
    expect(sample(page, 'tokenwarden_token_cache_hits_total')).toBeGreaterThanOrEqual(1);
    expect(sample(page, 'tokenwarden_key_source_ready{source="service-account-keys-0"}')).toBe(1);
    expect(page).toMatch(/^tokenwarden_build_info\{/m);
    // Paths are the upstream's and unbounded: never a label.
    expect(page).not.toContain('path="/a"');
  });
});

describe('tokenwarden proxy --proxy-endpoints-port with the upstream down', () => {
  it('counts the upstream errors by code and the requests as upstream-unreachable', async () => {
    const upstream = await recordingUpstream();
    const url = upstream.url;
    await upstream.close();
    const proxy = await startTestProxy({ upstream: url, flags: ['--proxy-endpoints-port', '0'] });
    try {
      expect(
        (await proxy.request({ path: '/', headers: ['Authorization', `Bearer ${token()}`] })).status,
      ).toBe(502);
      const page = (await rawHttps({ port: proxy.running.endpoints!.port, ca: proxy.ca, path: '/metrics' }))
        .body;
      expect(sample(page, 'tokenwarden_proxy_upstream_errors_total{code="ECONNREFUSED"}')).toBe(1);
      expect(sample(page, 'tokenwarden_proxy_requests_total{outcome="upstream-unreachable"}')).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('tokenwarden proxy without --proxy-endpoints-port', () => {
  const setup = useProxy({});

  it('opens no second listener and proxies every path', async () => {
    expect(setup.proxy.running.endpoints).toBeUndefined();
    const res = await setup.proxy.request({
      path: '/readyz',
      headers: ['Authorization', `Bearer ${token()}`],
    });
    expect(res.body).toBe('upstream ok');
  });
});

describe('--proxy-endpoints-port', () => {
  const base = ['--upstream', 'http://127.0.0.1:1', '--service-account-issuer', 'https://x'];

  it('refuses the proxy port itself and ports past 65535, naming the flag', () => {
    expect(() =>
      loadConfig('proxy', [...base, '--secure-port', '9443', '--proxy-endpoints-port', '9443']),
    ).toThrow(/--proxy-endpoints-port: must differ from --secure-port/);
    expect(() => loadConfig('proxy', [...base, '--proxy-endpoints-port', '70000'])).toThrow(
      /--proxy-endpoints-port: must be at most 65535/,
    );
    expect(() => loadConfig('serve', ['--proxy-endpoints-port', '9444'])).toThrow(/proxy-endpoints-port/);
  });
});
