import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { systemClock } from '../clock.js';
import { createCertificateAuthority, issueCertificate } from '../dev/certs.js';
import { createListener } from '../http/app.js';
import { withCheckEndpoint } from '../http/check.js';
import type { TlsPolicy } from '../http/tls-policy.js';
import { startServer, type RunningServer, type TlsFiles, type TlsMaterial } from '../http/server.js';
import { compose, type Components } from './compose.js';
import type { AuthenticationOptions, AuthorizationOptions } from './options.js';
import { buildSidecarGate, type SidecarGate, type SidecarOptions } from './sidecar.js';
import type { WorkerLink } from '../cluster/worker.js';
import { warmUp } from './warm-up.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Certificate files, reloaded when they change; else `tls`, else a throwaway pair. */
  readonly tlsFiles?: TlsFiles;
  readonly tls?: TlsMaterial;
  /** Lowest TLS version and cipher suites (default: TLS 1.2 and Node.js's suites). */
  readonly tlsPolicy?: TlsPolicy;
  readonly maxRequestBytes: number;
  /** Callers of the review endpoints must authenticate and be allowed `create` on the review. */
  readonly authorizeCallers: boolean;
  /** How long /readyz fails before the listener closes, so load balancers stop sending first. */
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;
}

export interface ServiceOptions {
  readonly authentication: AuthenticationOptions;
  readonly authorization?: AuthorizationOptions;
  readonly listen: ListenOptions;
  readonly logger: Logger;
  /** Routes only some commands serve (the dev issuer's documents), added before the 404 handler. */
  readonly extraRoutes?: (app: Hono, components: Components) => void;
  readonly onListening?: (server: RunningServer, logger: Logger) => void;
  /** `--check-endpoint`: serve `/check` (ext-authz for Envoy, nginx, Traefik) beside the reviews. */
  readonly check?: SidecarOptions;
  /** Reviews sent through a throwaway copy of the request path before the listener opens (warm-up.ts). */
  readonly warmUpRequests?: number;
  /** Set in a worker of `serve --workers N`: /metrics and /readyz then speak for every worker. */
  readonly worker?: WorkerLink;
  /** `--gc-duration-metric`. */
  readonly gcDurationMetric?: boolean;
}

/** A throwaway CA-signed certificate for localhost, when no certificate files are given. */
export async function ephemeralTls(): Promise<TlsMaterial & { caCert: string }> {
  const ca = await createCertificateAuthority();
  const leaf = await issueCertificate(ca, {
    commonName: 'tokenwarden',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  return { cert: `${leaf.cert}${ca.cert}`, key: leaf.key, caCert: ca.cert };
}

/**
 * Builds the components, serves them over HTTPS until SIGTERM/SIGINT, then fails /readyz,
 * waits, drains and closes everything; resolves with the exit code.
 */
export async function runService(options: ServiceOptions): Promise<number> {
  const { logger, listen, extraRoutes } = options;
  const components = await compose({
    authentication: options.authentication,
    ...(options.authorization ? { authorization: options.authorization } : {}),
    clock: systemClock,
    logger,
    watch: true,
    gcDurationMetric: options.gcDurationMetric === true,
  });
  const { authentication, authorization } = components;
  let shuttingDown = false;
  const ownReadiness = () => [
    ...components.readiness(),
    { name: 'shutdown', ok: !shuttingDown, note: shuttingDown ? 'shutting down' : undefined },
  ];
  const { worker } = options;
  worker?.expose({ registry: components.metrics.registry, readiness: ownReadiness });
  const listener = createListener({
    authenticator: authentication.authenticator,
    apiAudiences: authentication.apiAudiences,
    authorizer: authorization.authorizer,
    ...(listen.authorizeCallers ? { callerAuthenticator: authentication.requestAuthenticator } : {}),
    requestAuthenticator: authentication.requestAuthenticator,
    metrics: components.metrics,
    logger,
    maxRequestBytes: listen.maxRequestBytes,
    // A worker is ready only while every serving worker is: connections go to each in turn.
    readiness: worker ? async () => [...ownReadiness(), await worker.readiness()] : ownReadiness,
    ...(worker ? { scrape: worker.scrape } : {}),
    ...(extraRoutes ? { extraRoutes: (a: Hono) => extraRoutes(a, components) } : {}),
  });

  let tls = listen.tlsFiles ?? listen.tls;
  if (tls === undefined) {
    tls = await ephemeralTls();
    logger.warn('no --tls-cert-file given: serving a throwaway self-signed certificate');
  }
  if (options.warmUpRequests) {
    try {
      const report = await warmUp({
        requests: options.warmUpRequests,
        tls,
        keySources: authentication.keySources,
        maxRequestBytes: listen.maxRequestBytes,
        logLevel: logger.level,
        clock: systemClock,
      });
      logger.info(report, 'warmed up');
    } catch (err) {
      // A cold start is slower, not wrong: serve anyway.
      logger.warn({ errName: err instanceof Error ? err.name : typeof err }, 'warm-up failed; serving cold');
    }
  }
  let sidecar: SidecarGate | undefined;
  try {
    sidecar = options.check
      ? buildSidecarGate(options.check, components, { logger, clock: systemClock })
      : undefined;
  } catch (err) {
    components.close();
    throw err;
  }
  const server = await startServer({
    listener: { request: sidecar ? withCheckEndpoint(sidecar.gate, listener) : listener },
    host: listen.host,
    port: listen.port,
    tls,
    ...(listen.tlsPolicy ? { tlsPolicy: listen.tlsPolicy } : {}),
    logger,
  });
  logger.info(
    { address: listen.host, port: server.port, issuers: options.authentication.serviceAccounts.issuers },
    'tokenwarden is serving',
  );
  options.onListening?.(server, logger);

  process.on('unhandledRejection', (reason) => {
    logger.error(
      { errName: reason instanceof Error ? reason.name : typeof reason },
      'unhandled promise rejection',
    );
  });

  return new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      if (shuttingDown) return;
      shuttingDown = true;
      server.drain();
      logger.info({ signal, delayMs: listen.shutdownDelayMs }, 'shutting down: /readyz now fails');
      await new Promise((r) => setTimeout(r, listen.shutdownDelayMs));
      await server.close(listen.shutdownTimeoutMs);
      sidecar?.close();
      components.close();
      logger.info('stopped');
      // The destination writes asynchronously: the exit that follows must not cut off the last lines.
      await new Promise<void>((flushed) => logger.flush(() => flushed()));
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    worker?.onPrimaryGone(() => void stop('primary gone'));
  });
}
