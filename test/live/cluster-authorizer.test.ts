import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Attributes, AuthzResult } from '../../src/authz/authorizer.js';
import { manualClock } from '../../src/clock.js';
import {
  buildAuthorization,
  loadAuthorizationOptions,
  type Authorization,
} from '../../src/compose/authorization.js';
import { DELEGATED_ALLOW_TTL_MS, DELEGATED_DENY_TTL_MS } from '../../src/live/cluster-authorizer.js';
import { startFakeApiserver, type FakeApiserver, type ReviewHandler } from '../helpers/fake-apiserver.js';
import { tempDir } from '../helpers/files.js';
import { captureLogs } from '../helpers/logs.js';

let server: FakeApiserver | undefined;
let authorization: Authorization | undefined;
afterEach(async () => {
  authorization?.close();
  authorization = undefined;
  await server?.close();
  server = undefined;
});

function ask(username: string, verb: string, resource: string, more: Partial<Attributes> = {}): Attributes {
  return {
    user: { username, groups: ['system:authenticated'] },
    verb,
    namespace: 'ns1',
    apiGroup: '',
    apiVersion: 'v1',
    resource,
    subresource: '',
    name: '',
    resourceRequest: true,
    path: '',
    ...more,
  };
}

/** The cluster's answer: alice may do anything, `deny-*` users are denied, the rest get no opinion. */
const clusterRbac: ReviewHandler = (body) => {
  const user = String(body.spec?.user);
  const status =
    user === 'alice'
      ? {
          allowed: true,
          reason: 'RBAC: allowed by ClusterRoleBinding "admin" of ClusterRole "admin" to User "alice"',
        }
      : user.startsWith('deny-')
        ? { allowed: false, denied: true, reason: 'denied by the cluster' }
        : { allowed: false, reason: 'no binding' };
  return { code: 201, body: { kind: 'SubjectAccessReview', status } };
};

/**
 * `serve --kubeconfig <fake> --delegate-authorization`, composed as serve composes it: the cluster's
 * watched RBAC grants carol get on pods locally; everything else is the cluster's SubjectAccessReview's to answer.
 */
