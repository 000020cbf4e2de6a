import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { systemClock } from '../../clock.js';
import { buildTokenChain } from '../../config/build.js';
import { loadConfig, requireTokenSettings, type ResolvedConfig } from '../../config/load.js';
import { helpText } from '../../config/schema.js';
import { createCertificateAuthority, issueCertificate } from '../../dev/certs.js';
import { createApp } from '../../http/app.js';
import { startServer, type RunningServer, type TlsMaterial } from '../../http/server.js';
import type { KeySource } from '../../keys/key-source.js';
import { createLogger } from '../../observe/log.js';
import { Metrics } from '../../observe/metrics.js';
import type { Command } from '../usage.js';
import { createPrivilegedGroupsAuthorizer } from '../../authz/privileged.js';
import { createPolicySource, type PolicyHealth } from '../../authz/rbac/policy-source.js';
import { builtinAuthorizers, createAuthorizerUnion } from '../../authz/union.js';
import type { HealthCheck } from '../../http/ops.js';

function policyCheck(h: PolicyHealth): HealthCheck {
  if (!h.ready) return { name: 'rbac-policy', ok: false, note: 'policy not loaded' };
  return h.lastError
    ? { name: 'rbac-policy', ok: true, note: 'last reload failed, serving the last good policy' }
    : { name: 'rbac-policy', ok: true };
}

export interface ServeExtras {
  readonly issuerKeys?: ReadonlyMap<string, KeySource>;
  readonly extraRoutes?: (app: Hono) => void;
  /** Serving material when no --tls-* files are given; else a throwaway self-signed pair. */
  readonly tls?: TlsMaterial;
  readonly onListening?: (server: RunningServer, logger: Logger) => void;
}

/** A throwaway CA-signed certificate for localhost, when no --tls-* files are given. */
export async function ephemeralTls(): Promise<TlsMaterial & { caCert: string }> {
  const ca = await createCertificateAuthority();
  const leaf = await issueCertificate(ca, {
    commonName: 'tokenwarden',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  return { cert: `${leaf.cert}${ca.cert}`, key: leaf.key, caCert: ca.cert };
}

/** Wires and runs the server until SIGTERM/SIGINT; resolves with the exit code. */
export async function runServer(config: ResolvedConfig, extras: ServeExtras = {}): Promise<number> {
  const logger = createLogger(config.logLevel);
  const chain = buildTokenChain(config, {
    clock: systemClock,
    logger,
    watch: true,
    ...(extras.issuerKeys ? { issuerKeys: extras.issuerKeys } : {}),
  });
  const policy =
    config.authorizationPolicyFiles.length > 0
      ? await createPolicySource(config.authorizationPolicyFiles, { logger })
      : undefined;
  // As kube-apiserver: system:masters is allowed before RBAC is asked.
  const authorizer = createAuthorizerUnion(
    builtinAuthorizers(policy?.authorizer, createPrivilegedGroupsAuthorizer()),
  );
  const metrics = new Metrics({
    cacheStats: () => chain.authenticator.stats(),
    keySources: () => chain.keySources.map((s) => s.health()),
    ...(policy ? { policy: () => policy.health() } : {}),
    ...(chain.authenticationConfigReloads ? { authenticationConfig: chain.authenticationConfigReloads } : {}),
  });
  let shuttingDown = false;
  const app = createApp({
    authenticator: chain.authenticator,
    apiAudiences: config.apiAudiences,
    authorizer,
    ...(config.authorizeCallers ? { callerAuthenticator: chain.requestAuthenticator } : {}),
    metrics,
    logger,
    maxRequestBytes: config.maxRequestBytes,
    readiness: () => [
      ...chain.readiness(),
      ...(policy ? [policyCheck(policy.health())] : []),
      { name: 'shutdown', ok: !shuttingDown, note: shuttingDown ? 'shutting down' : undefined },
    ],
    ...(extras.extraRoutes ? { extraRoutes: extras.extraRoutes } : {}),
  });

  let tls;
  if (config.tlsCertFile && config.tlsPrivateKeyFile) {
    tls = {
      certFile: config.tlsCertFile,
      keyFile: config.tlsPrivateKeyFile,
      // The server must ask for a certificate when either CA is set; authenticators verify against their own bundle.
      ...(config.clientCaFile || config.requestHeader
        ? { clientCaFile: config.clientCaFile ?? config.requestHeader!.clientCaFile }
        : {}),
    };
  } else {
    tls = extras.tls ?? (await ephemeralTls());
    if (!extras.tls) logger.warn('no --tls-cert-file given: serving a throwaway self-signed certificate');
  }
  const server = await startServer({ app, host: config.bindAddress, port: config.securePort, tls, logger });
  logger.info(
    { address: config.bindAddress, port: server.port, issuers: config.serviceAccountIssuers },
    'tokenwarden is serving',
  );
  extras.onListening?.(server, logger);

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
      logger.info({ signal, delayMs: config.shutdownDelayMs }, 'shutting down: /readyz now fails');
      await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
      await server.close(config.shutdownTimeoutMs);
      chain.close();
      policy?.close();
      logger.info('stopped');
      logger.flush();
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}

export const serve: Command = async (argv) => {
  const config = loadConfig('serve', argv);
  if (config.help) {
    console.log(helpText('serve', 'tokenwarden serve [options]'));
    return 0;
  }
  requireTokenSettings(config);
  return runServer(config);
};
