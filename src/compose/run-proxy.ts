import { Hono } from 'hono';
import type { Logger } from 'pino';
import { notFound } from '../api/outcomes.js';
import { registerOps, type HealthCheck } from '../http/ops.js';
import { respond } from '../http/respond.js';
import { ProxyMetrics } from '../observe/proxy-metrics.js';
import { firstSignal } from '../io/signals.js';
import { systemClock, type Clock } from '../clock.js';
import { withCheckEndpoint } from '../http/check.js';
import { createProxy } from '../http/proxy.js';
import { parseUpstream } from '../http/upstream-target.js';
import { startServer, type RunningServer } from '../http/server.js';
import { compose } from './compose.js';
import type { AuthenticationOptions, AuthorizationOptions } from './options.js';
import { ephemeralTls, type ListenOptions } from './run.js';
import { buildSidecarGate, type SidecarOptions } from './sidecar.js';

export interface ProxyServiceOptions {
  /** `apiAudiences` are the audiences a token must hold one of (`--audience`). */
  readonly authentication: AuthenticationOptions;
  readonly authorization?: AuthorizationOptions;
  readonly sidecar: SidecarOptions;
  /** `http://…`, `https://…` or `unix:///…`; `ca` is a PEM bundle for an https upstream. */
  readonly upstream: { readonly url: string; readonly ca?: string };
  /** Forward the client's `Authorization` (off: the token stays here). */
  readonly passAuthorization: boolean;
  /** Serve `/check` for Envoy, nginx and Traefik on the same listener. */
  readonly checkEndpoint: boolean;
  readonly listen: Pick<
    ListenOptions,
    'host' | 'port' | 'tlsFiles' | 'tls' | 'tlsPolicy' | 'shutdownDelayMs' | 'shutdownTimeoutMs'
  >;
  /**
   * `--proxy-endpoints-port`: `/livez`, `/readyz`, `/healthz` and `/metrics` on a listener
   * of their own, as kube-rbac-proxy serves its `/healthz`: on the proxy's port every path
   * is the upstream's. Unset, they are not served.
   */
  readonly endpointsPort?: number;
  /** `--gc-duration-metric`. */
  readonly gcDurationMetric?: boolean;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export interface RunningProxy {
  readonly server: RunningServer;
  /** The health and metrics listener, with `endpointsPort`. */
  readonly endpoints?: RunningServer;
  /** /readyz fails from now on, so the load balancer stops sending before the listener closes. */
  drain(): void;
  /** Stops the listener (waiting up to `timeoutMs` for requests in flight), then every part. */
  close(timeoutMs: number): Promise<void>;
}

/** Builds the components and the sidecar gate, and opens the proxy's listener. */
export async function startProxyService(options: ProxyServiceOptions): Promise<RunningProxy> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const upstream = parseUpstream(options.upstream.url);
  const components = await compose({
    authentication: options.authentication,
    ...(options.authorization ? { authorization: options.authorization } : {}),
    clock,
    logger,
    watch: true,
    gcDurationMetric: options.gcDurationMetric === true,
  });
  let sidecar;
  try {
    sidecar = buildSidecarGate(options.sidecar, components, { logger, clock });
  } catch (err) {
    components.close();
    throw err;
  }
  const proxy = createProxy({
    upstream,
    ...(options.upstream.ca ? { upstreamCa: options.upstream.ca } : {}),
    gate: sidecar.gate,
    passAuthorization: options.passAuthorization,
    logger,
    ...(options.endpointsPort === undefined
      ? {}
      : { observer: new ProxyMetrics(components.metrics.registry) }),
  });
  let tls = options.listen.tlsFiles ?? options.listen.tls;
  if (tls === undefined) {
    tls = await ephemeralTls();
    logger.warn('no --tls-cert-file given: serving a throwaway self-signed certificate');
  }
  const server = await startServer({
    listener: {
      request: options.checkEndpoint
        ? withCheckEndpoint(sidecar.gate, proxy.handleRequest)
        : proxy.handleRequest,
      upgrade: proxy.handleUpgrade,
    },
    host: options.listen.host,
    port: options.listen.port,
    tls,
    ...(options.listen.tlsPolicy ? { tlsPolicy: options.listen.tlsPolicy } : {}),
    logger,
    streaming: true,
  });
  let shuttingDown = false;
  let endpoints: RunningServer | undefined;
  if (options.endpointsPort !== undefined) {
    const ops = new Hono();
    registerOps(ops, {
      metrics: components.metrics,
      readiness: (): HealthCheck[] => [
        ...components.readiness(),
        { name: 'shutdown', ok: !shuttingDown, note: shuttingDown ? 'shutting down' : undefined },
      ],
    });
    ops.notFound((c) => respond(c, notFound()));
    try {
      endpoints = await startServer({
        app: ops,
        host: options.listen.host,
        port: options.endpointsPort,
        tls,
        ...(options.listen.tlsPolicy ? { tlsPolicy: options.listen.tlsPolicy } : {}),
        logger,
      });
    } catch (err) {
      await server.close(0);
      proxy.close();
      sidecar.close();
      components.close();
      throw err;
    }
  }
  logger.info(
    {
      address: options.listen.host,
      port: server.port,
      check: options.checkEndpoint,
      ...(endpoints ? { endpointsPort: endpoints.port } : {}),
    },
    'tokenwarden proxy is serving',
  );
  return {
    server,
    ...(endpoints ? { endpoints } : {}),
    drain() {
      shuttingDown = true;
    },
    async close(timeoutMs) {
      await Promise.all([server.close(timeoutMs), endpoints?.close(timeoutMs)]);
      proxy.close();
      sidecar.close();
      components.close();
    },
  };
}

/** Runs the proxy until SIGTERM/SIGINT, then drains and closes; resolves with the exit code. */
export async function runProxyService(options: ProxyServiceOptions): Promise<number> {
  const { logger, listen } = options;
  const running = await startProxyService(options);
  const signal = await firstSignal();
  running.drain();
  logger.info({ signal, delayMs: listen.shutdownDelayMs }, 'shutting down: /readyz now fails');
  await new Promise((r) => setTimeout(r, listen.shutdownDelayMs));
  await running.close(listen.shutdownTimeoutMs);
  logger.info('stopped');
  // The destination writes asynchronously: the exit that follows must not cut off the last lines.
  await new Promise<void>((flushed) => logger.flush(() => flushed()));
  return 0;
}
