import type { Logger } from 'pino';
import { firstSignal } from '../io/signals.js';
import { systemClock, type Clock } from '../clock.js';
import { withCheckEndpoint } from '../http/check.js';
import { createProxy, parseUpstream } from '../http/proxy.js';
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
  readonly logger: Logger;
  readonly clock?: Clock;
}

export interface RunningProxy {
  readonly server: RunningServer;
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
  logger.info(
    { address: options.listen.host, port: server.port, check: options.checkEndpoint },
    'tokenwarden proxy is serving',
  );
  return {
    server,
    async close(timeoutMs) {
      await server.close(timeoutMs);
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
  logger.info({ signal, delayMs: listen.shutdownDelayMs }, 'shutting down');
  await new Promise((r) => setTimeout(r, listen.shutdownDelayMs));
  await running.close(listen.shutdownTimeoutMs);
  logger.info('stopped');
  logger.flush();
  return 0;
}
