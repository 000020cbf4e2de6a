import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../../src/dev/certs.js';
import { finished, spawnCli } from '../../helpers/cli.js';
import { suiteDir, writeFile } from '../../helpers/files.js';
import { rsaKey } from '../../helpers/keys.js';
import { boundClaims, ISSUER, mintToken } from '../../helpers/tokens.js';

const POLICY = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: reviewer }
rules:
  - apiGroups: [authentication.k8s.io]
    resources: [tokenreviews]
    verbs: [create]
  - apiGroups: [authorization.k8s.io]
    resources: [subjectaccessreviews]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: reviewers }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reviewer }
subjects:
  - { kind: User, name: kube-apiserver }
  - { kind: ServiceAccount, name: reviewer, namespace: vault }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics-reader }
rules:
  - nonResourceURLs: [/metrics]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: prometheus }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader }
subjects:
  - { kind: ServiceAccount, name: prometheus, namespace: monitoring }
`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const key = rsaKey();
const nowSeconds = Math.floor(Date.now() / 1000);
const serviceAccountToken = (namespace: string, name: string): string =>
  mintToken({
    key,
    claims: boundClaims(
      {
        sub: `system:serviceaccount:${namespace}:${name}`,
        'kubernetes.io': { namespace, serviceaccount: { name, uid: 'uid-1' } },
      },
      nowSeconds,
    ),
  });

describe('--authorize-callers (the review endpoints are no open oracle)', () => {
  let server: ChildProcess;
  let port = 0;
  let servingCa: IssuedCert;
  let trusted: IssuedCert;
  let intruder: IssuedCert;
  let untrusted: IssuedCert;
  const dir = suiteDir();

  const call = (
    path: string,
    body: unknown,
    { cert, token, method = 'POST' }: { cert?: IssuedCert; token?: string; method?: string } = {},
  ): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          ca: servingCa.cert,
          servername: 'localhost',
          ...(cert ? { cert: cert.cert, key: cert.key } : {}),
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              json: res.headers['content-type']?.startsWith('application/json')
                ? (JSON.parse(text) as Record<string, unknown>)
                : {},
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  const tokenReview = (cred: { cert?: IssuedCert; token?: string }) =>
    call(
      '/apis/authentication.k8s.io/v1/tokenreviews',
      { spec: { token: serviceAccountToken('ns1', 'app') } },
      cred,
    );

  beforeAll(async () => {
    servingCa = await createCertificateAuthority('serving-ca');
    const serving = await issueCertificate(servingCa, {
      commonName: 'tokenwarden',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const clientCa = await createCertificateAuthority('client-ca');
    trusted = await issueCertificate(clientCa, { commonName: 'kube-apiserver', usage: 'client' });
    intruder = await issueCertificate(clientCa, {
      commonName: 'intruder',
      organizations: ['dev'],
      usage: 'client',
    });
    const otherCa = await createCertificateAuthority('other-ca');
    untrusted = await issueCertificate(otherCa, { commonName: 'kube-apiserver', usage: 'client' });
    port = await freePort();
    server = spawnCli([
      'serve',
      '--secure-port',
      String(port),
      '--bind-address',
      '127.0.0.1',
      '--tls-cert-file',
      writeFile(dir.dir, 'tls.crt', serving.cert + servingCa.cert),
      '--tls-private-key-file',
      writeFile(dir.dir, 'tls.key', serving.key),
      '--client-ca-file',
      writeFile(dir.dir, 'client-ca.crt', clientCa.cert),
      '--service-account-issuer',
      ISSUER,
      '--service-account-key-file',
      writeFile(dir.dir, 'sa.pub', key.publicPem),
      '--rbac-policy-file',
      writeFile(dir.dir, 'policy.yaml', POLICY),
      '--authorize-callers',
      '--log-level',
      'warn',
    ]);
    const exited = finished(server);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ready = await new Promise<boolean>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/readyz', ca: servingCa.cert, servername: 'localhost' },
          (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          },
        );
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ready) break;
      if (Date.now() > deadline || server.exitCode !== null)
        throw new Error(
          `serve did not become ready: ${(await Promise.race([exited, Promise.resolve(undefined)]))?.stderr ?? ''}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const done = finished(server);
      server.kill('SIGTERM');
      await done;
    }
    dir.remove();
  });

  it('answers a caller without any credential 401 with a Status', async () => {
    const res = await tokenReview({});
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  });

  it('serves a caller whose verified client certificate is bound to create tokenreviews', async () => {
    const res = await tokenReview({ cert: trusted });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'TokenReview', status: { authenticated: true } });
  });

  it('refuses 403 a verified certificate without the permission, in kube-apiserver words', async () => {
    const res = await tokenReview({ cert: intruder });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'tokenreviews.authentication.k8s.io is forbidden: User "intruder" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope',
    });
  });

  it('does not believe a certificate from a CA it does not trust', async () => {
    const res = await tokenReview({ cert: untrusted });
    expect(res.status).toBe(401);
  });

  it('serves a service account whose bearer token it validates itself and whose binding allows it', async () => {
    const res = await tokenReview({ token: serviceAccountToken('vault', 'reviewer') });
    expect(res.status).toBe(200);
    const sar = await call(
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      { spec: { user: 'alice', resourceAttributes: { verb: 'get', resource: 'pods' } } },
      { token: serviceAccountToken('vault', 'reviewer') },
    );
    expect(sar.status).toBe(200);
    expect(sar.json).toMatchObject({ kind: 'SubjectAccessReview', status: { allowed: false } });
  });

  it('refuses a valid bearer token of a service account that is not bound, and an invalid one', async () => {
    expect((await tokenReview({ token: serviceAccountToken('ns1', 'app') })).status).toBe(403);
    expect((await tokenReview({ token: 'not-a-token' })).status).toBe(401);
  });

  describe('/metrics (get on the non-resource URL, as kube components guard it)', () => {
    const metrics = (cred: { cert?: IssuedCert; token?: string }) =>
      call('/metrics', undefined, { ...cred, method: 'GET' });

    it('answers an anonymous scrape 401 with a Status and no metrics', async () => {
      const res = await metrics({});
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
      expect(res.text).not.toContain('tokenwarden_');
    });

    it('answers a verified caller without get on /metrics 403 in kube-apiserver words', async () => {
      const res = await metrics({ cert: trusted });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({
        kind: 'Status',
        reason: 'Forbidden',
        message: 'forbidden: User "kube-apiserver" cannot get path "/metrics"',
      });
      expect(res.text).not.toContain('tokenwarden_');
    });

    it('serves the metrics to a service account bound to get /metrics', async () => {
      const res = await metrics({ token: serviceAccountToken('monitoring', 'prometheus') });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.text).toMatch(/^tokenwarden_build_info\{version="[^"]+",node_version="v[^"]+"\} 1$/m);
      expect(res.text).toMatch(/^tokenwarden_http_requests_total\{path="\/metrics",code="401"\} [1-9]/m);
    });

    it('leaves the probes open: a kubelet has no credential', async () => {
      for (const path of ['/healthz', '/livez', '/readyz']) {
        expect((await call(path, undefined, { method: 'GET' })).status, path).toBe(200);
      }
    });
  });
});
