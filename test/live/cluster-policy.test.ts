import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Attributes, AuthzResult } from '../../src/authz/authorizer.js';
import { createFilePolicySource } from '../../src/authz/rbac/file-source.js';
import { loadClusterConfig } from '../../src/live/cluster-config.js';
import { watchClusterPolicy, type ClusterPolicySource } from '../../src/live/cluster-policy.js';
import { startFakeApiserver, type FakeApiserver } from '../helpers/fake-apiserver.js';
import { tempDir } from '../helpers/files.js';

const logger = pino({ enabled: false });
let server: FakeApiserver | undefined;
let source: ClusterPolicySource | undefined;
afterEach(async () => {
  source?.close();
  source = undefined;
  await server?.close();
  server = undefined;
});

const rule = (verbs: string[], resources: string[]) => ({ apiGroups: [''], resources, verbs });
const clusterRole = (name: string, rules: unknown[], labels?: Record<string, string>) => ({
  metadata: { name, uid: `uid-${name}`, ...(labels ? { labels } : {}) },
  rules,
});
const bindingTo = (role: string, user: string) => ({
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
});

/** The cluster source decides synchronously (the Authorizer interface also allows a promise). */
function decide(source: ClusterPolicySource, attributes: Attributes): AuthzResult {
  return source.authorizer.authorize(attributes) as AuthzResult;
}

function ask(user: string, verb: string, resource: string, namespace = 'ns1'): Attributes {
  return {
    user: { username: user, groups: ['system:authenticated'] },
    verb,
    namespace,
    apiGroup: '',
    apiVersion: 'v1',
    resource,
    subresource: '',
    name: '',
    resourceRequest: true,
    path: '',
  };
}

async function start(seed: (s: FakeApiserver) => void, files?: string[]) {
  server = await startFakeApiserver(tempDir());
  seed(server);
  const fileSource = files ? await createFilePolicySource(files, { logger }) : undefined;
  source = watchClusterPolicy(loadClusterConfig(server.kubeconfig), {
    now: () => Date.now(),
    backoff: { minMs: 5, maxMs: 20 },
    logger,
    settleMs: 5,
    ...(fileSource ? { files: fileSource } : {}),
  });
  await source.start();
  await source.listed;
  return { server, source };
}

describe('watchClusterPolicy', () => {
  it('grants nothing and is not ready until every RBAC kind has listed', async () => {
    server = await startFakeApiserver(tempDir());
    server.put('clusterroles', clusterRole('reader', [rule(['get'], ['pods'])]));
    server.put('clusterrolebindings', { metadata: { name: 'b', uid: 'u' }, ...bindingTo('reader', 'alice') });
    server.fail('rolebindings', true);
    source = watchClusterPolicy(loadClusterConfig(server.kubeconfig), {
      now: () => Date.now(),
      backoff: { minMs: 5, maxMs: 20 },
      logger,
    });
    await source.start();
    expect(source.health().ready).toBe(false);
    expect(decide(source, ask('alice', 'get', 'pods'))).toMatchObject({
      decision: 'no-opinion',
    });
    server.fail('rolebindings', false);
    await source.listed;
    expect(source.health().ready).toBe(true);
    expect(decide(source, ask('alice', 'get', 'pods'))).toEqual({
      decision: 'allow',
      reason: 'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "reader" to User "alice"',
    });
  });

  it('follows RBAC objects added, changed and removed while serving', async () => {
    const { server, source } = await start((s) => s.put('clusterroles', clusterRole('reader', [])));
    const reloads: number[] = [];
    source.onReload((e) => reloads.push(e.outcome === 'success' ? e.bindingCount : -1));
    const decision = () => decide(source, ask('bob', 'list', 'secrets')).decision;
    expect(decision()).toBe('no-opinion');

    server.put('roles', {
      metadata: { name: 'secrets', namespace: 'ns1', uid: 'r1' },
      rules: [rule(['list'], ['secrets'])],
    });
    server.put('rolebindings', {
      metadata: { name: 'bob-secrets', namespace: 'ns1', uid: 'rb1' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secrets' },
      subjects: [{ kind: 'User', name: 'bob' }],
    });
    await vi.waitFor(() => expect(decision()).toBe('allow'));
    expect(decide(source, ask('bob', 'list', 'secrets', 'ns2')).decision).toBe('no-opinion');

    server.put('roles', {
      metadata: { name: 'secrets', namespace: 'ns1', uid: 'r1' },
      rules: [rule(['get'], ['secrets'])],
    });
    await vi.waitFor(() => expect(decision()).toBe('no-opinion'));
    expect(decide(source, ask('bob', 'get', 'secrets')).decision).toBe('allow');

    server.remove('rolebindings', 'ns1', 'bob-secrets');
    await vi.waitFor(() => expect(decide(source, ask('bob', 'get', 'secrets')).decision).toBe('no-opinion'));
    expect(reloads.length).toBeGreaterThanOrEqual(3);
  });

  it('aggregates ClusterRoles by label, as the cluster’s controller does', async () => {
    const { server, source } = await start((s) => {
      s.put('clusterroles', {
        ...clusterRole('view-all', []),
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg/view': 'true' } }] },
      });
      s.put('clusterrolebindings', { metadata: { name: 'v', uid: 'u' }, ...bindingTo('view-all', 'carol') });
    });
    expect(decide(source, ask('carol', 'get', 'configmaps')).decision).toBe('no-opinion');
    server.put('clusterroles', clusterRole('cm', [rule(['get'], ['configmaps'])], { 'agg/view': 'true' }));
    await vi.waitFor(() => expect(decide(source, ask('carol', 'get', 'configmaps')).decision).toBe('allow'));
  });

  it('serves policy files beside the cluster: a binding in either grants, each against its own roles', async () => {
    const dir = tempDir();
    const file = join(dir, 'policy.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: ClusterRole',
        'metadata: {name: reader}',
        'rules: [{apiGroups: [""], resources: [nodes], verbs: [get]}]',
        '---',
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: ClusterRoleBinding',
        'metadata: {name: from-file}',
        'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}',
        'subjects: [{kind: User, name: dave}]',
      ].join('\n'),
    );
    const { source } = await start(
      (s) => {
        s.put('clusterroles', clusterRole('reader', [rule(['get'], ['pods'])]));
        s.put('clusterrolebindings', {
          metadata: { name: 'from-cluster', uid: 'u' },
          ...bindingTo('reader', 'erin'),
        });
      },
      [file],
    );
    const get = (user: string, resource: string) => decide(source, ask(user, 'get', resource, '')).decision;
    expect([get('erin', 'pods'), get('erin', 'nodes')]).toEqual(['allow', 'no-opinion']);
    expect([get('dave', 'nodes'), get('dave', 'pods')]).toEqual(['allow', 'no-opinion']);
    expect(source.health()).toMatchObject({ ready: true, bindingCount: 2 });
  });
});
