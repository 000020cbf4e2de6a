import { PerformanceObserver } from 'node:perf_hooks';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROCESS_METRICS_PREFIX, registerProcessMetrics } from '../../src/observe/process-metrics.js';

const GC_DURATION = `${PROCESS_METRICS_PREFIX}nodejs_gc_duration_seconds`;
const ACTIVE_TOTALS = ['resources', 'handles', 'requests'].map(
  (kind) => `${PROCESS_METRICS_PREFIX}nodejs_active_${kind}_total`,
);

/** Name, type and help of every metric a registry holds, sorted by name. */
async function shapes(registry: Registry) {
  const all = await registry.getMetricsAsJSON();
  return all
    .map(({ name, type, help }) => ({ name, type, help }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What prom-client's collectDefaultMetrics registers under the same prefix. */
async function defaults() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PROCESS_METRICS_PREFIX });
  return shapes(registry);
}

/** The gc subscriptions PerformanceObserver.observe gets while `register` runs. */
function gcSubscriptions(register: () => void): number {
  const observe = vi.spyOn(PerformanceObserver.prototype, 'observe');
  register();
  return observe.mock.calls.filter(([opts]) =>
    'entryTypes' in opts ? opts.entryTypes.includes('gc') : opts.type === 'gc',
  ).length;
}

afterEach(() => vi.restoreAllMocks());

describe('registerProcessMetrics', () => {
  it('registers every default metric of prom-client but the `_total` gauges, the GC histogram included when asked', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry, { gcDuration: true });
    const expected = (await defaults()).filter((m) => !ACTIVE_TOTALS.includes(m.name));
    expect(await shapes(registry)).toEqual(expected);
  });

  it('leaves out only the GC-duration histogram by default', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry, { gcDuration: false });
    const expected = (await defaults()).filter(
      (m) => m.name !== GC_DURATION && !ACTIVE_TOTALS.includes(m.name),
    );
    expect(expected.length).toBeGreaterThan(10);
    expect(await shapes(registry)).toEqual(expected);
  });

  it('subscribes to garbage-collection entries only for the GC histogram', () => {
    expect(gcSubscriptions(() => registerProcessMetrics(new Registry(), { gcDuration: false }))).toBe(0);
    expect(gcSubscriptions(() => registerProcessMetrics(new Registry(), { gcDuration: true }))).toBe(1);
  });
});
