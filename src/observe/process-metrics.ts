import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';

type DefaultMetric = (registry: Registry, config: Record<string, unknown>) => void;

/**
 * prom-client's default metrics (`collectDefaultMetrics`), one module each, in its order.
 * The GC-duration histogram is `gc`, taken only when asked for: on Node 20 every
 * notification of a `gc` PerformanceObserver builds fresh deprecated accessors on its
 * entry (DEP0152), maps that V8 allocates straight into the old generation. Under load
 * that is one entry per scavenge, and the old generation fills toward the next
 * mark-compact far sooner (docs/benchmarks.md measures the latency it costs).
 * `collectDefaultMetrics` has no way to leave one out, so the modules are loaded one by one;
 * a test compares the result with what `collectDefaultMetrics` registers.
 */
const DEFAULT_METRICS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
] as const;

export const PROCESS_METRICS_PREFIX = 'tokenwarden_';

const require = createRequire(import.meta.url);

/** Registers Node's process metrics on `registry`; the GC-duration histogram only with `gcDuration`. */
export function registerProcessMetrics(registry: Registry, { gcDuration }: { gcDuration: boolean }): void {
  const config = { prefix: PROCESS_METRICS_PREFIX, eventLoopMonitoringPrecision: 10 };
  for (const name of gcDuration ? [...DEFAULT_METRICS, 'gc'] : DEFAULT_METRICS)
    (require(`prom-client/lib/metrics/${name}`) as DefaultMetric)(registry, config);
  // prom-client also exposes these sums as gauges named `_total`, the counter suffix, which
  // invites rate() on a gauge; the per-type gauges without the suffix carry the same counts.
  for (const kind of ['resources', 'handles', 'requests'])
    registry.removeSingleMetric(`${PROCESS_METRICS_PREFIX}nodejs_active_${kind}_total`);
}
