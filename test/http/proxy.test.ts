import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { leakedSecrets } from '../helpers/logs.js';
import { liveToken as token, recordingUpstream, startTestProxy, useProxy } from '../helpers/proxy.js';
import { POD_UID, SA_UID, NODE_UID, JTI } from '../helpers/tokens.js';
import { clientLeaf, rootCa, type PkiCert } from '../helpers/pki.js';
import { certificatePem } from '../../src/x509/build.js';

const now = () => Math.floor(Date.now() / 1000);

describe('tokenwarden proxy', () => {
  const sent: string[] = [];
  const bearer = (t: string) => {
    sent.push(t);
    return ['Authorization', `Bearer ${t}`];
  };

  const setup = useProxy({
    flags: ['--ignore-path', '/healthz', '--ignore-path', '/public/*'],
  });

  it('forwards a request with a valid token with the identity headers, exactly as client-go writes them', async () => {
    const res = await setup.proxy.request({ path: '/metrics', headers: bearer(token()) });
    expect(res.status).toBe(200);
    expect(res.body).toBe('upstream ok');
    const got = setup.upstream.received.at(-1)!;
    const identity: string[] = [];
    for (let i = 0; i < got.rawHeaders.length; i += 2) {
      if (/^x-remote-/i.test(got.rawHeaders[i]!))
        identity.push(`${got.rawHeaders[i]}: ${got.rawHeaders[i + 1]}`);
    }
    expect(identity).toEqual([
      'X-Remote-User: system:serviceaccount:ns1:app',
      `X-Remote-Uid: ${SA_UID}`,
      'X-Remote-Group: system:serviceaccounts',
      'X-Remote-Group: system:serviceaccounts:ns1',
      'X-Remote-Group: system:authenticated',
      'X-Remote-Extra-authentication.kubernetes.io%2Fpod-name: app-7d9',
      `X-Remote-Extra-authentication.kubernetes.io%2Fpod-uid: ${POD_UID}`,
      'X-Remote-Extra-authentication.kubernetes.io%2Fnode-name: node-a',
      `X-Remote-Extra-authentication.kubernetes.io%2Fnode-uid: ${NODE_UID}`,
      `X-Remote-Extra-authentication.kubernetes.io%2Fcredential-id: JTI=${JTI}`,
    ]);
    expect(setup.upstream.headerLines(got, 'authorization')).toEqual([]);
  });

  it('strips identity and impersonation headers the client sent, in any case and repeated', async () => {
    const res = await setup.proxy.request({
      path: '/data',
      headers: [
        ...bearer(token()),
        'x-remote-user',
        'mallory',
        'X-REMOTE-USER',
        'mallory2',
        'X-Remote-Group',
        'system:masters',
        'x-ReMoTe-GrOuP',
        'system:masters',
        'X-Remote-Uid',
        'forged',
        'X-Remote-Extra-Scopes',
        'admin',
        'x-remote-extra-authentication.kubernetes.io%2Fpod-name',
        'forged-pod',
        'Connection',
        'X-Remote-User, X-Remote-Group',
      ],
    });
    expect(res.status).toBe(200);
    const got = setup.upstream.received.at(-1)!;
    expect(setup.upstream.headerLines(got, 'x-remote-user')).toEqual(['system:serviceaccount:ns1:app']);
    expect(setup.upstream.headerLines(got, 'x-remote-group')).not.toContain('system:masters');
    expect(setup.upstream.headerLines(got, 'x-remote-uid')).toEqual([SA_UID]);
    expect(setup.upstream.headerLines(got, 'x-remote-extra-scopes')).toEqual([]);
    expect(setup.upstream.headerLines(got, 'x-remote-extra-authentication.kubernetes.io%2fpod-name')).toEqual(
      ['app-7d9'],
    );
    expect(setup.upstream.headerLines(got, 'connection')).not.toContain('X-Remote-User, X-Remote-Group');
  });

  it('passes path and query to the upstream byte for byte', async () => {
    const path = '/a%20b/c;d/%E2%82%AC?x=1&x=2&y=%2F%zz&&z';
    const res = await setup.proxy.request({ path, headers: bearer(token()) });
    expect(res.status).toBe(200);
    expect(setup.upstream.received.at(-1)!.url).toBe(path);
  });

  it('forwards a small body that arrived with its headers, and an empty one, whole', async () => {
    for (const body of ['{"items":[1,2,3]}', '']) {
      const res = await setup.proxy.request({
        method: 'POST',
        path: '/items',
        headers: bearer(token()),
        body,
      });
      expect(res.status).toBe(200);
      const got = setup.upstream.received.at(-1)!;
      expect([got.method, got.body.toString()]).toEqual(['POST', body]);
      expect(setup.upstream.headerLines(got, 'content-length')).toEqual([String(body.length)]);
    }
  });

  it('answers 401 with a Bearer challenge and a JSON Status when no token comes, without asking the upstream', async () => {
    const before = setup.upstream.received.length;
    const res = await setup.proxy.request({ path: '/metrics' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(setup.upstream.received.length).toBe(before);
  });

  it('answers 401 with error="invalid_token" for an expired, foreign or garbage token', async () => {
    const before = setup.upstream.received.length;
    for (const t of [
      token({ exp: now() - 120, iat: now() - 7200, nbf: now() - 7200 }),
      token({ aud: ['someone-else'] }),
      'garbage.token.here',
    ]) {
      const res = await setup.proxy.request({ path: '/metrics', headers: bearer(t) });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(JSON.parse(res.body)).toMatchObject({ code: 401, reason: 'Unauthorized' });
    }
    expect(setup.upstream.received.length).toBe(before);
  });

  it('refuses a request that carries two Authorization headers', async () => {
    const t = token();
    const res = await setup.proxy.request({ path: '/metrics', headers: [...bearer(t), ...bearer(t)] });
    expect(res.status).toBe(401);
  });

  it('passes an ignored path without a token, still stripping spoofed identity headers', async () => {
    for (const path of ['/healthz', '/public/app.js']) {
      const res = await setup.proxy.request({
        path,
        headers: ['X-Remote-User', 'system:admin', 'Impersonate-User', 'root'],
      });
      expect(res.status).toBe(200);
      const got = setup.upstream.received.at(-1)!;
      expect(got.url).toBe(path);
      expect(setup.upstream.headerLines(got, 'x-remote-user')).toEqual([]);
      expect(setup.upstream.headerLines(got, 'impersonate-user')).toEqual([]);
    }
    expect((await setup.proxy.request({ path: '/healthz/more' })).status).toBe(401);
    expect((await setup.proxy.request({ path: '/publicity' })).status).toBe(401);
  });

  it('refuses non-canonical paths with 400 before matching ignore paths', async () => {
    const before = setup.upstream.received.length;
    for (const path of [
      '/healthz/../admin',
      '/public/%2e%2e/admin',
      '//admin',
      '/public/..%2Fadmin',
      '/public/.%2e/x',
      '/./healthz',
    ]) {
      const res = await setup.proxy.request({ path });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 400, reason: 'BadRequest' });
    }
    expect(setup.upstream.received.length).toBe(before);
  });

  it('removes Authorization before forwarding unless told to pass it', async () => {
    await setup.proxy.request({ path: '/x', headers: bearer(token()) });
    expect(setup.upstream.headerLines(setup.upstream.received.at(-1)!, 'authorization')).toEqual([]);
  });

  it('writes one access line per decision with the request id it echoes and passes upstream', async () => {
    const allowed = await setup.proxy.request({
      path: '/data?x=1',
      headers: [...bearer(token()), 'X-Request-Id', 'trace-42'],
    });
    expect(allowed.headers['x-request-id']).toBe('trace-42');
    expect(setup.upstream.headerLines(setup.upstream.received.at(-1)!, 'x-request-id')).toEqual(['trace-42']);
    const refused = await setup.proxy.request({ path: '/data', headers: ['X-Request-Id', 'has spaces'] });
    expect(refused.status).toBe(401);
    const generated = refused.headers['x-request-id'];
    expect(generated).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    const lines = setup.proxy.logs.lines.filter((l) => l.msg === 'request');
    expect(lines.filter((l) => l.reqId === 'trace-42')).toEqual([
      expect.objectContaining({
        caller: '127.0.0.1',
        method: 'GET',
        path: '/data',
        decision: 'allowed',
        reason: 'authenticated',
        user: 'system:serviceaccount:ns1:app',
        groups: 3,
        ms: expect.any(Number),
      }),
    ]);
    expect(lines.filter((l) => l.reqId === generated)).toEqual([
      expect.objectContaining({
        decision: 'denied',
        reason: 'no-credential',
        denial: 'unauthenticated',
        path: '/data',
      }),
    ]);
  });

  it('never writes a token to its logs', async () => {
    const text = setup.proxy.logs.text();
    expect(sent.length).toBeGreaterThan(3);
    for (const t of sent) expect(leakedSecrets(text, t)).toEqual([]);
  });
});

