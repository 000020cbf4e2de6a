// tokenwarden itself as the e2e suite runs it: the built CLI (`node dist/cli/main.js serve`) as a child process on
// 127.0.0.1, stopped by pid like the cluster's processes. Build first (`npm run e2e` does).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { requestJson, type ClientTls, type JsonResponse } from './https.js';
import type { Cluster } from './cluster.js';
import { freePorts, waitFor } from './net.js';
import { issueServingCertificate } from './pki.js';
import { startProcess, type ManagedProcess } from './processes.js';

export const TOKENWARDEN_MAIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

export interface TokenwardenOptions {
  /** For log file names and messages. */
  name: string;
  /** Where the log file goes (a cluster's or the test's temp dir). */
  workDir: string;
  servingCertFile: string;
  servingKeyFile: string;
  /**
   * How the test itself calls tokenwarden: the CA that signed the serving certificate, and a client certificate
   * (sent only if tokenwarden asks for one, that is with --client-ca-file).
   */
  callerTls: ClientTls;
  /** Every `serve` flag after the listener and TLS ones: issuers, keys, audiences, policy files... */
  args: readonly string[];
  /** Chosen before start when the port must be known in advance (a webhook kubeconfig); else a free one. */
  port?: number;
  readyTimeoutMs?: number;
}

export interface Tokenwarden {
  readonly name: string;
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** POST a body to a path; any HTTP status is returned, not thrown. */
  post(path: string, body: unknown): Promise<JsonResponse>;
  tokenReview(body: unknown): Promise<JsonResponse>;
  subjectAccessReview(body: unknown): Promise<JsonResponse>;
  stop(): Promise<void>;
}

/**
 * TLS for a tokenwarden beside a cluster: a serving certificate from the cluster's CA, and
 * the test calling it as the cluster's admin.
 */
export async function clusterTls(
  cluster: Cluster,
): Promise<Pick<TokenwardenOptions, 'servingCertFile' | 'servingKeyFile' | 'callerTls'>> {
  const serving = await issueServingCertificate(cluster.workDir, 'tokenwarden', 'tokenwarden', {
    caFile: cluster.pki.caFile,
    caKeyFile: cluster.pki.caKeyFile,
  });
  return {
    servingCertFile: serving.cert,
    servingKeyFile: serving.key,
    callerTls: {
      caFile: cluster.pki.caFile,
      certFile: cluster.pki.adminCertFile,
      keyFile: cluster.pki.adminKeyFile,
    },
  };
}

export async function startTokenwarden(opts: TokenwardenOptions): Promise<Tokenwarden> {
  if (!existsSync(TOKENWARDEN_MAIN)) {
    throw new Error(`${TOKENWARDEN_MAIN} is missing: run \`npm run build\` (npm run e2e builds first)`);
  }
  const port = opts.port ?? (await freePorts(1))[0]!;
  const url = `https://127.0.0.1:${port}`;
  const args = [
    TOKENWARDEN_MAIN,
    'serve',
    '--bind-address',
    '127.0.0.1',
    '--secure-port',
    String(port),
    '--tls-cert-file',
    opts.servingCertFile,
    '--tls-private-key-file',
    opts.servingKeyFile,
    '--log-level',
    'warn',
    ...opts.args,
  ];
  const proc = startProcess(
    `tokenwarden (${opts.name})`,
    process.execPath,
    args,
    join(opts.workDir, `tokenwarden-${opts.name}.log`),
  );
  try {
    await waitFor(
      `tokenwarden (${opts.name}) /readyz`,
      async () =>
        (await requestJson(url, opts.callerTls, 'GET', '/readyz')).status === 200 ? true : undefined,
      {
        timeoutMs: opts.readyTimeoutMs ?? 30_000,
        intervalMs: 100,
        fatal: () => (proc.isRunning() ? undefined : `${proc.name} exited`),
        describe: () => `tokenwarden log (${proc.logFile}):\n${proc.logTail()}`,
      },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const post = (path: string, body: unknown): Promise<JsonResponse> =>
    requestJson(url, opts.callerTls, 'POST', path, body);
  return {
    name: opts.name,
    url,
    port,
    process: proc,
    post,
    tokenReview: (body) => post('/apis/authentication.k8s.io/v1/tokenreviews', body),
    subjectAccessReview: (body) => post('/apis/authorization.k8s.io/v1/subjectaccessreviews', body),
    stop: () => proc.stop(),
  };
}