async function start(handler: ReviewHandler, timeoutMs?: number) {
  server = await startFakeApiserver(tempDir());
  server.answerReviews('subjectaccessreviews', handler);
  server.put('clusterroles', {
    metadata: { name: 'reader', uid: 'r' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  });
  server.put('clusterrolebindings', {
    metadata: { name: 'carol-reads', uid: 'b' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
    subjects: [{ kind: 'User', name: 'carol' }],
  });
  const clock = manualClock(Date.UTC(2026, 0, 15));
  const logs = captureLogs();
  authorization = buildAuthorization(
    await loadAuthorizationOptions(
      {
        cluster: {
          kubeconfigFile: server.kubeconfig,
          stalenessBoundMs: 300_000,
          backoff: { minMs: 5, maxMs: 20 },
          delegateAuthorization: true,
          ...(timeoutMs ? { delegationTimeoutMs: timeoutMs } : {}),
        },
      },
      { clock, logger: logs.logger },
    ),
  );
  const authorizer = authorization.authorizer;
  await vi.waitFor(async () =>
    expect((await authorizer.authorize(ask('carol', 'get', 'pods'))).decision).toBe('allow'),
  );
  // Asked before the first list, carol went to the cluster too: only what follows counts.
  server.reviews.subjectaccessreviews.length = 0;
  logs.lines.length = 0;
  return {
    clock,
    logs,
    server,
    decide: async (a: Attributes): Promise<AuthzResult> => authorizer.authorize(a),
  };
}

describe('delegating authorization to the cluster', () => {
  it('answers from the local policy without asking the cluster when the policy allows', async () => {
    const { decide, server } = await start(clusterRbac);
    expect(await decide(ask('carol', 'get', 'pods'))).toEqual({
      decision: 'allow',
      reason: 'RBAC: allowed by ClusterRoleBinding "carol-reads" of ClusterRole "reader" to User "carol"',
    });
    expect(
      await decide(ask('x', 'get', 'pods', { user: { username: 'x', groups: ['system:masters'] } })),
    ).toMatchObject({
      decision: 'allow',
    });
    expect(server.reviews.subjectaccessreviews).toEqual([]);
  });

  it("gives the cluster's allow, deny and no opinion, with its reason, for what the local policy has no opinion on", async () => {
    const { decide } = await start(clusterRbac);
    expect(await decide(ask('alice', 'delete', 'secrets'))).toEqual({
      decision: 'allow',
      reason: 'RBAC: allowed by ClusterRoleBinding "admin" of ClusterRole "admin" to User "alice"',
    });
    expect(await decide(ask('deny-bob', 'get', 'pods'))).toEqual({
      decision: 'deny',
      reason: 'denied by the cluster',
    });
    expect(await decide(ask('dave', 'get', 'secrets'))).toEqual({
      decision: 'no-opinion',
      reason: 'no binding',
    });
  });

  it('sends the whole request as a v1 SubjectAccessReview spec', async () => {
    const { decide, server } = await start(clusterRbac);
    await decide(
      ask('dave', 'get', 'deployments', {
        user: { username: 'dave', uid: 'u1', groups: ['g1', 'g2'], extra: { scopes: ['a', 'b'] } },
        apiGroup: 'apps',
        subresource: 'scale',
        name: 'web',
      }),
    );
    await decide(ask('dave', 'get', '', { resourceRequest: false, path: '/healthz', namespace: '' }));
    expect(server.reviews.subjectaccessreviews).toEqual([
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'dave',
          uid: 'u1',
          groups: ['g1', 'g2'],
          extra: { scopes: ['a', 'b'] },
          resourceAttributes: {
            namespace: 'ns1',
            verb: 'get',
            group: 'apps',
            version: 'v1',
            resource: 'deployments',
            subresource: 'scale',
            name: 'web',
          },
        },
      },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'dave',
          groups: ['system:authenticated'],
          nonResourceAttributes: { path: '/healthz', verb: 'get' },
        },
      },
    ]);
  });

  it("passes the cluster's evaluationError on, and turns allowed-and-denied into kube's deny", async () => {
    const { decide } = await start((body) => ({
      code: 201,
      body: {
        status:
          body.spec?.user === 'both'
            ? { allowed: true, denied: true, reason: 'r' }
            : { allowed: false, reason: 'r', evaluationError: 'webhook "x" failed' },
      },
    }));
    expect(await decide(ask('both', 'get', 'pods'))).toEqual({
      decision: 'deny',
      reason: 'r',
      error: 'webhook subject access review returned both allow and deny response',
    });
    expect(await decide(ask('dave', 'get', 'secrets'))).toEqual({
      decision: 'no-opinion',
      reason: 'r',
      error: 'webhook "x" failed',
    });
  });

  it("keeps allows and denials for kube's delegated 10 s, then asks again", async () => {
    const { decide, server, clock } = await start(clusterRbac);
    const requests = [
      ask('alice', 'get', 'secrets'),
      ask('deny-bob', 'get', 'secrets'),
      ask('dave', 'get', 'secrets'),
    ];
    for (const a of requests) await decide(a);
    expect(DELEGATED_ALLOW_TTL_MS).toBe(DELEGATED_DENY_TTL_MS);
    clock.advance(DELEGATED_ALLOW_TTL_MS - 1);
    for (const a of requests) await decide(a);
    expect(server.reviews.subjectaccessreviews).toHaveLength(3);
    clock.advance(2);
    for (const a of requests) await decide(a);
    expect(server.reviews.subjectaccessreviews).toHaveLength(6);
  });

  it.each([
    ['a 5xx', () => ({ code: 500, body: { kind: 'Status' } }), 'the server answered HTTP 500'],
    ['a 403', () => ({ code: 403, body: { kind: 'Status' } }), 'the server answered HTTP 403'],
    [
      'an answer of another kind',
      () => ({ code: 201, body: { kind: 'Status' } }),
      'the answer is not a SubjectAccessReview',
    ],
  ] as Array<[string, ReviewHandler, string]>)(
    'has no opinion, with the error and never cached, on %s',
    async (_name, handler, why) => {
      const { decide, server, logs } = await start(handler);
      for (let i = 0; i < 2; i++) {
        expect(await decide(ask('alice', 'get', 'secrets'))).toEqual({
          decision: 'no-opinion',
          reason: '',
          error: `SubjectAccessReview to the cluster failed: ${why}`,
        });
      }
      expect(server.reviews.subjectaccessreviews).toHaveLength(2);
      expect(logs.lines.filter((l) => l.msg === 'delegated SubjectAccessReview failed')).toHaveLength(2);
    },
  );

  it('has no opinion with the error when the cluster does not answer in time', async () => {
    const { decide } = await start(() => 'hang', 500);
    expect(await decide(ask('alice', 'get', 'secrets'))).toEqual({
      decision: 'no-opinion',
      reason: '',
      error: 'SubjectAccessReview to the cluster failed: no answer within 500 ms',
    });
  });

  it('keys each decision by the whole request: distinct requests never share an entry', async () => {
    // The cluster allows only the exact user "a:b" with the single group "c".
    const { decide, server } = await start((body) => ({
      code: 201,
      body: {
        status: { allowed: body.spec?.user === 'a:b' && JSON.stringify(body.spec?.groups) === '["c"]' },
      },
    }));
    const variants: Attributes[] = [
      ask('a:b', 'get', 'secrets', { user: { username: 'a:b', groups: ['c'] } }),
      ask('a', 'get', 'secrets', { user: { username: 'a', groups: ['b:c'] } }),
      ask('a:b', 'get', 'secrets', { user: { username: 'a:b', groups: ['c', ''] } }),
      ask('a:b', 'get', 'secrets', { user: { username: 'a:b', groups: [] } }),
      ask('a:b', 'get', 'secrets', { user: { username: 'a:b', groups: ['c'], uid: '' } }),
    ];
    const decisions = [];
    for (const a of variants) decisions.push((await decide(a)).decision);
    expect(decisions).toEqual(['allow', 'no-opinion', 'no-opinion', 'no-opinion', 'allow']);
    // The uid '' variant shares the first entry only because kube sends the same spec for both.
    expect(server.reviews.subjectaccessreviews).toHaveLength(4);
  });
});
