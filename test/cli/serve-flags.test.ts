import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { connect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jwksBody } from '../keys/jwks-server.js';
import { startFakeApiserver } from '../helpers/fake-apiserver.js';
import { boundClaims, ISSUER, mintToken, POD_UID, SA_UID } from '../helpers/tokens.js';
import { finished, logLine, requireBuiltBin, runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { servingTls, tlsFlags, type ServingTls } from '../helpers/tls.js';

/** Grants get on pods in default to alice, through a RoleBinding. */
const POLICY = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: default}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: default}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
`;

let tls: ServingTls;
let dir: string;
let removeDir: () => void;
let policy: string;
const saKey = rsaKey();
beforeAll(async () => {
  requireBuiltBin();
  tls = await servingTls('serve-flags');
  ({ dir, remove: removeDir } = suiteDir());
  policy = writeFile(dir, 'policy.yaml', POLICY);
});
afterAll(() => removeDir());

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  /** The proxy's `--proxy-endpoints-port` listener, when asked for. */
  readonly endpointsPort?: number;
  stop(): Promise<CliResult>;
}

/** The certificate flags of each command (dev serves a throwaway certificate). */
function commandFlags(command: string): string[] {
  return command === 'dev' ? [] : tlsFlags(dir, tls);
}

/** The least each command needs to start besides its listener (serve: a policy alone). */
function startable(command: string): string[] {
  if (command === 'serve') return ['--rbac-policy-file', policy];
  if (command === 'dev') return [];
  return [
    '--upstream',
    'http://127.0.0.1:9',
    '--service-account-issuer',
    'https://issuer.example',
    '--service-account-key-file',
    writeFile(dir, 'sa.pub', saKey.publicPem),
  ];
}

const STARTED: Record<string, string> = {
  serve: 'tokenwarden is serving',
  dev: 'tokenwarden is serving',
  proxy: 'tokenwarden proxy is serving',
};

/** Starts `command` on 127.0.0.1, a free port, with `flags`. */
async function startListener(command: string, ...flags: string[]): Promise<Running> {
  const child = spawnCli([
    command,
    '--secure-port',
    '0',
    '--bind-address',
    '127.0.0.1',
    ...commandFlags(command),
    ...flags,
  ]);
  const exited = finished(child);
  const serving = await logLine(child, STARTED[command]!);
  return {
    child,
    port: serving.port as number,
    ...(serving.endpointsPort === undefined ? {} : { endpointsPort: serving.endpointsPort as number }),
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const startServe = (...flags: string[]) => startListener('serve', ...flags);

/** The protocol (or, with `what` = cipher, the suite's standard name) a handshake settles on, or the error code. */
function handshake(
  port: number,
  options: ConnectionOptions,
  what: 'protocol' | 'cipher' = 'protocol',
): Promise<string> {
  return new Promise((resolve) => {
    // The certificate is not what these tests look at: dev serves a throwaway one.
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      resolve(what === 'cipher' ? socket.getCipher().standardName : (socket.getProtocol() ?? ''));
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

function post(port: number, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        ca: tls.ca,
        method: 'POST',
        path,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        let out = '';
        res.setEncoding('utf8').on('data', (d: string) => (out += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(out) }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, ca: tls.ca, path, agent: false }, (res) => {
      let out = '';
      res.setEncoding('utf8').on('data', (d: string) => (out += d));
      res.on('end', () => resolve(out));
    });
    req.on('error', reject);
    req.end();
  });
}

const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const sar = (user: string) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default' } },
});

describe('serve flags', () => {
  it('answers SubjectAccessReviews with only --rbac-policy-file, no identity source', async () => {
    const s = await startServe('--rbac-policy-file', policy);
    try {
      const alice = await post(s.port, SAR_PATH, sar('alice'));
      expect(alice.status).toBe(200);
      expect(alice.json).toMatchObject({ status: { allowed: true } });
      const bob = await post(s.port, SAR_PATH, sar('bob'));
      expect(bob.json).toMatchObject({ status: { allowed: false } });
    } finally {
      expect((await s.stop()).code).toBe(0);
    }
  });

  it('still reads --authorization-policy-file, warning once that it is deprecated', async () => {
    const other = writeFile(dir, 'empty.yaml', '');
    const s = await startServe('--authorization-policy-file', policy, '--authorization-policy-file', other);
    try {
      expect((await post(s.port, SAR_PATH, sar('alice'))).json).toMatchObject({ status: { allowed: true } });
    } finally {
      const r = await s.stop();
      const warnings = r.stderr.split('\n').filter((l) => l.includes('deprecated'));
      expect(warnings).toEqual([
        'tokenwarden: warning: --authorization-policy-file is deprecated, use --rbac-policy-file',
      ]);
    }
  });

  it("serves TokenReviews with --kubeconfig alone: the apiserver's issuer, its keys and its objects", async () => {
    const apiserver = await startFakeApiserver(dir);
    apiserver.serveIssuer(ISSUER, jwksBody([saKey]));
    apiserver.put('serviceaccounts', { metadata: { name: 'app', namespace: 'ns1', uid: SA_UID } });
    apiserver.put('pods', { metadata: { name: 'app-7d9', namespace: 'ns1', uid: POD_UID } });
    const s = await startServe('--kubeconfig', apiserver.kubeconfig);
    try {
      const token = mintToken({ key: saKey, claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
      const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
      await vi.waitFor(
        async () =>
          expect((await post(s.port, TOKEN_REVIEW_PATH, review)).json).toMatchObject({
            status: {
              authenticated: true,
              user: { username: 'system:serviceaccount:ns1:app' },
              audiences: [ISSUER],
            },
          }),
        { timeout: 20_000, interval: 200 },
      );
    } finally {
      expect((await s.stop()).code).toBe(0);
      await apiserver.close();
    }
  });

  it('still asks for an identity source when there is no policy either', async () => {
    const r = await runCli(['serve', '--secure-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--service-account-issuer is a required flag');
  });

  it.each(['serve', 'dev', 'proxy'])(
    '%s refuses TLS below --tls-min-version and serves at it',
    async (command) => {
      const s = await startListener(command, ...startable(command), '--tls-min-version', 'VersionTLS13');
      try {
        expect(await handshake(s.port, { maxVersion: 'TLSv1.3' })).toBe('TLSv1.3');
        expect(await handshake(s.port, { maxVersion: 'TLSv1.2' })).not.toMatch(/^TLS/);
      } finally {
        expect((await s.stop()).code).toBe(0);
      }
    },
  );

  it("applies --tls-min-version to the proxy's second listener (--proxy-endpoints-port) too", async () => {
    const child = spawnCli([
      'proxy',
      '--secure-port',
      '0',
      '--proxy-endpoints-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      ...commandFlags('proxy'),
      ...startable('proxy'),
      '--tls-min-version',
      'VersionTLS13',
    ]);
    const exited = finished(child);
    try {
      const serving = await logLine(child, 'tokenwarden proxy is serving');
      const endpointsPort = serving.endpointsPort as number;
      expect(endpointsPort).toBeGreaterThan(0);
      expect(await handshake(endpointsPort, { maxVersion: 'TLSv1.3' })).toBe('TLSv1.3');
      expect(await handshake(endpointsPort, { maxVersion: 'TLSv1.2' })).not.toMatch(/^TLS/);
    } finally {
      child.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    }
  });

  it.each(['serve', 'dev', 'proxy'])(
    '%s offers only the --tls-cipher-suites named, by their kube names',
    async (command) => {
      const s = await startListener(
        command,
        ...startable(command),
        '--tls-cipher-suites',
        'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      );
      try {
        const cipherWith = (ciphers: string) =>
          handshake(s.port, { maxVersion: 'TLSv1.2', ciphers }, 'cipher');
        expect(await cipherWith('ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256')).toBe(
          'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
        );
        expect(await cipherWith('ECDHE-ECDSA-AES128-GCM-SHA256')).not.toMatch(/^TLS_/);
        // TLS 1.3 stays on with its own suites, as Go keeps it whatever --tls-cipher-suites says.
        expect(await handshake(s.port, { minVersion: 'TLSv1.3' })).toBe('TLSv1.3');
      } finally {
        expect((await s.stop()).code).toBe(0);
      }
    },
  );

  it.each([
    ['serve', []],
    ['proxy', ['--proxy-endpoints-port', '0']],
  ])(
    '%s exports the GC-duration histogram only with --gc-duration-metric, the other process metrics always',
    async (command, extra) => {
      const GC = '# TYPE tokenwarden_nodejs_gc_duration_seconds histogram';
      const LAG = '# TYPE tokenwarden_nodejs_eventloop_lag_p99_seconds gauge';
      const scrape = async (...flags: string[]) => {
        const s = await startListener(command, ...startable(command), ...extra, ...flags);
        try {
          return await getText(s.endpointsPort ?? s.port, '/metrics');
        } finally {
          expect((await s.stop()).code).toBe(0);
        }
      };
      const plain = await scrape();
      expect(plain).toContain(LAG);
      expect(plain).not.toContain(GC);
      const withGc = await scrape('--gc-duration-metric');
      expect(withGc).toContain(LAG);
      expect(withGc).toContain(GC);
    },
  );

  it.each(['--delegate-unknown-tokens', '--delegate-authorization'])(
    'exits 2 naming %s and both live-mode flags when there is no cluster to delegate to',
    async (flag) => {
      const r = await runCli(['serve', '--rbac-policy-file', policy, flag]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain('--kubeconfig');
      expect(r.stderr).toContain('--in-cluster-config');
    },
  );

  it.each([
    [['--tls-min-version', 'TLSv1.2'], '--tls-min-version'],
    [['--tls-cipher-suites', 'TLS_RSA_WITH_RC4_128_SHA'], 'TLS_RSA_WITH_RC4_128_SHA'],
    [['--tls-cipher-suites', 'ECDHE-RSA-AES128-GCM-SHA256'], 'ECDHE-RSA-AES128-GCM-SHA256'],
  ])('exits 2 naming a TLS setting kube-apiserver would refuse: %j', async (flags, mention) => {
    const r = await runCli(['serve', '--rbac-policy-file', policy, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(mention);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('dev --help', () => {
  it('names the loopback address dev binds by default', async () => {
    const r = await runCli(['dev', '--help']);
    expect(r.stdout).toContain('(default 127.0.0.1)');
    expect(r.stdout).not.toContain('0.0.0.0');
  });
});
