// Proves the e2e harness: a real kube-apiserver, etcd and kube-controller-manager answer as a cluster does, and
// records kube's own rejection texts for the fidelity docs. Tokens are never printed, not even in failed assertions.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { startCluster, type Cluster } from './harness/cluster.js';
import type { TokenReviewResult } from './harness/kube-types.js';
import { waitFor } from './harness/net.js';
import { craftServiceAccountToken, decodeUnverified, kubeKeyId, loadPrivateKey } from './harness/tokens.js';

const NAMESPACE = 'smoke';
const SERVICE_ACCOUNT = 'app';
const SA_USER = `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;
const SA_GROUPS = ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'];

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ binaries: inject('clusterBinaries') });
  // Here rather than in a test, so that any single test can run alone (-t).
  await kubectlOk('create', 'namespace', NAMESPACE);
  await kubectlOk('create', 'serviceaccount', SERVICE_ACCOUNT, '-n', NAMESPACE);
});

afterAll(async () => {
  await cluster?.stop();
});

async function kubectlOk(...args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  // stderr only: stdout of `create token` is a credential.
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

/** A token from `kubectl create token`; checked for shape without ever appearing in a message. */
async function createToken(...extraArgs: string[]): Promise<string> {
  const token = await kubectlOk('create', 'token', SERVICE_ACCOUNT, '-n', NAMESPACE, ...extraArgs);
  expect(token.split('.').length, 'kubectl create token printed something other than a JWS').toBe(3);
  return token;
}

async function serviceAccountUid(): Promise<string> {
  return kubectlOk(
    'get',
    'serviceaccount',
    SERVICE_ACCOUNT,
    '-n',
    NAMESPACE,
    '-o',
    'jsonpath={.metadata.uid}',
  );
}

function expectRejected(review: TokenReviewResult): string {
  expect(review.status.authenticated).toBeUndefined();
  expect(review.status.user).toEqual({});
  expect(review.status.audiences).toBeUndefined();
  expect(typeof review.status.error).toBe('string');
  return review.status.error ?? '';
}

describe('the e2e cluster (real kube-apiserver)', () => {
  it('is ready and reports the pinned version', async () => {
    expect((await cluster.request('GET', '/readyz')).status).toBe(200);
    const version = (await cluster.request('GET', '/version')).body as { gitVersion: string };
    expect(version.gitVersion).toBe('v1.37.2');
  });

  it('has the namespace and service account that kubectl created', async () => {
    expect(await serviceAccountUid()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('authenticates a kubectl-issued token for the API audiences', async () => {
    const review = await cluster.tokenReview({ spec: { token: await createToken() } });
    expect(review.status.authenticated).toBe(true);
    expect(review.status.error).toBeUndefined();
    expect(review.status.audiences).toEqual(cluster.apiAudiences);
    const user = review.status.user ?? {};
    expect(user.username).toBe(SA_USER);
    expect(user.uid).toBe(await serviceAccountUid());
    expect(user.groups).toEqual(SA_GROUPS);
    expect(Object.keys(user.extra ?? {})).toEqual(['authentication.kubernetes.io/credential-id']);
    expect(user.extra?.['authentication.kubernetes.io/credential-id']?.[0]).toMatch(/^JTI=[0-9a-f-]{36}$/);
  });

  it('authenticates a token for a custom audience when the review asks for that audience', async () => {
    const token = await createToken('--audience', 'vault');
    const review = await cluster.tokenReview({ spec: { token, audiences: ['vault'] } });
    expect(review.status.authenticated).toBe(true);
    expect(review.status.audiences).toEqual(['vault']);
    expect(review.status.user?.username).toBe(SA_USER);
    expect(review.status.user?.groups).toEqual(SA_GROUPS);
  });

  it("signs with the cluster's RSA key under kube's kid, which tokens.ts derives the same way", async () => {
    const { header, payload } = decodeUnverified(await createToken());
    expect(header).toEqual({
      alg: 'RS256',
      kid: kubeKeyId(loadPrivateKey(cluster.pki.serviceAccountRsa.privateKeyFile)),
    });
    expect(payload.iss).toBe(cluster.issuer);
    expect(payload.aud).toEqual(cluster.apiAudiences);
  });

  it('authenticates a token crafted by tokens.ts with the cluster key', async () => {
    const token = craftServiceAccountToken({
      privateKey: loadPrivateKey(cluster.pki.serviceAccountRsa.privateKeyFile),
      issuer: cluster.issuer,
      namespace: NAMESPACE,
      serviceAccount: { name: SERVICE_ACCOUNT, uid: await serviceAccountUid() },
      audiences: cluster.apiAudiences,
    });
    const review = await cluster.tokenReview({ spec: { token } });
    expect(review.status.error).toBeUndefined();
    expect(review.status.authenticated).toBe(true);
    expect(review.status.user?.username).toBe(SA_USER);
  });

  it('rejects bad tokens, and records the exact texts kube-apiserver answers with', async () => {
    const privateKey = loadPrivateKey(cluster.pki.serviceAccountRsa.privateKeyFile);
    const uid = await serviceAccountUid();
    const base = {
      privateKey,
      issuer: cluster.issuer,
      namespace: NAMESPACE,
      serviceAccount: { name: SERVICE_ACCOUNT, uid },
      audiences: cluster.apiAudiences,
    };
    const now = Math.floor(Date.now() / 1000);
    const valid = craftServiceAccountToken(base);
    const [validHeader, validPayload, validSignature = ''] = valid.split('.');
    const flipped = (validSignature[0] === 'A' ? 'B' : 'A') + validSignature.slice(1);
    const cases: Array<{ name: string; token: string; audiences?: string[] }> = [
      { name: 'garbage', token: 'not-a-token' },
      { name: 'garbage three-part', token: 'aaa.bbb.ccc' },
      {
        name: 'wrong audience (kubectl --audience vault, default review)',
        token: await createToken('--audience', 'vault'),
      },
      { name: 'wrong audience (review asks for "other")', token: await createToken(), audiences: ['other'] },
      {
        name: 'expired 1 h ago',
        token: craftServiceAccountToken({ ...base, issuedAt: now - 7200, lifetimeSeconds: 3600 }),
      },
      {
        name: 'expired 1 h ago, wrong audience',
        token: craftServiceAccountToken({
          ...base,
          audiences: ['vault'],
          issuedAt: now - 7200,
          lifetimeSeconds: 3600,
        }),
      },
      {
        name: 'not valid for another hour',
        token: craftServiceAccountToken({ ...base, claims: { nbf: now + 3600 } }),
      },
      {
        name: 'issued an hour from now',
        token: craftServiceAccountToken({ ...base, claims: { iat: now + 3600 } }),
      },
      { name: 'unknown kid', token: craftServiceAccountToken({ ...base, header: { kid: 'no-such-key' } }) },
      { name: 'bad signature', token: `${validHeader}.${validPayload}.${flipped}` },
      {
        name: 'signed by the unconfigured EC key',
        token: craftServiceAccountToken({
          ...base,
          privateKey: loadPrivateKey(cluster.pki.serviceAccountEc.privateKeyFile),
        }),
      },
      {
        name: 'foreign issuer',
        token: craftServiceAccountToken({ ...base, issuer: 'https://elsewhere.example' }),
      },
      {
        name: 'service account uid mismatch',
        token: craftServiceAccountToken({
          ...base,
          serviceAccount: { name: SERVICE_ACCOUNT, uid: 'not-the-uid' },
        }),
      },
      {
        name: 'service account missing',
        token: craftServiceAccountToken({ ...base, serviceAccount: { name: 'ghost', uid: 'ghost-uid' } }),
      },
    ];
    const observed: Record<string, string> = {};
    for (const c of cases) {
      const review = await cluster.tokenReview({
        spec: { token: c.token, ...(c.audiences && { audiences: c.audiences }) },
      });
      observed[c.name] = expectRejected(review);
    }
    console.log(
      `kube-apiserver v1.37.2 TokenReview status.error texts:\n${JSON.stringify(observed, null, 2)}`,
    );
    const issuerAndApi = `["${cluster.issuer}" "api"]`;
    expect(observed).toEqual({
      garbage: 'invalid bearer token',
      'garbage three-part': 'invalid bearer token',
      'wrong audience (kubectl --audience vault, default review)': `[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ${issuerAndApi}]`,
      'wrong audience (review asks for "other")': `[invalid bearer token, token audiences ${issuerAndApi} is invalid for the target audiences ["other"]]`,
      'expired 1 h ago': '[invalid bearer token, service account token has expired]',
      'expired 1 h ago, wrong audience': `[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ${issuerAndApi}]`,
      'not valid for another hour': '[invalid bearer token, service account token is not valid yet]',
      'issued an hour from now': '[invalid bearer token, service account token is issued in the future]',
      'unknown kid': '[invalid bearer token, invalid signature, no keys found]',
      'bad signature': '[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]',
      'signed by the unconfigured EC key': '[invalid bearer token, invalid signature, no keys found]',
      'foreign issuer': 'invalid bearer token',
      'service account uid mismatch': `[invalid bearer token, service account UID (${uid}) does not match claim (not-the-uid)]`,
      'service account missing': '[invalid bearer token, serviceaccounts "ghost" not found]',
    });
  });

  it('answers kubectl auth can-i and SubjectAccessReviews as RBAC decides', async () => {
    expect(await kubectlOk('auth', 'can-i', '*', '*', '--all-namespaces')).toBe('yes');
    const asServiceAccount = ['-n', NAMESPACE, '--as', SA_USER];
    const denied = await cluster.kubectl(['auth', 'can-i', 'list', 'secrets', ...asServiceAccount]);
    expect(denied.stdout.trim()).toBe('no');

    const resourceAttributes = { namespace: NAMESPACE, verb: 'get', resource: 'pods' };
    const master = await cluster.subjectAccessReview({
      spec: { user: 'admin', groups: ['system:masters', 'system:authenticated'], resourceAttributes },
    });
    expect(master.status.allowed).toBe(true);
    const unbound = await cluster.subjectAccessReview({
      spec: { user: SA_USER, groups: SA_GROUPS, resourceAttributes },
    });
    expect(unbound.status.allowed).toBe(false);

    await kubectlOk(
      'create',
      'rolebinding',
      'app-view',
      '--clusterrole=view',
      `--serviceaccount=${NAMESPACE}:${SERVICE_ACCOUNT}`,
      '-n',
      NAMESPACE,
    );
    const bound = await cluster.subjectAccessReview({
      spec: { user: SA_USER, groups: SA_GROUPS, resourceAttributes },
    });
    expect(bound.status.allowed).toBe(true);
    console.log(
      `kube-apiserver v1.37.2 SubjectAccessReview status (get pods in ${NAMESPACE}):\n` +
        JSON.stringify(
          { 'system:masters': master.status, unbound: unbound.status, 'view via RoleBinding': bound.status },
          null,
          2,
        ),
    );
  });

  it('runs the controller-manager: aggregated ClusterRoles and default service accounts', async () => {
    const admin = JSON.parse(await kubectlOk('get', 'clusterrole', 'admin', '-o', 'json')) as {
      rules?: unknown[];
    };
    expect(admin.rules?.length ?? 0).toBeGreaterThan(0);
    await kubectlOk('create', 'namespace', 'fresh');
    await waitFor(
      'the default ServiceAccount in namespace fresh',
      async () =>
        (await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'fresh'])).code === 0
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
  });
});
