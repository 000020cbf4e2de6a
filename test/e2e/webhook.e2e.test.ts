// kube-apiserver with tokenwarden as its token and authorization webhooks, wired with the webhook kubeconfig that
// README.md documents: a token only tokenwarden can verify (an issuer and EC key the apiserver does not know)
// authenticates `kubectl auth whoami`, and a permission only tokenwarden's policy grants makes `kubectl auth can-i`
// say yes. tokenwarden starts first (the kubeconfigs name its port and CA) and everything is stopped at the end.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import { startCluster, type Cluster } from './harness/cluster.js';
import {
  describeExpectation,
  diffSubjectAccessReviews,
  diffTokenReviews,
  formatDifferences,
  Ledger,
  normalizeSubjectAccessReview,
  normalizeTokenReview,
} from './harness/compare.js';
import { runKubectl } from './harness/kubectl.js';
import { manifestStream } from './harness/manifests.js';
import { freePorts } from './harness/net.js';
import {
  createCertificateAuthority,
  createKeyPair,
  issueClientCertificate,
  issueServingCertificate,
} from './harness/pki.js';
import { startTokenwarden, type Tokenwarden } from './harness/tokenwarden.js';
import { craftServiceAccountToken, loadPrivateKey } from './harness/tokens.js';

const REMOTE_ISSUER = 'https://remote-cluster.example';
const ROBOT = { name: 'robot', uid: '9d0c1f5e-0b1a-4c1e-9a51-6d6f0e6c1a11' };
const ROBOT_USER = 'system:serviceaccount:remote:robot';

/** Only in tokenwarden's policy: the apiserver's own RBAC knows nothing of it. */
const WEBHOOK_POLICY = manifestStream([
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'remote-secrets-reader' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'remote-robot-reads-secrets' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'remote-secrets-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: ROBOT_USER }],
  },
]);

const keepWorkDir = process.env.TOKENWARDEN_E2E_KEEP === '1';
let workDir: string | undefined;
let tokenwarden: Tokenwarden | undefined;
let cluster: Cluster | undefined;
let remoteKeyFile: string;
const ledger = new Ledger();

/** The README's webhook kubeconfig, for one review endpoint of tokenwarden. */
function webhookKubeconfig(
  server: string,
  files: { ca: string; clientCert: string; clientKey: string },
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tokenwarden', cluster: { server, 'certificate-authority': files.ca } }],
    users: [
      {
        name: 'kube-apiserver',
        user: { 'client-certificate': files.clientCert, 'client-key': files.clientKey },
      },
    ],
    contexts: [{ name: 'webhook', context: { cluster: 'tokenwarden', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  });
}

function remoteToken(over: { issuedAt?: number; lifetimeSeconds?: number } = {}): string {
  return craftServiceAccountToken({
    privateKey: loadPrivateKey(remoteKeyFile),
    issuer: REMOTE_ISSUER,
    namespace: 'remote',
    serviceAccount: ROBOT,
    audiences: ['api'],
    ...over,
  });
}

/** A kubeconfig that authenticates to the apiserver with nothing but `token`. */
async function tokenKubeconfig(name: string, token: string): Promise<string> {
  if (!cluster || !workDir) throw new Error('the cluster did not start');
  const path = join(workDir, `${name}.kubeconfig`);
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'e2e', user: name } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return path;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tokenwarden-e2e-webhook-'));
  const servingCa = await createCertificateAuthority(workDir, 'tokenwarden-ca', 'tokenwarden-e2e-serving-ca');
  const clientCa = await createCertificateAuthority(
    workDir,
    'apiserver-client-ca',
    'tokenwarden-e2e-client-ca',
  );
  const [serving, client, remoteKeys] = await Promise.all([
    issueServingCertificate(workDir, 'tokenwarden', 'tokenwarden', servingCa),
    issueClientCertificate(workDir, 'apiserver-client', { commonName: 'kube-apiserver' }, clientCa),
    createKeyPair(workDir, 'remote-issuer', 'ec'),
  ]);
  remoteKeyFile = remoteKeys.privateKeyFile;
  const policyFile = join(workDir, 'webhook-policy.yaml');
  await writeFile(policyFile, WEBHOOK_POLICY);

  // tokenwarden first: the webhook kubeconfigs name its port and CA.
  const [port] = (await freePorts(1)) as [number];
  tokenwarden = await startTokenwarden({
    name: 'webhook',
    workDir,
    port,
    servingCertFile: serving.cert,
    servingKeyFile: serving.key,
    callerTls: { caFile: servingCa.caFile, certFile: client.cert, keyFile: client.key },
    args: [
      '--client-ca-file',
      clientCa.caFile,
      '--service-account-issuer',
      REMOTE_ISSUER,
      '--service-account-key-file',
      remoteKeys.publicKeyFile,
      '--api-audiences',
      'api',
      '--rbac-policy-file',
      policyFile,
    ],
  });
  const files = { ca: servingCa.caFile, clientCert: client.cert, clientKey: client.key };
  const authnConfig = join(workDir, 'authn-webhook.kubeconfig');
  const authzConfig = join(workDir, 'authz-webhook.kubeconfig');
  await writeFile(
    authnConfig,
    webhookKubeconfig(`${tokenwarden.url}/apis/authentication.k8s.io/v1/tokenreviews`, files),
  );
  await writeFile(
    authzConfig,
    webhookKubeconfig(`${tokenwarden.url}/apis/authorization.k8s.io/v1/subjectaccessreviews`, files),
  );

  cluster = await startCluster({
    binaries: inject('clusterBinaries'),
    authorizationModes: ['RBAC', 'Webhook'],
    authenticationTokenWebhookConfigFile: authnConfig,
    authorizationWebhookConfigFile: authzConfig,
    extraApiserverArgs: [
      '--authentication-token-webhook-version=v1',
      '--authentication-token-webhook-cache-ttl=2m',
      '--authorization-webhook-version=v1',
    ],
  });
});

