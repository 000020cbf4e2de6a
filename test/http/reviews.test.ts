import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { replaceFile, suiteDir, writeFile } from '../helpers/files.js';
import type { HttpsResponse } from '../helpers/http.js';
import { SentTokens } from '../helpers/logs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boundClaims, mintToken } from '../helpers/tokens.js';

const POLICY = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-reader, namespace: team-a }
rules:
  - { apiGroups: [""], resources: [pods], verbs: [get, list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: alice-reads-pods, namespace: team-a }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: User, name: alice }
`;

const AUTHZ = 'authorization.k8s.io';
const nowSeconds = Math.floor(Date.now() / 1000);
const listPods = (namespace: string) => ({ namespace, verb: 'list', resource: 'pods' });

let server: TestServer;
let alice: IssuedCert;
const dir = suiteDir();
const sent = new SentTokens();

beforeAll(async () => {
  const clientCa = await createCertificateAuthority('client-ca');
  alice = await issueCertificate(clientCa, { commonName: 'alice', organizations: ['dev'], usage: 'client' });
  server = await startTestServer({
    flags: [
      '--authorization-policy-file',
      writeFile(dir.dir, 'policy.yaml', POLICY),
      '--client-ca-file',
      writeFile(dir.dir, 'client-ca.crt', clientCa.cert),
    ],
  });
});
afterAll(async () => {
  await server.close();
  dir.remove();
});

function post(
  path: string,
  body: unknown,
  options: { cert?: IssuedCert; token?: string; requestId?: string } = {},
): Promise<HttpsResponse> {
  return server.request({
    method: 'POST',
    path,
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
    },
    body: JSON.stringify(body),
    ...(options.cert ? { clientCert: { cert: options.cert.cert, key: options.cert.key } } : {}),
  });
}

const local = (namespace: string, body: Record<string, unknown>, version = 'v1') =>
  post(`/apis/${AUTHZ}/${version}/namespaces/${namespace}/localsubjectaccessreviews`, {
    apiVersion: `${AUTHZ}/${version}`,
    kind: 'LocalSubjectAccessReview',
    ...body,
  });

const self = (
  body: Record<string, unknown>,
  options: { cert?: IssuedCert; token?: string } = {},
  version = 'v1',
) =>
  post(
    `/apis/${AUTHZ}/${version}/selfsubjectaccessreviews`,
    { apiVersion: `${AUTHZ}/${version}`, kind: 'SelfSubjectAccessReview', ...body },
    options,
  );

function expectStatus(res: HttpsResponse, code: number, reason: string, message: string): void {
  expect(res.status).toBe(code);
  expect(res.json()).toMatchObject({ kind: 'Status', status: 'Failure', code, reason, message });
}

describe('LocalSubjectAccessReview', () => {
  it("answers in the path's namespace, in the path's version, with the namespace as the object's", async () => {
    const res = await local('team-a', { spec: { user: 'alice', resourceAttributes: listPods('team-a') } });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      kind: 'LocalSubjectAccessReview',
      apiVersion: `${AUTHZ}/v1`,
      metadata: { namespace: 'team-a' },
      spec: { user: 'alice', resourceAttributes: listPods('team-a') },
      status: {
        allowed: true,
        reason: 'RBAC: allowed by RoleBinding "alice-reads-pods/team-a" of Role "pod-reader" to User "alice"',
      },
    });
    const elsewhere = await local('team-b', {
      spec: { user: 'alice', resourceAttributes: listPods('team-b') },
    });
    expect(elsewhere.json()).toMatchObject({ metadata: { namespace: 'team-b' }, status: { allowed: false } });
  });

  it('is not served in v1beta1, as kube-apiserver 1.37 serves no authorization.k8s.io/v1beta1', async () => {
    const res = await local(
      'team-a',
      { spec: { user: 'alice', resourceAttributes: listPods('team-a') } },
      'v1beta1',
    );
    expectStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    const self = await post(`/apis/${AUTHZ}/v1beta1/selfsubjectaccessreviews`, {}, { cert: alice });
    expect(self.status).toBe(404);
  });

  it('names a review of another kind as kube does when it cannot convert it', async () => {
    expectStatus(
      await local('team-a', { kind: 'SelfSubjectAccessReview', spec: {} }),
      400,
      'BadRequest',
      'SelfSubjectAccessReview in version "v1" cannot be handled as a LocalSubjectAccessReview: converting (v1.SelfSubjectAccessReview) to (authorization.LocalSubjectAccessReview): unknown conversion',
    );
  });

  it("refuses a spec namespace other than the path's with kube's 422", async () => {
    expectStatus(
      await local('team-a', { spec: { user: 'alice', resourceAttributes: listPods('team-b') } }),
      422,
      'Invalid',
      `.${AUTHZ} "" is invalid: spec.resourceAttributes.namespace: Invalid value: "team-b": must match metadata.namespace`,
    );
  });

  it("refuses an object namespace other than the path's with the create handler's 400", async () => {
    expectStatus(
      await local('team-a', {
        metadata: { namespace: 'team-b' },
        spec: { user: 'alice', resourceAttributes: listPods('team-a') },
      }),
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
    const same = await local('team-a', {
      metadata: { namespace: 'team-a' },
      spec: { user: 'alice', resourceAttributes: listPods('team-a') },
    });
    expect(same.json()).toMatchObject({ status: { allowed: true } });
  });

  it('refuses other metadata and non-resource attributes, every error in one 422', async () => {
    expectStatus(
      await local('team-a', {
        metadata: { name: 'check', labels: { b: '2', a: '<1>' } },
        spec: { user: 'alice', nonResourceAttributes: { path: '/healthz', verb: 'get' } },
      }),
      422,
      'Invalid',
      `.${AUTHZ} "" is invalid: [metadata: Invalid value: {"name":"check","namespace":"team-a","labels":{"a":"\\u003c1\\u003e","b":"2"}}: must be empty except for namespace, spec.nonResourceAttributes: Invalid value: {"Path":"/healthz","Verb":"get"}: disallowed on this kind of request]`,
    );
  });
});

describe('SelfSubjectAccessReview', () => {
  it('asks about the caller its client certificate names, whatever the spec says', async () => {
    const res = await self(
      { spec: { user: 'root', groups: ['system:masters'], resourceAttributes: listPods('team-a') } },
      { cert: alice },
    );
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      kind: 'SelfSubjectAccessReview',
      apiVersion: `${AUTHZ}/v1`,
      metadata: {},
      spec: { resourceAttributes: listPods('team-a') },
      status: {
        allowed: true,
        reason: 'RBAC: allowed by RoleBinding "alice-reads-pods/team-a" of Role "pod-reader" to User "alice"',
      },
    });
    const elsewhere = await self({ spec: { resourceAttributes: listPods('team-b') } }, { cert: alice });
    expect(elsewhere.json()).toMatchObject({ status: { allowed: false } });
  });

  it("answers kube's 400 when no caller is known", async () => {
    expectStatus(
      await self({ spec: { resourceAttributes: listPods('team-a') } }),
      400,
      'BadRequest',
      'no user present on request',
    );
  });

  it('asks about the service account whose bearer token it validates', async () => {
    const res = await self(
      { spec: { resourceAttributes: listPods('team-a') } },
      { token: sent.add(mintToken({ claims: boundClaims({}, nowSeconds) })) },
    );
    expect(res.json()).toMatchObject({
      kind: 'SelfSubjectAccessReview',
      status: { allowed: false },
    });
    expect(server.logs.lines.at(-1)).toMatchObject({
      caller: 'system:serviceaccount:ns1:app',
      user: 'system:serviceaccount:ns1:app',
      groups: 3,
    });
  });

  it('answers 401 to a credential that does not authenticate', async () => {
    const expired = mintToken({ claims: boundClaims({ exp: nowSeconds - 3600 }, nowSeconds - 7200) });
    const res = await self(
      { spec: { resourceAttributes: listPods('team-a') } },
      { token: sent.add(expired) },
    );
    expectStatus(res, 401, 'Unauthorized', 'Unauthorized');
  });

  it('validates before it asks who the caller is, as kube does', async () => {
    expectStatus(
      await self({ metadata: { name: 'me' }, spec: {} }),
      422,
      'Invalid',
      `.${AUTHZ} "" is invalid: [spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified, metadata: Invalid value: {"name":"me"}: must be empty]`,
    );
  });
});

describe('an access review asked again with the same body', () => {
  const sar = (user: string) => ({
    apiVersion: `${AUTHZ}/v1`,
    kind: 'SubjectAccessReview',
    spec: { user, resourceAttributes: listPods('team-a') },
  });
  const SAR_PATH = `/apis/${AUTHZ}/v1/subjectaccessreviews`;

  it('is decided by the policy in force when it is asked, not when it was first asked', async () => {
    const own = suiteDir();
    const policyFile = writeFile(own.dir, 'policy.yaml', POLICY);
    const watched = await startTestServer({ flags: ['--authorization-policy-file', policyFile] });
    const ask = async (): Promise<unknown> => {
      const res = await watched.request({
        method: 'POST',
        path: SAR_PATH,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sar('alice')),
      });
      expect(res.status).toBe(200);
      return (res.json() as { status: unknown }).status;
    };
    /** Asks until the answer is `expected`, for 15 s at most (the policy file's watch must see the change). */
    const until = async (expected: unknown): Promise<unknown> => {
      let got: unknown;
      for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        got = await ask();
        if (JSON.stringify(got) === JSON.stringify(expected)) break;
      }
      return got;
    };
    const allowed = {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "alice-reads-pods/team-a" of Role "pod-reader" to User "alice"',
    };
    try {
      expect(await ask()).toEqual(allowed);
      expect(await ask()).toEqual(allowed);
      replaceFile(policyFile, POLICY.replace('kind: User, name: alice', 'kind: User, name: bob'));
      expect(await until({ allowed: false })).toEqual({ allowed: false });
      replaceFile(policyFile, POLICY.replace('alice-reads-pods', 'alice-lists-pods'));
      expect(
        await until({ ...allowed, reason: allowed.reason.replace('alice-reads-pods', 'alice-lists-pods') }),
      ).toEqual({
        ...allowed,
        reason: allowed.reason.replace('alice-reads-pods', 'alice-lists-pods'),
      });
    } finally {
      await watched.close();
      own.remove();
    }
  });

  it("is decoded for the namespace of each LocalSubjectAccessReview's path", async () => {
    const body = { spec: { user: 'alice', resourceAttributes: listPods('team-a') } };
    for (let round = 0; round < 2; round++) {
      expect((await local('team-a', body)).json()).toMatchObject({
        metadata: { namespace: 'team-a' },
        status: { allowed: true },
      });
      expectStatus(
        await local('team-b', body),
        422,
        'Invalid',
        `.${AUTHZ} "" is invalid: spec.resourceAttributes.namespace: Invalid value: "team-a": must match metadata.namespace`,
      );
    }
  });

  it("asks about each SelfSubjectAccessReview's own caller", async () => {
    const body = { spec: { resourceAttributes: listPods('team-a') } };
    const token = sent.add(mintToken({ claims: boundClaims({}, nowSeconds) }));
    for (let round = 0; round < 2; round++) {
      expect((await self(body, { cert: alice })).json()).toMatchObject({ status: { allowed: true } });
      expect((await self(body, { token })).json()).toMatchObject({ status: { allowed: false } });
      expectStatus(await self(body), 400, 'BadRequest', 'no user present on request');
    }
  });

  it('writes the same bytes and access line for a review seen before as for a new one', async () => {
    // The first is decoded, the second decoded and kept, the third answered from what was kept.
    const answers: HttpsResponse[] = [];
    const lines: Array<Record<string, unknown>> = [];
    for (const requestId of ['first', 'second', 'third']) {
      answers.push(await post(SAR_PATH, sar('alice'), { requestId }));
      lines.push(server.logs.lines.at(-1) as Record<string, unknown>);
    }
    const [first, , again] = answers as [HttpsResponse, HttpsResponse, HttpsResponse];
    expect(again.body).toBe(first.body);
    expect(again.headers['content-type']).toBe('application/json');
    expect(again.headers['content-length']).toBe(String(Buffer.byteLength(again.body)));
    const { time: _t1, ms: _m1, reqId: r1, ...restFirst } = lines[0]!;
    const { time: _t2, ms: _m2, reqId: r2, ...restAgain } = lines[2]!;
    expect([r1, r2]).toEqual(['first', 'third']);
    expect(restAgain).toEqual(restFirst);
  });
});

describe('the access log', () => {
  it('writes one line per access review with request id, caller, decision, reason code, subject and duration', async () => {
    await post(
      `/apis/${AUTHZ}/v1/namespaces/team-a/localsubjectaccessreviews`,
      { spec: { user: 'alice', groups: ['dev', 'qa'], resourceAttributes: listPods('team-a') } },
      { requestId: 'local-1' },
    );
    await post(
      `/apis/${AUTHZ}/v1/selfsubjectaccessreviews`,
      { spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } },
      { cert: alice, requestId: 'self-1' },
    );
    const lines = server.logs.lines.filter((l) => l.reqId === 'local-1' || l.reqId === 'self-1');
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'localsubjectaccessreview',
        route: 'localsubjectaccessreviews/v1',
        reqId: 'local-1',
        caller: '127.0.0.1',
        decision: 'allowed',
        reason: 'allow',
        user: 'alice',
        groups: 2,
        verb: 'list',
        namespace: 'team-a',
        apiGroup: '',
        resource: 'pods',
        subresource: '',
        name: '',
        authzReason:
          'RBAC: allowed by RoleBinding "alice-reads-pods/team-a" of Role "pod-reader" to User "alice"',
        ms: expect.any(Number),
      }),
      expect.objectContaining({
        msg: 'selfsubjectaccessreview',
        caller: 'alice',
        decision: 'denied',
        reason: 'no-opinion',
        user: 'alice',
        groups: 2,
        verb: 'get',
        path: '/healthz',
      }),
    ]);
    expect(sent.leaksIn(server.logs.text())).toEqual([]);
  });

  it('writes no token on a line of any kind: authenticated, rejected, refused, access review, 401', async () => {
    const valid = sent.add(mintToken({ claims: boundClaims({}, nowSeconds) }));
    const [head, payload] = valid.split('.');
    const forged = sent.add(`${head}.${payload}.${'A'.repeat(342)}`);
    const tokenReview = (token: string, requestId: string, kind = 'TokenReview') =>
      post(
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind, spec: { token } },
        { requestId },
      );
    expect((await tokenReview(valid, 'leak-ok')).status).toBe(200);
    expect((await tokenReview(forged, 'leak-rejected')).status).toBe(200);
    expect((await tokenReview(valid, 'leak-refused', 'SubjectAccessReview')).status).toBe(400);
    const ask = { spec: { resourceAttributes: listPods('team-a') } };
    expect(
      (
        await post(`/apis/${AUTHZ}/v1/selfsubjectaccessreviews`, ask, {
          token: valid,
          requestId: 'leak-self',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await post(`/apis/${AUTHZ}/v1/selfsubjectaccessreviews`, ask, {
          token: forged,
          requestId: 'leak-401',
        })
      ).status,
    ).toBe(401);
    const lines = server.logs.lines.filter((l) => typeof l.reqId === 'string' && l.reqId.startsWith('leak-'));
    expect(lines.map((l) => [l.reqId, l.decision])).toEqual([
      ['leak-ok', 'authenticated'],
      ['leak-rejected', 'rejected'],
      ['leak-refused', 'invalid'],
      ['leak-self', 'denied'],
      ['leak-401', 'invalid'],
    ]);
    expect(sent.leaksIn(server.logs.text())).toEqual([]);
  });
});