describe('tokenwarden proxy with --pass-authorization and allow-lists', () => {
  const setup = useProxy({
    flags: [
      '--pass-authorization',
      '--allow-service-account',
      'ns1:app',
      '--allow-namespace',
      'ns2',
      '--allow-group',
      'ops',
    ],
  });

  const sa = (namespace: string, name: string) =>
    token({
      sub: `system:serviceaccount:${namespace}:${name}`,
      'kubernetes.io': { namespace, serviceaccount: { name, uid: SA_UID } },
    });

  it('forwards Authorization as sent', async () => {
    const t = sa('ns1', 'app');
    const res = await setup.proxy.request({ path: '/', headers: ['Authorization', `Bearer ${t}`] });
    expect(res.status).toBe(200);
    expect(setup.upstream.headerLines(setup.upstream.received.at(-1)!, 'authorization')).toEqual([
      `Bearer ${t}`,
    ]);
  });

  it('lets listed service accounts and namespaces through and answers 403 to others', async () => {
    expect(
      (await setup.proxy.request({ path: '/', headers: ['Authorization', `Bearer ${sa('ns2', 'anyone')}`] }))
        .status,
    ).toBe(200);
    const before = setup.upstream.received.length;
    const res = await setup.proxy.request({
      path: '/',
      headers: ['Authorization', `Bearer ${sa('ns1', 'other')}`],
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message:
        'Forbidden (user=system:serviceaccount:ns1:other): not an allowed service account, namespace or group',
    });
    expect(setup.upstream.received.length).toBe(before);
  });
});

