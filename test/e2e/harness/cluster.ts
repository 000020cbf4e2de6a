// A real etcd + kube-apiserver + kube-controller-manager on 127.0.0.1, for checking tokenwarden's answers against
// kube's own. Everything lives in one temp dir (certs, keys, etcd data, process logs) removed by stop().
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

import { ensureClusterBinaries, type ClusterBinaries } from './binaries.js';
import { requestJson, type ClientTls, type JsonResponse } from './https.js';
import type {
  SubjectAccessReviewRequest,
  SubjectAccessReviewResult,
  TokenReviewRequest,
  TokenReviewResult,
} from './kube-types.js';
import { runKubectl, type CommandResult, type KubectlOptions } from './kubectl.js';
import { freePorts, waitFor } from './net.js';
import { createClusterPki, type ClusterPki } from './pki.js';
import { onProcessExit, startProcess, type ManagedProcess } from './processes.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ClusterOptions {
  /** Defaults to building (or finding cached) binaries with build.sh. */
  binaries?: ClusterBinaries;
  /** `--api-audiences`; defaults to the issuer and `api`. */
  apiAudiences?: readonly string[];
  /** `--authorization-mode`; defaults to Node,RBAC. Add `Webhook` together with `authorizationWebhookConfigFile`. */
  authorizationModes?: readonly string[];
  /** `--authentication-token-webhook-config-file` (a kubeconfig, as staging/src/k8s.io/apiserver/pkg/util/webhook reads it). */
  authenticationTokenWebhookConfigFile?: string;
  /** `--authorization-webhook-config-file` (a kubeconfig, as above). */
  authorizationWebhookConfigFile?: string;
  /** Appended after the harness's own kube-apiserver flags; a repeated flag overrides for most flag types. */
  extraApiserverArgs?: readonly string[];
  /** Bound on each start-up wait; kube-apiserver's /readyz is the slow one. */
  readyTimeoutMs?: number;
  /** Leave the temp dir (logs, certs) behind after stop(); also set by TOKENWARDEN_E2E_KEEP=1. */
  keepWorkDir?: boolean;
}

