import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type MetricObjectWithValues,
  type MetricValueWithName,
} from 'prom-client';
import type { CacheStats } from '../authn/cached.js';
import type { PolicyHealth } from '../authz/rbac/policy-source.js';
import type { KeySourceHealth } from '../keys/key-source.js';
import type { WatchCacheHealth } from '../live/watch-cache.js';
import { VERSION } from '../version.js';
import { registerProcessMetrics } from './process-metrics.js';

/** Automatic reloads of a configuration file since start, as kube's `…_config_controller_automatic_reload*` count them. */
export interface ReloadStats {
  readonly successes: number;
  readonly failures: number;
  /** Epoch ms of the last successful and of the last failed reload. */
  readonly lastSuccess?: number;
  readonly lastFailure?: number;
}

export interface MetricsSources {
  /** Node's process and event-loop metrics (default on); off for a registry nobody scrapes. */
  readonly processMetrics?: boolean;
  /** `--gc-duration-metric`: prom-client's GC-duration histogram among them (default off; see process-metrics.ts). */
  readonly gcDurationMetric?: boolean;
  readonly cacheStats?: () => CacheStats;
  readonly keySources?: () => readonly KeySourceHealth[];
  readonly policy?: () => PolicyHealth;
  readonly authenticationConfig?: () => ReloadStats;
  /** Live mode's watches by resource (`pods`, `ClusterRole`…), read at scrape time. */
  readonly liveWatches?: () => ReadonlyMap<string, WatchCacheHealth>;
  readonly now?: () => number;
}

/** The request-latency buckets, in seconds: a cached review takes tens of microseconds. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
const LATENCY = 'tokenwarden_http_request_duration_seconds';
const LATENCY_HELP = 'HTTP request latency by route.';

interface RouteCounts {
  /** Observations per bucket (not cumulative), and beyond the last bound. */
  readonly buckets: number[];
  sum: number;
  count: number;
  /** Requests by status code. */
  readonly byCode: Map<number, number>;
}

/**
 * The request-latency histogram, counted in plain numbers per route and turned into
 * prom-client's values only when scraped: prom-client's labelled `observe()` validates and
 * hashes the labels and allocates on every call, a noticeable part of a cached review
 * (docs/benchmarks.md). What a scrape shows is what prom-client's own histogram shows for
 * the same observations.
 */