afterAll(async () => {
  // Whatever happened: the cluster, then tokenwarden, then the files.
  const results = await Promise.allSettled([cluster?.stop()]);
  results.push(...(await Promise.allSettled([tokenwarden?.stop()])));
  if (workDir !== undefined) {
    if (keepWorkDir) console.error(`webhook e2e files and logs kept in ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
  ledger.flush(inject('ledgerDir'), 'webhook');
  console.log(
    `webhook comparisons:\n${ledger.report('tokens') || '  tokens: no differences'}\n` +
      `${ledger.report('sars') || '  SARs: no differences'}`,
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

function kubectlAs(kubeconfig: string, args: readonly string[]) {
  return runKubectl(kubeconfig, args);
}

describe('kube-apiserver with tokenwarden as its webhooks (README wiring)', () => {
  it('authenticates kubectl auth whoami with a token only tokenwarden can verify', async () => {
    if (!cluster) throw new Error('the cluster did not start');
    const kubeconfig = await tokenKubeconfig('robot', remoteToken());
    const whoami = await kubectlAs(kubeconfig, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    const info = (JSON.parse(whoami.stdout) as { status: { userInfo: Record<string, unknown> } }).status
      .userInfo;
    expect(info.username).toBe(ROBOT_USER);
    expect(info.uid).toBe(ROBOT.uid);
    expect(info.groups).toEqual([
      'system:serviceaccounts',
      'system:serviceaccounts:remote',
      'system:authenticated',
    ]);
    expect(Object.keys((info.extra as Record<string, unknown>) ?? {})).toEqual([
      'authentication.kubernetes.io/credential-id',
    ]);

    const expired = await tokenKubeconfig(
      'robot-expired',
      remoteToken({ issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetimeSeconds: 3600 }),
    );
    const refused = await kubectlAs(expired, ['auth', 'whoami', '-o', 'json']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Unauthorized/);
  });

  it("answers the apiserver's own TokenReview through the webhook exactly as tokenwarden answers it", async () => {
    if (!cluster || !tokenwarden) throw new Error('the cluster did not start');
    const failures: string[] = [];
    const tokens: Array<[string, string]> = [
      ['remote token', remoteToken()],
      [
        'remote token, expired',
        remoteToken({ issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetimeSeconds: 3600 }),
      ],
    ];
    for (const [name, token] of tokens) {
      // The apiserver sends its API audiences to the webhook; ask tokenwarden the same question directly.
      const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
      const viaKube = normalizeTokenReview(
        await cluster.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', body),
      );
      const direct = normalizeTokenReview(
        await tokenwarden.tokenReview({ ...body, spec: { token, audiences: [...cluster.apiAudiences] } }),
      );
      // kube's bearer authenticator wraps whatever error its token chain returns, the webhook's included, as it
      // would wrap another kube-apiserver's answer: `[invalid bearer token, <the webhook's status.error>]`.
      const relayed = {
        ...direct,
        error: direct.error === undefined ? undefined : `[invalid bearer token, ${direct.error}]`,
      };
      const diffs = diffTokenReviews(viaKube, relayed);
      ledger.record({
        kind: 'tokens',
        name: `via the token webhook: ${name}`,
        counted: diffs.length === 0 ? 'match' : 'unexplained',
        ok: diffs.length === 0,
        detail: `${describeExpectation({ kind: 'match' })}: ${formatDifferences(diffs)}`,
      });
      if (diffs.length > 0) failures.push(`${name}: ${formatDifferences(diffs)}`);
    }
    expect(failures).toEqual([]);
  });

  it('says yes to kubectl auth can-i for a permission only tokenwarden grants', async () => {
    if (!cluster || !tokenwarden) throw new Error('the cluster did not start');
    const kubeconfig = await tokenKubeconfig('robot-can-i', remoteToken());
    const yes = await kubectlAs(kubeconfig, ['auth', 'can-i', 'list', 'secrets', '-n', 'kube-system']);
    expect(yes.stdout.trim(), yes.stderr).toBe('yes');
    const no = await kubectlAs(kubeconfig, ['auth', 'can-i', 'delete', 'secrets', '-n', 'kube-system']);
    expect(no.stdout.trim(), no.stderr).toBe('no');
    // The apiserver's own RBAC does not grant it: asked of RBAC alone (impersonating), the admin gets the webhook's yes.
    const impersonated = await cluster.kubectl(['auth', 'can-i', 'get', 'secrets', '--as', ROBOT_USER]);
    expect(impersonated.stdout.trim(), impersonated.stderr).toBe('yes');

    // kube's SubjectAccessReview passes tokenwarden's decision and reason through.
    const failures: string[] = [];
    for (const verb of ['get', 'list', 'delete']) {
      const body = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: ROBOT_USER,
          resourceAttributes: { namespace: 'kube-system', verb, resource: 'secrets' },
        },
      };
      const viaKube = normalizeSubjectAccessReview(
        await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body),
      );
      const direct = normalizeSubjectAccessReview(await tokenwarden.subjectAccessReview(body));
      const diffs = diffSubjectAccessReviews(viaKube, direct);
      ledger.record({
        kind: 'sars',
        name: `via the authorization webhook: ${verb} secrets`,
        counted: diffs.length === 0 ? 'match' : 'unexplained',
        ok: diffs.length === 0,
        detail: formatDifferences(diffs),
      });
      if (diffs.length > 0) failures.push(`${verb} secrets: ${formatDifferences(diffs)}`);
    }
    expect(failures).toEqual([]);
  });
});