const CLIENT_CA = rootCa('proxy-client-ca');
const presented = (leaf: PkiCert) => ({
  cert: certificatePem(leaf.der),
  key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
});

describe('tokenwarden proxy with --client-ca-file', () => {
  const setup = useProxy({
    files: { 'client-ca.pem': certificatePem(CLIENT_CA.der) },
    flags: ['--client-ca-file', '$DIR/client-ca.pem'],
  });

  it('forwards the identity of a client certificate the client CA signed, and refuses one it did not sign', async () => {
    const alice = clientLeaf(CLIENT_CA, {
      subject: [
        ['O', 'dev'],
        ['CN', 'alice'],
      ],
    });
    const res = await setup.proxy.request({ path: '/x', clientCert: presented(alice) });
    expect(res.status).toBe(200);
    const got = setup.upstream.received.at(-1)!;
    expect(setup.upstream.headerLines(got, 'x-remote-user')).toEqual(['alice']);
    expect(setup.upstream.headerLines(got, 'x-remote-group')).toEqual(['dev', 'system:authenticated']);

    const before = setup.upstream.received.length;
    const mallory = clientLeaf(rootCa('another-ca'), {
      subject: [
        ['O', 'system:masters'],
        ['CN', 'mallory'],
      ],
    });
    expect((await setup.proxy.request({ path: '/x', clientCert: presented(mallory) })).status).toBe(401);
    expect(setup.upstream.received.length).toBe(before);
  });
});

