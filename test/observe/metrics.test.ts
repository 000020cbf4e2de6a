import { describe, expect, it } from 'vitest';
import type { WatchCacheHealth } from '../../src/live/watch-cache.js';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { Metrics } from '../../src/observe/metrics.js';

/** Every family a server with every kind of source exposes, with its type. */
async function families(): Promise<Map<string, string>> {
  const metrics = new Metrics({
    cacheStats: () => ({ hits: 3, misses: 1, size: 1, negativeSize: 0 }),
    keySources: () => [
      {
        name: 'service-account-keys-0',
        keyCount: 1,
        loads: 1,
        loadFailures: 1,
        ready: true,
        lastSuccess: Date.now(),
        failuresByReason: { timeout: 1 },
      },
    ],
    policy: () => ({
      ready: true,
      lastError: 'bad edit',
      lastErrorAt: new Date(),
      lastSuccess: new Date(),
      reloads: 1,
      failures: 1,
      ruleCount: 2,
      bindingCount: 1,
    }),
    authenticationConfig: () => ({
      successes: 1,
      failures: 1,
      lastSuccess: Date.now(),
      lastFailure: Date.now(),
    }),
  });
  metrics.request('/apis/authentication.k8s.io/v1/tokenreviews', 200, 0.001);
  metrics.decision('tokenreview', 'authenticated', 'ok');
  const text = await metrics.registry.metrics();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('metric names (Prometheus conventions)', () => {
  it('names every counter …_total and nothing else so', async () => {
    const all = await families();
    expect(all.size).toBeGreaterThan(30);
    for (const [name, type] of all) {
      expect(name, name).toMatch(/^tokenwarden_[a-z0-9_]+$/);
      expect(name.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
    }
  });

  it('measures every duration histogram in seconds', async () => {
    const histograms = [...(await families())].filter(([, type]) => type === 'histogram');
    expect(histograms.map(([name]) => name)).toContain('tokenwarden_http_request_duration_seconds');
    for (const [name] of histograms) expect(name).toMatch(/_seconds$/);
  });

  it('says what is running in a build_info gauge', async () => {
    expect((await families()).get('tokenwarden_build_info')).toBe('gauge');
  });
});

const watch = (over: Partial<WatchCacheHealth>): WatchCacheHealth => ({
  synced: true,
  brokenSinceMs: undefined,
  lastError: undefined,
  restarts: 0,
  ...over,
});

describe('Metrics: live mode', () => {
  it('reports each watch’s staleness: 0 while open, the age of the last known state while broken, +Inf before its first list', async () => {
    const NOW = 1_000_000;
    const metrics = new Metrics({
      liveWatches: () =>
        new Map([
          ['pods', watch({})],
          ['secrets', watch({ brokenSinceMs: NOW - 42_500 })],
          ['clusterroles', watch({ synced: false })],
        ]),
      now: () => NOW,
    });
    const text = await metrics.registry.getSingleMetricAsString('tokenwarden_live_watch_staleness_seconds');
    expect(text).toContain('# TYPE tokenwarden_live_watch_staleness_seconds gauge');
    expect(text).toContain('tokenwarden_live_watch_staleness_seconds{resource="pods"} 0');
    expect(text).toContain('tokenwarden_live_watch_staleness_seconds{resource="secrets"} 42.5');
    expect(text).toContain('tokenwarden_live_watch_staleness_seconds{resource="clusterroles"} +Inf');
  });

  it('has no live-mode metric offline', async () => {
    expect(await new Metrics().registry.metrics()).not.toContain('tokenwarden_live_watch');
  });
});

describe('Metrics: requests and decisions', () => {
  const latencies = [0, 0.00005, 0.0001, 0.00011, 0.0007, 0.003, 0.02, 0.3, 1, 2.5];

  /** What prom-client's own metrics expose for the same requests and decisions. */
  async function promClientText(): Promise<string> {
    const registry = new Registry();
    const requests = new Counter({
      name: 'tokenwarden_http_requests_total',
      help: 'HTTP requests by route and status code.',
      labelNames: ['path', 'code'],
      registers: [registry],
    });
    const latency = new Histogram({
      name: 'tokenwarden_http_request_duration_seconds',
      help: 'HTTP request latency by route.',
      labelNames: ['path'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    });
    const decisions = new Counter({
      name: 'tokenwarden_decisions_total',
      help: 'Review decisions by review kind, outcome and reason code.',
      labelNames: ['review', 'outcome', 'reason'],
      registers: [registry],
    });
    for (const [i, s] of latencies.entries()) {
      const path = i % 3 === 0 ? '/b' : '/a';
      requests.inc({ path, code: i % 4 === 0 ? '400' : '200' });
      latency.observe({ path }, s);
    }
    decisions.inc({ review: 'tokenreview', outcome: 'authenticated', reason: 'ok' }, 2);
    decisions.inc({ review: 'tokenreview', outcome: 'rejected', reason: 'ERR_TOKEN_EXPIRED' });
    return registry.metrics();
  }

  it('exposes what prom-client’s own counters and histogram expose for the same requests, text and JSON', async () => {
    const metrics = new Metrics({ processMetrics: false });
    for (const [i, s] of latencies.entries())
      metrics.request(i % 3 === 0 ? '/b' : '/a', i % 4 === 0 ? 400 : 200, s);
    metrics.decision('tokenreview', 'authenticated', 'ok');
    metrics.decision('tokenreview', 'rejected', 'ERR_TOKEN_EXPIRED');
    metrics.decision('tokenreview', 'authenticated', 'ok');
    const sorted = (text: string) =>
      text
        .split('\n')
        .filter((l) => /^tokenwarden_(http|decisions)/.test(l))
        .sort();
    const expected = sorted(await promClientText());
    expect(expected.length).toBeGreaterThan(30);
    expect(sorted(await metrics.registry.metrics())).toEqual(expected);
    // serve --workers sums the workers' JSON: the same values as prom-client's after aggregation.
    const json = await metrics.registry.getMetricsAsJSON();
    const aggregated = sorted(await AggregatorRegistry.aggregate([json, json]).metrics());
    const doubled = expected.map((l) => l.replace(/ (\S+)$/, (_, v: string) => ` ${Number(v) * 2}`));
    expect(aggregated).toEqual(doubled.sort());
  });
});