class RouteLatency extends Histogram<'path'> {
  constructor(
    registry: Registry,
    private readonly routes: ReadonlyMap<string, RouteCounts>,
  ) {
    super({
      name: LATENCY,
      help: LATENCY_HELP,
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<'path'>>> {
    const values: MetricValueWithName<'path' | 'le'>[] = [];
    const bucket = `${LATENCY}_bucket`;
    for (const [path, r] of this.routes) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += r.buckets[i]!;
        values.push({ labels: { le, path }, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf', path }, value: r.count, metricName: bucket },
        { labels: { path }, value: r.sum, metricName: `${LATENCY}_sum` },
        { labels: { path }, value: r.count, metricName: `${LATENCY}_count` },
      );
    }
    // prom-client's own values name `le` beside the metric's labels, as these do; its
    // typings ask for a `collect` that its own get() does not return either.
    return {
      name: LATENCY,
      help: LATENCY_HELP,
      type: 'histogram',
      values,
      aggregator: 'sum',
    } as unknown as MetricObjectWithValues<MetricValueWithName<'path'>>;
  }

  /** The registry's text output reads this one when a metric has it. */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<'path'>>> {
    return this.get();
  }
}

/** A counter whose value is a running total kept elsewhere, read at scrape time. */
function countOf(total: () => number) {
  return function (this: Counter) {
    this.reset();
    this.inc(total());
  };
}

/**
 * The Prometheus registry of one server. Per-request work is a lookup of a label child
 * made once per (path, code) pair; cache and key-source figures are read at scrape time
 * instead of being pushed on every change. Under `serve --workers N` every worker has its
 * own and /metrics sums them; a gauge of loaded state says `aggregator` instead, so the
 * sum shows the worker furthest behind (fewest keys, oldest load, not ready) and
 * build_info stays 1.
 */
export class Metrics {
  readonly registry = new Registry();
  // Counted in plain numbers per label set and handed to prom-client at scrape time:
  // prom-client validates and hashes the labels on every labelled call, even through a
  // child. Nested maps, so a request builds no key string.
  private readonly routes = new Map<string, RouteCounts>();
  private readonly decisionCounts = new Map<string, Map<string, Map<string, number>>>();

  constructor(sources: MetricsSources = {}) {
    if (sources.processMetrics !== false)
      registerProcessMetrics(this.registry, { gcDuration: sources.gcDurationMetric === true });
    const { routes, decisionCounts } = this;
    new Counter({
      name: 'tokenwarden_http_requests_total',
      help: 'HTTP requests by route and status code.',
      labelNames: ['path', 'code'],
      registers: [this.registry],
      collect(this: Counter<'path' | 'code'>) {
        this.reset();
        for (const [path, r] of routes) for (const [code, n] of r.byCode) this.inc({ path, code }, n);
      },
    });
    new RouteLatency(this.registry, routes);
    new Counter({
      name: 'tokenwarden_decisions_total',
      help: 'Review decisions by review kind, outcome and reason code.',
      labelNames: ['review', 'outcome', 'reason'],
      registers: [this.registry],
      collect(this: Counter<'review' | 'outcome' | 'reason'>) {
        this.reset();
        for (const [review, byOutcome] of decisionCounts)
          for (const [outcome, byReason] of byOutcome)
            for (const [reason, n] of byReason) this.inc({ review, outcome, reason }, n);
      },
    });
    // kube's kubernetes_build_info habit: a constant 1 whose labels say what is running.
    new Gauge({
      name: 'tokenwarden_build_info',
      help: 'A metric with a constant 1 value labelled by the version of tokenwarden and of Node.js it runs on.',
      labelNames: ['version', 'node_version'],
      registers: [this.registry],
      aggregator: 'first',
    }).set({ version: VERSION, node_version: process.version }, 1);
    const { cacheStats, keySources, policy, authenticationConfig, liveWatches } = sources;
    if (liveWatches) {
      const now = sources.now ?? Date.now;
      new Gauge({
        name: 'tokenwarden_live_watch_staleness_seconds',
        help: 'Live mode: how old the state served from each watch may be. 0 while its watch is open; since the break while it is broken (the last known state is served); +Inf before its first list.',
        labelNames: ['resource'],
        registers: [this.registry],
        aggregator: 'max',
        collect(this: Gauge<'resource'>) {
          this.reset();
          for (const [resource, h] of liveWatches()) {
            const age = !h.synced
              ? Number.POSITIVE_INFINITY
              : h.brokenSinceMs === undefined
                ? 0
                : Math.max(0, now() - h.brokenSinceMs) / 1000;
            this.set({ resource }, age);
          }
        },
      });
    }
    if (authenticationConfig) {
      // kube's names and status label, under this registry's prefix; kube's apiserver_id_hash
      // label tells apiservers apart, which a scrape of one tokenwarden already does.
      new Counter({
        name: 'tokenwarden_authentication_config_controller_automatic_reloads_total',
        help: 'Automatic reloads of --authentication-config by status (a failure keeps the last good configuration).',
        labelNames: ['status'],
        registers: [this.registry],
        collect(this: Counter<'status'>) {
          const s = authenticationConfig();
          this.reset();
          this.inc({ status: 'success' }, s.successes);
          this.inc({ status: 'failure' }, s.failures);
        },
      });
      new Gauge({
        name: 'tokenwarden_authentication_config_controller_automatic_reload_last_timestamp_seconds',
        help: 'Time of the last automatic reload of --authentication-config by status.',
        labelNames: ['status'],
        registers: [this.registry],
        aggregator: 'min',
        collect(this: Gauge<'status'>) {
          const s = authenticationConfig();
          this.reset();
          if (s.lastSuccess !== undefined) this.set({ status: 'success' }, s.lastSuccess / 1000);
          if (s.lastFailure !== undefined) this.set({ status: 'failure' }, s.lastFailure / 1000);
        },
      });
    }
    if (policy) {
      const read = (pick: (h: PolicyHealth) => number) =>
        function (this: Gauge) {
          this.set(pick(policy()));
        };
      new Counter({
        name: 'tokenwarden_rbac_policy_reloads_total',
        help: 'Successful RBAC policy reloads since start.',
        registers: [this.registry],
        collect: countOf(() => policy().reloads),
      });
      new Counter({
        name: 'tokenwarden_rbac_policy_reload_failures_total',
        help: 'Failed RBAC policy reloads since start (the last good policy stays).',
        registers: [this.registry],
        collect: countOf(() => policy().failures),
      });
      new Gauge({
        name: 'tokenwarden_rbac_rules',
        help: 'Rules in the served RBAC policy.',
        registers: [this.registry],
        aggregator: 'min',
        collect: read((h) => h.ruleCount),
      });
      new Gauge({
        name: 'tokenwarden_rbac_bindings',
        help: 'Bindings in the served RBAC policy.',
        registers: [this.registry],
        aggregator: 'min',
        collect: read((h) => h.bindingCount),
      });
    }
    if (cacheStats) {
      const read = (pick: (s: CacheStats) => number) =>
        function (this: Gauge) {
          this.set(pick(cacheStats()));
        };
      new Counter({
        name: 'tokenwarden_token_cache_hits_total',
        help: 'Token cache hits since start.',
        registers: [this.registry],
        collect: countOf(() => cacheStats().hits),
      });
      new Counter({
        name: 'tokenwarden_token_cache_misses_total',
        help: 'Token cache misses since start.',
        registers: [this.registry],
        collect: countOf(() => cacheStats().misses),
      });
      new Gauge({
        name: 'tokenwarden_token_cache_entries',
        help: 'Cached positive results.',
        registers: [this.registry],
        collect: read((s) => s.size),
      });
      new Gauge({
        name: 'tokenwarden_token_cache_negative_entries',
        help: 'Cached rejections.',
        registers: [this.registry],
        collect: read((s) => s.negativeSize),
      });
    }
    if (keySources) {
      const perSource = (
        name: string,
        help: string,
        aggregator: 'min' | 'max',
        pick: (h: KeySourceHealth) => number | undefined,
      ) =>
        new Gauge({
          name,
          help,
          labelNames: ['source'],
          registers: [this.registry],
          aggregator,
          collect(this: Gauge<'source'>) {
            this.reset();
            for (const h of keySources()) {
              const v = pick(h);
              if (v !== undefined) this.set({ source: h.name }, v);
            }
          },
        });
      perSource('tokenwarden_keys', 'Verification keys loaded per source.', 'min', (h) => h.keyCount);
      const perSourceCount = (name: string, help: string, pick: (h: KeySourceHealth) => number) =>
        new Counter({
          name,
          help,
          labelNames: ['source'],
          registers: [this.registry],
          collect(this: Counter<'source'>) {
            this.reset();
            for (const h of keySources()) this.inc({ source: h.name }, pick(h));
          },
        });
      perSourceCount(
        'tokenwarden_key_loads_total',
        'Successful key loads per source since start.',
        (h) => h.loads,
      );
      perSourceCount(
        'tokenwarden_key_load_failures_total',
        'Failed key loads per source since start (the last good keys stay).',
        (h) => h.loadFailures,
      );
      perSource('tokenwarden_key_source_ready', '1 once the source has loaded keys.', 'min', (h) =>
        h.ready ? 1 : 0,
      );
      perSource(
        'tokenwarden_key_source_last_success_timestamp_seconds',
        'Time of the last successful load.',
        'min',
        (h) => (h.lastSuccess === undefined ? undefined : h.lastSuccess / 1000),
      );
      perSource(
        'tokenwarden_key_source_last_success_age_seconds',
        'Age of the keys being served: time since the last successful load (grows while a remote source fails).',
        'max',
        (h) => (h.lastSuccess === undefined ? undefined : Math.max(0, (Date.now() - h.lastSuccess) / 1000)),
      );
      new Counter({
        name: 'tokenwarden_key_source_fetch_failures_total',
        help: 'Failed remote key fetches per source and reason (timeout, status, redirect, too-large, invalid-document, ...).',
        labelNames: ['source', 'reason'],
        registers: [this.registry],
        collect(this: Counter<'source' | 'reason'>) {
          this.reset();
          for (const h of keySources()) {
            for (const [reason, n] of Object.entries(h.failuresByReason ?? {}))
              this.inc({ source: h.name, reason }, n);
          }
        },
      });
    }
  }

  request(path: string, code: number, seconds: number): void {
    let route = this.routes.get(path);
    if (!route) {
      route = {
        buckets: new Array<number>(LATENCY_BUCKETS.length).fill(0),
        sum: 0,
        count: 0,
        byCode: new Map(),
      };
      this.routes.set(path, route);
    }
    route.byCode.set(code, (route.byCode.get(code) ?? 0) + 1);
    // prom-client's rule: the first bucket whose bound is at least the value.
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    if (i < LATENCY_BUCKETS.length) route.buckets[i]!++;
    route.sum += seconds;
    route.count++;
  }

  decision(
    review: 'tokenreview' | 'subjectaccessreview' | 'localsubjectaccessreview' | 'selfsubjectaccessreview',
    outcome: string,
    reason: string,
  ): void {
    let byOutcome = this.decisionCounts.get(review);
    if (!byOutcome) this.decisionCounts.set(review, (byOutcome = new Map()));
    let byReason = byOutcome.get(outcome);
    if (!byReason) byOutcome.set(outcome, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
}
