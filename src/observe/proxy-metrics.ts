import { Counter, Histogram, type Registry } from 'prom-client';
import type { ProxyObserver, ProxyOutcome } from '../http/proxy.js';

/** A node or OpenSSL error code (`ECONNREFUSED`, `CERT_HAS_EXPIRED`); anything else is `other`, so labels stay few. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * The proxy's own series, registered beside the components' (token cache, key sources,
 * policy, process) on the same registry. Paths never become labels: an upstream's paths
 * are unbounded. Label children are resolved once each, as in Metrics.
 */
export class ProxyMetrics implements ProxyObserver {
  private readonly requests: Counter<'outcome'>;
  private readonly upstreamErrors: Counter<'code'>;
  private readonly added: Histogram;
  private readonly outcomeChildren = new Map<ProxyOutcome, { inc(): void }>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'tokenwarden_proxy_requests_total',
      help: 'Proxied requests by outcome: forwarded, or answered by the proxy (unauthenticated, forbidden, bad-request, error, upstream-unreachable).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.upstreamErrors = new Counter({
      name: 'tokenwarden_proxy_upstream_errors_total',
      help: 'Failed upstream requests (refused, reset, timed out, TLS) by error code.',
      labelNames: ['code'],
      registers: [registry],
    });
    this.added = new Histogram({
      name: 'tokenwarden_proxy_added_latency_seconds',
      help: "Time from a request's arrival at the proxy to its dispatch upstream (authentication, authorization, headers): what the proxy adds before the upstream sees it.",
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    });
  }

  outcome(outcome: ProxyOutcome): void {
    let child = this.outcomeChildren.get(outcome);
    if (!child) {
      child = this.requests.labels(outcome);
      this.outcomeChildren.set(outcome, child);
    }
    child.inc();
  }

  dispatched(seconds: number): void {
    this.added.observe(seconds);
  }

  upstreamError(code: string | undefined): void {
    this.upstreamErrors.inc({ code: code !== undefined && ERROR_CODE.test(code) ? code : 'other' });
  }
}
