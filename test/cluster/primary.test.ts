import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/dev/certs.js';
import { restartDelay, RESTART_BACKOFF } from '../../src/cluster/primary.js';
import { runCli } from '../helpers/cli.js';
import { replaceFile, tempDir, writeFile } from '../helpers/files.js';
import { heldRequest, httpsRequest } from '../helpers/http.js';
import { podReaderPolicy } from '../helpers/policies.js';
import { rsaKey } from '../helpers/keys.js';
import { loopbackFlags, reviewPath, tokenReview } from '../helpers/server.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';
import { eventually, metric, servePool, type ServeProcess } from '../faults/harness/serve-process.js';

const pool = servePool('workers');
const USER = 'system:serviceaccount:ns1:app';

/** Two workers, each started as the user would: `serve --workers 2`, on the pool's serving pair. */
async function twoWorkers(flags: readonly string[] = []): Promise<ServeProcess & { dir: string }> {
  const keys = writeFile(tempDir(), 'sa.pub', rsaKey().publicPem);
  // pool.start, not pool.withKeys: its `dir` is the one holding the serving pair.
  const s = await pool.start([
    '--workers',
    '2',
    '--service-account-issuer',
    ISSUER,
    '--service-account-key-file',
    keys,
    ...flags,
  ]);
  // 'tokenwarden is serving' is the first worker's line; the primary says when both are.
  expect(await eventually(() => s.logged('all workers serving').length === 1, 60_000)).toBe(true);
  return s;
}

async function review(s: ServeProcess, token: string) {
  return httpsRequest({
    port: s.port,
    ca: s.ca,
    path: reviewPath(),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(tokenReview(token)),
  });
}

const freshToken = () => mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });

/** Worker ids on the access-log lines of reviews: who answered. */
const answeredBy = (s: ServeProcess): Set<unknown> => new Set(s.logged('tokenreview').map((l) => l.worker));