export interface Cluster {
  readonly workDir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly caFile: string;
  readonly pki: ClusterPki;
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  readonly processes: {
    readonly etcd: ManagedProcess;
    readonly apiserver: ManagedProcess;
    readonly controllerManager: ManagedProcess;
  };
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<CommandResult>;
  /** A request as the admin (client certificate, system:masters). */
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<JsonResponse>;
  /** The apiserver's own TokenReview; the answer's `spec.token` is removed. */
  tokenReview(review: TokenReviewRequest): Promise<TokenReviewResult>;
  subjectAccessReview(review: SubjectAccessReviewRequest): Promise<SubjectAccessReviewResult>;
  /** Stops all three processes (SIGTERM, then SIGKILL after a bound) and removes the temp dir. */
  stop(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 120_000;

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const binaries = opts.binaries ?? (await ensureClusterBinaries());
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const keepWorkDir = opts.keepWorkDir ?? process.env.TOKENWARDEN_E2E_KEEP === '1';
  const workDir = await mkdtemp(join(tmpdir(), 'tokenwarden-e2e-'));
  const removeExitHook = onProcessExit(() => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  const started: ManagedProcess[] = [];

  const teardown = async (): Promise<void> => {
    // Reverse start order: etcd last, so the apiserver is not left retrying a vanished store while it shuts down.
    for (const proc of [...started].reverse()) await proc.stop();
    removeExitHook();
    if (keepWorkDir) console.error(`e2e cluster files and logs kept in ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  };

  try {
    const pki = await createClusterPki(workDir);
    const [etcdClientPort, etcdPeerPort, apiserverPort] = (await freePorts(3)) as [number, number, number];
    const server = `https://127.0.0.1:${apiserverPort}`;
    const issuer = DEFAULT_ISSUER;
    const apiAudiences = opts.apiAudiences ?? [issuer, 'api'];
    const adminTls: ClientTls = {
      caFile: pki.caFile,
      certFile: pki.adminCertFile,
      keyFile: pki.adminKeyFile,
    };
    const kubeconfigPath = join(workDir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, adminKubeconfig(server, adminTls), { mode: 0o600 });

    const etcd = startProcess(
      'etcd',
      binaries.etcd,
      etcdArgs(workDir, etcdClientPort, etcdPeerPort),
      log(workDir, 'etcd'),
    );
    started.push(etcd);
    await waitFor('etcd /health', () => etcdHealthy(etcdClientPort), {
      timeoutMs: readyTimeoutMs,
      fatal: () => exitedReason(etcd),
      describe: () => `etcd log (${etcd.logFile}):\n${etcd.logTail()}`,
    });

    const apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserverPort}`,
      `--tls-cert-file=${pki.servingCertFile}`,
      `--tls-private-key-file=${pki.servingKeyFile}`,
      `--client-ca-file=${pki.caFile}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      // No kubelets or other apiservers: nothing should publish Endpoints for the `kubernetes` service.
      '--endpoint-reconciler-type=none',
      `--service-account-issuer=${issuer}`,
      `--service-account-key-file=${pki.serviceAccountRsa.publicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountRsa.privateKeyFile}`,
      `--api-audiences=${apiAudiences.join(',')}`,
      `--authorization-mode=${(opts.authorizationModes ?? ['Node', 'RBAC']).join(',')}`,
      ...(opts.authenticationTokenWebhookConfigFile
        ? [`--authentication-token-webhook-config-file=${opts.authenticationTokenWebhookConfigFile}`]
        : []),
      ...(opts.authorizationWebhookConfigFile
        ? [`--authorization-webhook-config-file=${opts.authorizationWebhookConfigFile}`]
        : []),
      '--profiling=false',
      '--v=2',
      ...(opts.extraApiserverArgs ?? []),
    ];
    const apiserver = startProcess(
      'kube-apiserver',
      binaries.kubeApiserver,
      apiserverArgs,
      log(workDir, 'kube-apiserver'),
    );
    started.push(apiserver);
    await waitFor(
      'kube-apiserver /readyz',
      async () => ((await requestJson(server, adminTls, 'GET', '/readyz')).status === 200 ? true : undefined),
      {
        timeoutMs: readyTimeoutMs,
        fatal: () => exitedReason(apiserver) ?? exitedReason(etcd),
        describe: () => `kube-apiserver log (${apiserver.logFile}):\n${apiserver.logTail()}`,
      },
    );

    const controllerManagerArgs = [
      `--kubeconfig=${kubeconfigPath}`,
      '--controllers=clusterrole-aggregation,serviceaccount-token,serviceaccount',
      `--service-account-private-key-file=${pki.serviceAccountRsa.privateKeyFile}`,
      `--root-ca-file=${pki.caFile}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      // No serving endpoint, hence no delegated authn/authz kubeconfigs: readiness is judged by its effects below.
      '--secure-port=0',
      '--v=2',
    ];
    const controllerManager = startProcess(
      'kube-controller-manager',
      binaries.kubeControllerManager,
      controllerManagerArgs,
      log(workDir, 'kube-controller-manager'),
    );
    started.push(controllerManager);
    // The serviceaccount controller creating default/default shows the controllers are running.
    await waitFor(
      'kube-controller-manager to create the default ServiceAccount',
      async () =>
        (await requestJson(server, adminTls, 'GET', '/api/v1/namespaces/default/serviceaccounts/default'))
          .status === 200
          ? true
          : undefined,
      {
        timeoutMs: readyTimeoutMs,
        fatal: () => exitedReason(controllerManager) ?? exitedReason(apiserver),
        describe: () =>
          `kube-controller-manager log (${controllerManager.logFile}):\n${controllerManager.logTail()}`,
      },
    );

    const call = (method: 'GET' | 'POST', path: string, body?: unknown): Promise<JsonResponse> =>
      requestJson(server, adminTls, method, path, body);
    let stopping: Promise<void> | undefined;
    return {
      workDir,
      server,
      kubeconfigPath,
      caFile: pki.caFile,
      pki,
      issuer,
      apiAudiences,
      processes: { etcd, apiserver, controllerManager },
      kubectl: (args, kubectlOpts) => runKubectl(kubeconfigPath, args, kubectlOpts),
      request: call,
      async tokenReview(review) {
        const res = await created(call, '/apis/authentication.k8s.io/v1/tokenreviews', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          ...review,
        });
        const answer = res as TokenReviewResult & { spec: { token?: string } };
        delete answer.spec.token;
        return answer;
      },
      async subjectAccessReview(review) {
        return (await created(call, '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          ...review,
        })) as SubjectAccessReviewResult;
      },
      stop: () => (stopping ??= teardown()),
    };
  } catch (err) {
    await teardown().catch((stopErr: unknown) => {
      throw new AggregateError([err, stopErr], 'the cluster failed to start, and then to stop');
    });
    throw err;
  }
}

function log(workDir: string, name: string): string {
  return join(workDir, `${name}.log`);
}

function exitedReason(proc: ManagedProcess): string | undefined {
  return proc.isRunning() ? undefined : `${proc.name} exited`;
}

function etcdArgs(workDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=e2e',
    `--data-dir=${join(workDir, 'etcd-data')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=e2e=${peer}`,
    // Throwaway data: fsync only slows a small shared machine down.
    '--unsafe-no-fsync',
  ];
}

function etcdHealthy(port: number): Promise<true | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 5_000, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () =>
        resolve(res.statusCode === 200 && text.includes('"health":"true"') ? true : undefined),
      );
    });
    req.on('timeout', () => req.destroy(new Error('etcd /health timed out')));
    req.on('error', reject);
    req.end();
  });
}

function adminKubeconfig(server: string, tls: ClientTls): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority': tls.caFile } }],
    users: [{ name: 'admin', user: { 'client-certificate': tls.certFile, 'client-key': tls.keyFile } }],
    contexts: [{ name: 'admin@e2e', context: { cluster: 'e2e', user: 'admin' } }],
    'current-context': 'admin@e2e',
  });
}

/** POSTs a review and insists on kube's 201 Created; other answers are `Status` errors worth showing whole. */
async function created(
  call: (method: 'POST', path: string, body: unknown) => Promise<JsonResponse>,
  path: string,
  body: unknown,
): Promise<unknown> {
  const res = await call('POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
