// Live mode's delegation against a real kube-apiserver: tokenwarden with --delegate-unknown-tokens and
// --delegate-authorization hands the cluster the tokens it cannot judge (a static token from kube-apiserver's
// --token-auth-file, a service-account token of an issuer only the apiserver has) and the SubjectAccessReviews its
// policy has no opinion on (what kube's Node authorizer grants), and must give the apiserver's own answers; a
// live-mode twin without the flags shows these are answers only the cluster could give.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { startCluster, type Cluster } from './harness/cluster.js';
import {
  diffSubjectAccessReviews,
  diffTokenReviews,
  formatDifferences,
  normalizeSubjectAccessReview,
  normalizeTokenReview,
} from './harness/compare.js';
import { clusterTls, startTokenwarden, type Tokenwarden } from './harness/tokenwarden.js';
import { craftServiceAccountToken, loadPrivateKey } from './harness/tokens.js';

/** An issuer kube-apiserver accepts besides its first; tokenwarden is told only of the first. */
const SECOND_ISSUER = 'https://second-issuer.example';
const STATIC_TOKEN = 'e2e-static-token-of-alice';

const keepWorkDir = process.env.TOKENWARDEN_E2E_KEEP === '1';
let workDir: string | undefined;
let cluster: Cluster | undefined;
let delegating: Tokenwarden | undefined;
let notDelegating: Tokenwarden | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tokenwarden-e2e-delegation-'));
  const tokenFile = join(workDir, 'tokens.csv');
  // kube's --token-auth-file: token,user,uid,"group,group"
  await writeFile(tokenFile, `${STATIC_TOKEN},static-alice,uid-alice,"devs,ops"\n`, { mode: 0o600 });
  cluster = await startCluster({
    binaries: inject('clusterBinaries'),
    extraApiserverArgs: [`--token-auth-file=${tokenFile}`, `--service-account-issuer=${SECOND_ISSUER}`],
  });
  const tls = await clusterTls(cluster);
  const common = [
    '--service-account-issuer',
    cluster.issuer,
    '--service-account-key-file',
    cluster.pki.serviceAccountRsa.publicKeyFile,
    '--api-audiences',
    cluster.apiAudiences.join(','),
    '--kubeconfig',
    cluster.kubeconfigPath,
  ];
  const c = cluster;
  [delegating, notDelegating] = await Promise.all([
    startTokenwarden({
      name: 'delegating',
      workDir: c.workDir,
      ...tls,
      args: [...common, '--delegate-unknown-tokens', '--delegate-authorization'],
    }),
    startTokenwarden({ name: 'live-not-delegating', workDir: c.workDir, ...tls, args: common }),
  ]);
});

