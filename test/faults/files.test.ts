import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/dev/certs.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { httpsRequest } from '../helpers/http.js';
import { podReaderPolicy } from '../helpers/policies.js';
import { ecKey, rsaKey } from '../helpers/keys.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';
import { allCorrect, describeLoad, judge, runLoad, type Probe } from './harness/load.js';
import { eventually, metric, servePool, type ServeProcess } from './harness/serve-process.js';

const pool = servePool('faults-files');
const USER = 'system:serviceaccount:ns1:app';
const k1 = ecKey('P-256', 'file-k1');
const k2 = ecKey('P-256', 'file-k2');

const policy = podReaderPolicy;

async function allowed(serve: ServeProcess, user: string): Promise<boolean> {
  const res = await httpsRequest({
    port: serve.port,
    ca: serve.ca,
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'ns1' } },
    }),
  });
  expect(res.status).toBe(200);
  return res.json<{ status: { allowed: boolean } }>().status.allowed;
}

async function answer(serve: ServeProcess, probe: Probe): Promise<string | undefined> {
  const res = await httpsRequest({
    port: serve.port,
    ca: serve.ca,
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/tokenreviews',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: probe.token },
    }),
  });
  return judge(probe, res.status, res.body);
}

const servedName = async (serve: ServeProcess): Promise<string> =>
  (await serve.get('/livez')).peerCertificate.subject.CN as string;

describe('files replaced, truncated or deleted while serving under load (tokenwarden serve as a child process)', () => {
  it('keeps the last good key, token, policy and certificate through every bad state, and takes each good replacement', async () => {
    const dir = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const keyFile = writeFile(dir, 'sa.pub', k1.publicPem);
    const tokenFile = writeFile(dir, 'tokens.csv', 'static-token-one,alice,uid-1,"team-a"\n');
    const policyFile = writeFile(dir, 'policy.yaml', policy('alice'));
    const serve = await pool.start([
      '--service-account-issuer',
      ISSUER,
      '--service-account-key-file',
      keyFile,
      '--token-auth-file',
      tokenFile,
      '--rbac-policy-file',
      policyFile,
    ]);
    const certFile = join(serve.dir, 'tls.crt');
    const keyOfCert = join(serve.dir, 'tls.key');
    const sa: Probe = {
      name: 'k1 token',
      token: mintToken({ key: k1, claims: boundClaims({}, now) }),
      user: USER,
    };
    const alice: Probe = { name: 'static token', token: 'static-token-one', user: 'alice' };
    expect(await servedName(serve)).toBe('faults-files');

    // Each bad state, and the count (a metric, or log lines) that proves the service read it and kept the last good version.
    const failures = (name: string) => async () => metric(await serve.metrics(), name);
    const logged = (msg: string) => () => Promise.resolve(serve.logged(msg).length);
    const keyFailed = failures('tokenwarden_key_load_failures_total');
    const tokenFailed = logged('reload failed; keeping the last good version');
    const policyFailed = failures('tokenwarden_rbac_policy_reload_failures_total');
    const certFailed = logged('serving certificate reload failed; keeping the current certificate');
    const other = await issueCertificate(pool.tls.authority, {
      commonName: 'other',
      ipAddresses: ['127.0.0.1'],
    });
    const bad: Array<[string, () => void, () => Promise<number>]> = [
      ['key file truncated mid-write', () => writeFileSync(keyFile, k1.publicPem.slice(0, 60)), keyFailed],
      ['key file emptied', () => writeFileSync(keyFile, ''), keyFailed],
      ['key file of garbage', () => replaceFile(keyFile, 'not a key\n'), keyFailed],
      [
        'key file with a 1024-bit RSA key',
        () => replaceFile(keyFile, rsaKey('weak', 1024).publicPem),
        keyFailed,
      ],
      ['key file deleted', () => rmSync(keyFile), keyFailed],
      ['token file truncated mid-line', () => writeFileSync(tokenFile, 'static-token-one,ali'), tokenFailed],
      ['token file deleted', () => rmSync(tokenFile), tokenFailed],
      ['policy of invalid YAML', () => replaceFile(policyFile, 'kind: [ClusterRole\n'), policyFailed],
      [
        'policy truncated mid-write',
        () => writeFileSync(policyFile, policy('alice').slice(0, 90)),
        policyFailed,
      ],
      ['policy deleted', () => rmSync(policyFile), policyFailed],
      ['certificate truncated', () => writeFileSync(certFile, pool.tls.cert.slice(0, 100)), certFailed],
      ['certificate of another key', () => replaceFile(certFile, other.cert), certFailed],
      ['certificate deleted', () => rmSync(certFile), certFailed],
    ];

    let done = false;
    const traffic = runLoad({
      port: serve.port,
      ca: serve.ca,
      probes: [sa, alice],
      concurrency: 4,
      maxRequests: 100_000,
      maxMs: 90_000,
      stop: () => done,
    });
    const kept: string[] = [];
    try {
      for (const [name, breakIt, failed] of bad) {
        const before = await failed();
        breakIt();
        expect(await eventually(async () => (await failed()) > before, 15_000), name).toBe(true);
        expect(await answer(serve, sa), name).toBeUndefined();
        expect(await answer(serve, alice), name).toBeUndefined();
        expect(await allowed(serve, 'alice'), name).toBe(true);
        expect(await servedName(serve), name).toBe('faults-files');
        expect((await serve.get('/readyz')).status, name).toBe(200);
        kept.push(name);
      }
    } finally {
      done = true;
    }
    const report = await traffic;
    console.log(describeLoad(`traffic through ${bad.length} bad file states`, report));
    expect(allCorrect(report)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
    expect(kept).toHaveLength(bad.length);

    // Good replacements, by atomic rename as kubelet writes Secrets: each takes effect.
    replaceFile(keyFile, k2.publicPem);
    const k2Token: Probe = {
      name: 'k2 token',
      token: mintToken({ key: k2, claims: boundClaims({}, now) }),
      user: USER,
    };
    expect(await eventually(async () => (await answer(serve, k2Token)) === undefined, 15_000)).toBe(true);
    expect(await answer(serve, { ...sa, user: null })).toBeUndefined();

    replaceFile(tokenFile, 'static-token-two,bob,uid-2,"team-b"\n');
    expect(
      await eventually(
        async () =>
          (await answer(serve, { name: 'bob', token: 'static-token-two', user: 'bob' })) === undefined,
        15_000,
      ),
    ).toBe(true);
    // The removed token stops at once, although the traffic above left it in the result cache.
    expect(await answer(serve, { ...alice, user: null })).toBeUndefined();

    replaceFile(policyFile, policy('bob'));
    expect(
      await eventually(async () => (await allowed(serve, 'bob')) && !(await allowed(serve, 'alice')), 15_000),
    ).toBe(true);

    const rotated = await issueCertificate(pool.tls.authority, {
      commonName: 'rotated',
      ipAddresses: ['127.0.0.1'],
    });
    replaceFile(keyOfCert, rotated.key);
    replaceFile(certFile, rotated.cert);
    expect(await eventually(async () => (await servedName(serve)) === 'rotated', 15_000)).toBe(true);
  }, 120_000);
});