describe('tokenwarden proxy when the upstream is down', () => {
  it('answers 502 and keeps serving', async () => {
    const upstream = await recordingUpstream();
    const url = upstream.url;
    await upstream.close();
    const proxy = await startTestProxy({ upstream: url });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await proxy.request({ path: '/', headers: ['Authorization', `Bearer ${token()}`] });
        expect(res.status).toBe(502);
        expect(JSON.parse(res.body)).toMatchObject({ code: 502 });
      }
      expect(
        proxy.logs.lines.some((l) => l.msg === 'upstream request failed' && l.code === 'ECONNREFUSED'),
      ).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

const POLICY =
  readFileSync(fileURLToPath(new URL('../fixtures/rbac/impersonation.yaml', import.meta.url)), 'utf8') +
  `
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics-reader }
rules:
- apiGroups: [""]
  resources: ["namespaces/metrics"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: jane-reads-team-a, namespace: team-a }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader }
subjects:
- kind: User
  name: jane.doe@example.com
- kind: ServiceAccount
  name: app
  namespace: ns1
`;

describe('tokenwarden proxy with RBAC, impersonation and a kube-rbac-proxy config', () => {
  const setup = useProxy({
    files: {
      'policy.yaml': POLICY,
      'krp.yaml': `authorization:
  rewrites:
    byQueryParameter:
      name: namespace
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: namespaces
    subresource: metrics
  static:
  - user: { name: system:serviceaccount:ns1:app }
    resourceRequest: true
    namespace: static-ns
    resource: namespaces
    subresource: metrics
    verb: get
`,
    },
    flags: ['--rbac-policy-file', '$DIR/policy.yaml', '--config-file', '$DIR/krp.yaml'],
  });
  const auth = () => ['Authorization', `Bearer ${token()}`];

  it('allows a request whose rewritten attributes RBAC or the static rules allow', async () => {
    expect((await setup.proxy.request({ path: '/metrics?namespace=team-a', headers: auth() })).status).toBe(
      200,
    );
    expect(
      (await setup.proxy.request({ path: '/metrics?namespace=static-ns', headers: auth() })).status,
    ).toBe(200);
  });

  it('answers 403 in kube-rbac-proxy words when one value is not allowed', async () => {
    const res = await setup.proxy.request({
      path: '/metrics?namespace=team-a&namespace=team-b',
      headers: auth(),
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 403,
      message:
        'Forbidden (user=system:serviceaccount:ns1:app, verb=get, resource=namespaces, subresource=metrics)',
    });
    expect(
      (await setup.proxy.request({ path: '/metrics?namespace=team-a', method: 'DELETE', headers: auth() }))
        .status,
    ).toBe(403);
  });

  it('answers 400 when the rewrite value is missing', async () => {
    const res = await setup.proxy.request({ path: '/metrics', headers: auth() });
    expect(res.status).toBe(400);
  });

  it('forwards the impersonated identity when every value is allowed, and authorizes as it', async () => {
    const res = await setup.proxy.request({
      path: '/metrics?namespace=team-a',
      headers: [
        ...auth(),
        'Impersonate-User',
        'jane.doe@example.com',
        'Impersonate-Group',
        'developers',
        'impersonate-extra-scopes',
        'view',
      ],
    });
    expect(res.status).toBe(200);
    const got = setup.upstream.received.at(-1)!;
    expect(setup.upstream.headerLines(got, 'x-remote-user')).toEqual(['jane.doe@example.com']);
    expect(setup.upstream.headerLines(got, 'x-remote-group')).toEqual(['developers', 'system:authenticated']);
    expect(setup.upstream.headerLines(got, 'x-remote-extra-scopes')).toEqual(['view']);
    expect(setup.upstream.headerLines(got, 'x-remote-uid')).toEqual([]);
    expect(got.rawHeaders.some((h) => /^impersonate-/i.test(h))).toBe(false);
  });

  it('refuses impersonation of a value the caller may not impersonate with 403', async () => {
    const before = setup.upstream.received.length;
    const res = await setup.proxy.request({
      path: '/metrics?namespace=team-a',
      headers: [...auth(), 'Impersonate-User', 'jane.doe@example.com', 'Impersonate-Group', 'system:masters'],
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).message).toBe(
      'groups "system:masters" is forbidden: User "system:serviceaccount:ns1:app" cannot impersonate resource "groups" in API group "" at the cluster scope',
    );
    const bad = await setup.proxy.request({
      path: '/metrics?namespace=team-a',
      headers: [...auth(), 'Impersonate-Group', 'developers'],
    });
    expect(bad.status).toBe(400);
    expect(setup.upstream.received.length).toBe(before);
  });
});