afterAll(async () => {
  const results = await Promise.allSettled([delegating?.stop(), notDelegating?.stop()]);
  results.push(...(await Promise.allSettled([cluster?.stop()])));
  if (workDir !== undefined) {
    if (keepWorkDir) console.error(`delegation e2e files kept in ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

function started(): { cluster: Cluster; delegating: Tokenwarden; notDelegating: Tokenwarden } {
  if (!cluster || !delegating || !notDelegating) throw new Error('the cluster or tokenwarden did not start');
  return { cluster, delegating, notDelegating };
}

/** The service account `default` of namespace `default`, once the controller-manager has made it. */
async function defaultServiceAccount(c: Cluster): Promise<{ name: string; uid: string }> {
  for (let i = 0; i < 60; i++) {
    const r = await c.kubectl([
      'get',
      'serviceaccount',
      'default',
      '-n',
      'default',
      '-o',
      'jsonpath={.metadata.uid}',
    ]);
    if (r.code === 0 && r.stdout.trim() !== '') return { name: 'default', uid: r.stdout.trim() };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('serviceaccount default/default never appeared');
}

describe('live mode delegating to kube-apiserver', () => {
  it('answers a token only the cluster knows as the cluster does, for each spec.audiences choice', async () => {
    const { cluster: c, delegating: tw, notDelegating: plain } = started();
    const sa = await defaultServiceAccount(c);
    const secondIssuerToken = craftServiceAccountToken({
      privateKey: loadPrivateKey(c.pki.serviceAccountRsa.privateKeyFile),
      issuer: SECOND_ISSUER,
      namespace: 'default',
      serviceAccount: sa,
      audiences: ['api'],
    });
    const tokens: Array<[string, string]> = [
      ['a static token', STATIC_TOKEN],
      ['a token of an issuer only the apiserver has', secondIssuerToken],
      ['a token nobody knows', 'not-a-known-token'],
    ];
    const audienceChoices: Array<string[] | undefined> = [
      undefined,
      ['api'],
      ['elsewhere'],
      ['elsewhere', 'api'],
    ];
    const differences: string[] = [];
    let authenticatedByCluster = 0;
    for (const [what, token] of tokens) {
      for (const audiences of audienceChoices) {
        const spec = { token, ...(audiences ? { audiences } : {}) };
        const kube = normalizeTokenReview({ status: 201, body: await c.tokenReview({ spec }) });
        const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
        const ours = normalizeTokenReview(await tw.tokenReview(body));
        // kube's webhook token client checks audiences before `authenticated`: a refusal for audiences that share
        // none with the API audiences is a clean `invalid bearer token` without the cluster's reason.
        const outsideApiAudiences =
          audiences !== undefined && !audiences.some((a) => c.apiAudiences.includes(a));
        const diffs =
          !kube.authenticated && outsideApiAudiences
            ? diffTokenReviews({ ...kube, error: 'invalid bearer token' }, ours)
            : diffTokenReviews(kube, ours);
        if (diffs.length > 0)
          differences.push(`${what}, audiences ${JSON.stringify(audiences)}:\n${formatDifferences(diffs)}`);
        if (kube.authenticated) {
          authenticatedByCluster++;
          // Without delegation the same live-mode tokenwarden cannot know it.
          expect(normalizeTokenReview(await plain.tokenReview(body)).authenticated).toBe(false);
        }
      }
    }
    expect(differences, differences.join('\n')).toEqual([]);
    // The static token for no audiences and `api`, the second issuer's token likewise (its aud is `api`).
    expect(authenticatedByCluster).toBeGreaterThanOrEqual(4);
  });

  it('leaves a token tokenwarden claims to tokenwarden: the same answer as kube for its own issuer', async () => {
    const { cluster: c, delegating: tw, notDelegating: plain } = started();
    const sa = await defaultServiceAccount(c);
    const expired = craftServiceAccountToken({
      privateKey: loadPrivateKey(c.pki.serviceAccountRsa.privateKeyFile),
      issuer: c.issuer,
      namespace: 'default',
      serviceAccount: sa,
      audiences: ['api'],
      issuedAt: Math.floor(Date.now() / 1000) - 7200,
    });
    const spec = { token: expired };
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
    const kube = normalizeTokenReview({ status: 201, body: await c.tokenReview({ spec }) });
    const ours = normalizeTokenReview(await tw.tokenReview(body));
    expect(ours.authenticated).toBe(false);
    expect(ours.error).toBe('[invalid bearer token, service account token has expired]');
    expect(diffTokenReviews(kube, ours)).toEqual([]);
    expect(diffTokenReviews(normalizeTokenReview(await plain.tokenReview(body)), ours)).toEqual([]);
  });

  it("gives the cluster's answer to a SubjectAccessReview its policy has no opinion on", async () => {
    const { cluster: c, delegating: tw, notDelegating: plain } = started();
    const node = { user: 'system:node:node-a', groups: ['system:nodes', 'system:authenticated'] };
    const requests: Array<[string, Record<string, unknown>]> = [
      // kube's Node authorizer grants a node its own Node object; no RBAC binding does.
      [
        'a node reading its Node',
        { ...node, resourceAttributes: { verb: 'get', resource: 'nodes', name: 'node-a' } },
      ],
      [
        'a node reading configmaps it has no pod for',
        {
          ...node,
          resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: 'default', name: 'x' },
        },
      ],
      [
        'a user nothing grants',
        {
          user: 'nobody',
          groups: ['system:authenticated'],
          resourceAttributes: { verb: 'delete', resource: 'secrets', namespace: 'default' },
        },
      ],
      [
        'discovery, granted by RBAC locally',
        {
          user: 'nobody',
          groups: ['system:authenticated'],
          nonResourceAttributes: { verb: 'get', path: '/api' },
        },
      ],
    ];
    const differences: string[] = [];
    for (const [what, spec] of requests) {
      const kube = normalizeSubjectAccessReview({ status: 201, body: await c.subjectAccessReview({ spec }) });
      const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
      const ours = normalizeSubjectAccessReview(await tw.subjectAccessReview(body));
      const diffs = diffSubjectAccessReviews(kube, ours);
      if (diffs.length > 0) differences.push(`${what}:\n${formatDifferences(diffs)}`);
    }
    expect(differences, differences.join('\n')).toEqual([]);
    const nodeRead = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: requests[0]![1],
    };
    expect(normalizeSubjectAccessReview(await tw.subjectAccessReview(nodeRead)).allowed).toBe(true);
    expect(normalizeSubjectAccessReview(await plain.subjectAccessReview(nodeRead)).allowed).toBe(false);
  });
});