describe('serve --workers 2 (node:cluster on one listener)', () => {
  it('answers from both workers, counts every request of both on one /metrics, and reports both in /readyz', async () => {
    const s = await twoWorkers();
    const token = freshToken();
    // The primary hands accepted connections to the workers in turn: fresh connections reach both.
    for (let i = 0; i < 6; i++) {
      const res = await review(s, token);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ status: { authenticated: true, user: { username: USER } } });
    }
    expect(await eventually(() => s.logged('tokenreview').length === 6, 10_000)).toBe(true);
    expect(answeredBy(s)).toEqual(new Set([1, 2]));

    const text = (await s.get('/metrics')).body;
    const m = await s.metrics();
    expect(metric(m, 'tokenwarden_http_requests_total', `path="${reviewPath()}"`)).toBe(6);
    // Each worker verified the token once, then answered from its own cache.
    expect(metric(m, 'tokenwarden_token_cache_misses_total')).toBe(2);
    expect(metric(m, 'tokenwarden_token_cache_hits_total')).toBe(4);
    expect(text.match(/^tokenwarden_build_info\{.*\} (\d+)$/gm)).toEqual([
      expect.stringMatching(/ 1$/) as unknown,
    ]);
    expect(metric(m, 'tokenwarden_workers')).toBe(2);
    expect(metric(m, 'tokenwarden_key_source_ready')).toBe(1);

    const ready = await s.get('/readyz?verbose');
    expect(ready.status).toBe(200);
    expect(ready.body).toContain('[+]workers ok (2 of 2 serving)');

    s.child.kill('SIGTERM');
    expect(await s.exited).toMatchObject({ code: 0, signal: null });
  }, 120_000);

  it('on SIGTERM lets each worker finish its request in flight and stop, and exits 0 after the last', async () => {
    const s = await twoWorkers();
    const token = freshToken();
    const body = JSON.stringify(tokenReview(token));
    // One request held open on each worker: Expect: 100-continue says the worker has taken it.
    const held = [0, 1].map(() => heldRequest({ port: s.port, ca: s.ca, path: reviewPath(), body }));
    await Promise.all(held.map((h) => h.taken));

    s.child.kill('SIGTERM');
    expect(await eventually(() => s.logged('shutting down: /readyz now fails').length === 2, 30_000)).toBe(
      true,
    );
    const responses = held.map((h) => h.finish());
    for (const response of responses) {
      const res = await response;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ status: { authenticated: true } });
    }
    const result = await s.exited;
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(answeredBy(s)).toEqual(new Set([1, 2]));
    const stopped = s.logged('stopped');
    expect(stopped.map((l) => l.worker)).toEqual([
      expect.any(Number) as unknown,
      expect.any(Number) as unknown,
      undefined,
    ]);
    // The primary's line is the last one written.
    expect(JSON.parse(s.lines.filter((l) => l.startsWith('{')).at(-1)!)).toMatchObject({
      msg: 'stopped',
      exitCode: 0,
    });
  }, 120_000);

  it('restarts a worker that dies, logs it, and keeps answering', async () => {
    const s = await twoWorkers();
    const victim = s.logged('worker serving')[0]!;
    const restarting = s.next('worker exited; restarting');
    process.kill(victim.pid as number, 'SIGKILL');
    expect(await restarting).toMatchObject({
      worker: victim.worker,
      signal: 'SIGKILL',
      restartInMs: RESTART_BACKOFF.initialMs,
    });
    expect(await eventually(() => s.logged('worker serving').length === 3, 60_000)).toBe(true);
    expect(s.logged('worker serving')[2]).toMatchObject({ worker: 3 });

    const token = freshToken();
    for (let i = 0; i < 4; i++) expect((await review(s, token)).status).toBe(200);
    expect(await eventually(() => answeredBy(s).size === 2, 10_000)).toBe(true);
    expect(answeredBy(s).has(victim.worker)).toBe(false);
    const m = await s.metrics();
    expect(metric(m, 'tokenwarden_worker_restarts_total')).toBe(1);
    expect(metric(m, 'tokenwarden_workers')).toBe(2);
    s.child.kill('SIGTERM');
    expect(await s.exited).toMatchObject({ code: 0 });
  }, 120_000);

  it('reloads the serving certificate and the RBAC policy in every worker', async () => {
    const dir = tempDir();
    const policyFile = writeFile(dir, 'policy.yaml', podReaderPolicy('someone-else'));
    const s = await twoWorkers(['--rbac-policy-file', policyFile]);
    const allowed = async () => {
      const res = await httpsRequest({
        port: s.port,
        ca: s.ca,
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: USER, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'ns1' } },
        }),
      });
      return res.json<{ status: { allowed: boolean } }>().status.allowed;
    };
    expect([await allowed(), await allowed()]).toEqual([false, false]);

    replaceFile(policyFile, podReaderPolicy(USER));
    expect(await eventually(() => s.logged('RBAC policy reloaded').length === 2, 30_000)).toBe(true);
    expect(new Set(s.logged('RBAC policy reloaded').map((l) => l.worker))).toEqual(new Set([1, 2]));
    expect([await allowed(), await allowed(), await allowed(), await allowed()]).toEqual([
      true,
      true,
      true,
      true,
    ]);

    const next = await issueCertificate(pool.tls.authority, {
      commonName: 'workers-next',
      ipAddresses: ['127.0.0.1'],
    });
    replaceFile(`${s.dir}/tls.key`, next.key);
    replaceFile(`${s.dir}/tls.crt`, `${next.cert}${pool.tls.ca}`);
    expect(await eventually(() => s.logged('serving certificate reloaded').length === 2, 30_000)).toBe(true);
    expect(new Set(s.logged('serving certificate reloaded').map((l) => l.worker))).toEqual(new Set([1, 2]));
    const served = await Promise.all([0, 1, 2, 3].map(() => s.get('/livez')));
    expect(served.map((r) => r.peerCertificate.subject.CN)).toEqual(Array(4).fill('workers-next'));
    s.child.kill('SIGTERM');
    expect(await s.exited).toMatchObject({ code: 0 });
  }, 120_000);

  it('warns once about a deprecated flag, not once more per worker', async () => {
    const policyFile = writeFile(tempDir(), 'policy.yaml', podReaderPolicy(USER));
    const s = await twoWorkers(['--authorization-policy-file', policyFile]);
    s.child.kill('SIGTERM');
    const result = await s.exited;
    expect(result.stderr.split('\n').filter((l) => l.includes('deprecated'))).toEqual([
      'tokenwarden: warning: --authorization-policy-file is deprecated, use --rbac-policy-file',
    ]);
  }, 120_000);

  it("exits with the workers' code 2, naming the file, when they cannot start", async () => {
    const dir = tempDir();
    const keyFile = writeFile(dir, 'sa.pub', 'not a key\n');
    const result = await runCli(['serve', '--workers', '2', ...loopbackFlags(keyFile)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(keyFile);
    expect(result.stdout).toContain('a worker stopped before serving; stopping');
  }, 120_000);
});

describe('restartDelay', () => {
  it('doubles from the first wait and stops growing at the bound', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(restartDelay)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});
