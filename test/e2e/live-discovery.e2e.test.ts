// `tokenwarden serve --kubeconfig FILE` and nothing else: the issuer from kube-apiserver's discovery document, the
// keys from its /openid/v1/jwks, the objects and RBAC from its watches. Every token kube issues here is reviewed by
// kube-apiserver and by that tokenwarden, with and without spec.audiences, and the answers must match field by
// field. The cluster runs with kube's default --api-audiences (the issuer), which a discovered configuration
// cannot read but assumes, as kube does. Tokens are never printed: only the review statuses are.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_ISSUER, startCluster, type Cluster } from './harness/cluster.js';
import { formatDifferences, judge, MATCH, normalizeTokenReview } from './harness/compare.js';
import {
  manifestStream,
  namespace,
  node,
  opaqueSecret,
  scheduledPod,
  serviceAccount,
} from './harness/manifests.js';
import { waitFor } from './harness/net.js';
import { clusterTls, startTokenwarden, type Tokenwarden } from './harness/tokenwarden.js';

const NS = 'discovered';
const AUDIENCE_CHOICES: readonly (readonly string[])[] = [
  [],
  [DEFAULT_ISSUER],
  ['api'],
  ['other', DEFAULT_ISSUER],
];
const MANIFESTS = manifestStream([
  namespace(NS),
  serviceAccount('app', NS),
  node('node-1'),
  opaqueSecret('bound-secret', NS),
]);
const PODS = manifestStream([
  scheduledPod('pod-1', NS, 'app', 'node-1'),
  scheduledPod('pod-doomed', NS, 'app', 'node-1'),
]);

let cluster: Cluster;
let tokenwarden: Tokenwarden;

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  // stderr only: stdout of `create token` is a credential.
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

const createToken = (...args: string[]): Promise<string> =>
  kubectlOk(['create', 'token', 'app', '-n', NS, ...args]);

function review(token: string, audiences: readonly string[]): object {
  const spec = { token, ...(audiences.length > 0 && { audiences: [...audiences] }) };
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
}

/** The differences between kube's answer and tokenwarden's for `token`, one line per audience choice that differs. */
async function differences(name: string, token: string): Promise<string[]> {
  const found: string[] = [];
  for (const audiences of AUDIENCE_CHOICES) {
    const body = review(token, audiences);
    const kube = normalizeTokenReview(
      await cluster.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', body),
    );
    const ours = normalizeTokenReview(await tokenwarden.tokenReview(body));
    const verdict = judge(MATCH, kube, ours);
    if (!verdict.ok)
      found.push(
        `${name} [spec.audiences ${JSON.stringify(audiences)}]: ${formatDifferences(verdict.diffs)}`,
      );
  }
  return found;
}

beforeAll(async () => {
  cluster = await startCluster({ binaries: inject('clusterBinaries'), apiAudiences: [DEFAULT_ISSUER] });
  await kubectlOk(['apply', '-f', '-'], MANIFESTS);
  await kubectlOk(['apply', '-f', '-'], PODS);
  // Ready only once the keys came from the apiserver and every watch has listed.
  tokenwarden = await startTokenwarden({
    name: 'discovered',
    workDir: cluster.workDir,
    ...(await clusterTls(cluster)),
    args: ['--kubeconfig', cluster.kubeconfigPath],
  });
});

afterAll(async () => {
  await tokenwarden?.stop();
  await cluster?.stop();
});

describe('serve --kubeconfig alone against kube-apiserver', () => {
  it('answers every TokenReview for the tokens the cluster issues as kube does', async () => {
    const tokens: Array<[string, string]> = [
      ['default audiences, 1 h', await createToken()],
      ['--duration 10m', await createToken('--duration', '10m')],
      ['--audience api', await createToken('--audience', 'api')],
      ['--audience api and the issuer', await createToken('--audience', 'api', '--audience', DEFAULT_ISSUER)],
      ['bound to pod-1', await createToken('--bound-object-kind', 'Pod', '--bound-object-name', 'pod-1')],
      [
        'bound to a Secret',
        await createToken('--bound-object-kind', 'Secret', '--bound-object-name', 'bound-secret'),
      ],
      ['bound to node-1', await createToken('--bound-object-kind', 'Node', '--bound-object-name', 'node-1')],
    ];
    const found = (await Promise.all(tokens.map(([name, token]) => differences(name, token)))).flat();
    expect(found, `differences:\n${found.join('\n')}`).toEqual([]);
    // The comparison is not vacuous: the default token is accepted by both, for the discovered issuer.
    const accepted = normalizeTokenReview(await tokenwarden.tokenReview(review(tokens[0]![1], [])));
    expect(accepted).toMatchObject({ authenticated: true, audiences: [DEFAULT_ISSUER] });
  });

  it('refuses a token once its pod is deleted, as kube does', async () => {
    const token = await createToken('--bound-object-kind', 'Pod', '--bound-object-name', 'pod-doomed');
    expect(await differences('bound to pod-doomed, alive', token)).toEqual([]);
    await kubectlOk(['delete', 'pod', 'pod-doomed', '-n', NS, '--grace-period=0', '--force', '--wait=true']);
    // The watch event reaches tokenwarden shortly after kubectl returns: bounded wait for the answers to agree.
    const found = await waitFor(
      'tokenwarden to see the pod deleted',
      async () => {
        const diffs = await differences('bound to pod-doomed, deleted', token);
        return diffs.length === 0 ? diffs : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(found).toEqual([]);
    const refused = normalizeTokenReview(await tokenwarden.tokenReview(review(token, [])));
    expect(refused.authenticated).toBeFalsy();
  });
});
