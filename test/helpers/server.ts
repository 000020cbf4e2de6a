import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Authentication } from '../../src/compose/authentication.js';
import { compose } from '../../src/compose/compose.js';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import { authenticationOptions, authorizationOptions } from '../../src/config/options.js';
import { createListener } from '../../src/http/app.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import type { KeySource } from '../../src/keys/key-source.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { suiteDir, writeFile } from './files.js';
import { httpsRequest, type HttpsRequest, type HttpsResponse } from './http.js';
import { rsaKey, type TestKey } from './keys.js';
import { captureLogs, type CapturedLogs } from './logs.js';
import { sharedTls } from './tls.js';
import { ISSUER } from './tokens.js';

export interface TestServerOptions {
  /** `serve` flags after the defaults (issuer, key file, port 0 on 127.0.0.1); a later flag wins. */
  readonly flags?: readonly string[];
  /** Keys written, as SPKI PEM, into the key file; default one RSA key. */
  readonly keys?: readonly TestKey[];
  readonly clock?: Clock;
  /** Watch key and TLS files (as `serve` does); off by default so nothing reloads behind a test's back. */
  readonly watch?: boolean;
  /** Key sources that alone verify these issuers' tokens (remote sources with test timings). */
  readonly issuerKeys?: ReadonlyMap<string, KeySource>;
}

export interface TestServer {
  readonly port: number;
  /** The CA that signed the serving certificate. */
  readonly ca: string;
  readonly config: ResolvedConfig;
  readonly chain: Authentication;
  readonly metrics: Metrics;
  readonly logs: CapturedLogs;
  readonly running: RunningServer;
  /** The key file the server reads; tests may rewrite it. */
  readonly keyFile: string;
  /** A directory removed on close, for extra files. */
  readonly dir: string;
  request(req: Omit<HttpsRequest, 'port' | 'ca'>): Promise<HttpsResponse>;
  /** POSTs a TokenReview body (any JSON value) to the v1 path, or another version/query. */
  review(body: unknown, options?: { version?: string; query?: string }): Promise<HttpsResponse>;
  close(): Promise<void>;
}

/** The flags every test listener starts with: the test issuer and key file, port 0 on 127.0.0.1. */
export function loopbackFlags(keyFile: string): string[] {
  return [
    '--service-account-issuer',
    ISSUER,
    '--service-account-key-file',
    keyFile,
    '--secure-port',
    '0',
    '--bind-address',
    '127.0.0.1',
  ];
}

export const reviewPath = (version = 'v1', query = ''): string =>
  `/apis/authentication.k8s.io/${version}/tokenreviews${query}`;

/** A v1 TokenReview request body. */
export function tokenReview(token: string, audiences?: readonly string[]): Record<string, unknown> {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token, ...(audiences ? { audiences } : {}) },
  };
}

/**
 * The real service on 127.0.0.1, port 0, over HTTPS: flags parsed by loadConfig, the
 * parts by compose (policy files and `--authorize-callers` included), createListener
 * and startServer wired as `serve` wires them, with logs captured in memory.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { dir, remove } = suiteDir();
  const keyFile = writeFile(dir, 'sa.pub', (options.keys ?? [rsaKey()]).map((k) => k.publicPem).join(''));
  const config = loadConfig('serve', [...loopbackFlags(keyFile), ...(options.flags ?? [])]);
  // Every level is captured, so the no-token-in-logs checks see debug lines too.
  const logs = captureLogs('trace');
  const authentication = authenticationOptions(config);
  const authorization = authorizationOptions(config);
  const sa = authentication.serviceAccounts;
  const components = await compose({
    ...(authorization ? { authorization } : {}),
    authentication: options.issuerKeys
      ? {
          ...authentication,
          serviceAccounts: { ...sa, keys: { ...sa.keys, issuerKeys: options.issuerKeys } },
        }
      : authentication,
    clock: options.clock ?? systemClock,
    logger: logs.logger,
    watch: options.watch ?? false,
  });
  const chain = components.authentication;
  const { metrics } = components;
  const listener = createListener({
    authenticator: chain.authenticator,
    apiAudiences: config.apiAudiences,
    ...(authorization ? { authorizer: components.authorization.authorizer } : {}),
    requestAuthenticator: chain.requestAuthenticator,
    ...(config.authorizeCallers ? { callerAuthenticator: chain.requestAuthenticator } : {}),
    metrics,
    logger: logs.logger,
    maxRequestBytes: config.maxRequestBytes,
    readiness: components.readiness,
  });
  const tls = await sharedTls();
  const running = await startServer({
    listener: { request: listener },
    host: config.bindAddress,
    port: config.securePort,
    // With --client-ca-file the server asks for a client certificate, as `serve` does.
    tls: {
      cert: tls.cert,
      key: tls.key,
      ...(config.clientCaFile ? { ca: readFileSync(config.clientCaFile, 'utf8') } : {}),
    },
    logger: logs.logger,
  });
  const request = (req: Omit<HttpsRequest, 'port' | 'ca'>) =>
    httpsRequest({ ...req, port: running.port, ca: tls.ca });
  return {
    port: running.port,
    ca: tls.ca,
    config,
    chain,
    metrics,
    logs,
    running,
    keyFile,
    dir,
    request,
    review: (body, { version = 'v1', query = '' } = {}) =>
      request({
        method: 'POST',
        path: reviewPath(version, query),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    async close() {
      await running.close(1000);
      components.close();
      remove();
    },
  };
}
