import { describe, expect, it } from 'vitest';
import { whoCan } from '../../src/cli/commands/who-can.js';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { FIXTURE_POLICY, run } from '../authz/helpers.js';

/** alice: get/list pods in default through RoleBinding alice-reads; nodes through ClusterRoleBinding alice-nodes. */
const KUBECTL_POLICY = [
  '--policy',
  fileURLToPath(new URL('../fixtures/rbac/kubectl/policy.yaml', import.meta.url)),
];

const P = ['--policy', FIXTURE_POLICY];

describe('tokenwarden who-can', () => {
  it('prints a table of subjects with binding and role', async () => {
    const res = await run(whoCan, ['get', 'pods', '-n', 'development', ...P]);
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/ {3,}/))).toEqual([
      ['SUBJECT KIND', 'NAME', 'NAMESPACE', 'BINDING', 'ROLE'],
      [
        'Group',
        'system:serviceaccounts:monitoring',
        'ClusterRoleBinding/all-monitoring-sas',
        'ClusterRole/monitoring',
      ],
      ['ServiceAccount', 'app', 'development', 'RoleBinding/development/app-reads-pods', 'Role/pod-reader'],
    ]);
    // Columns line up under their headers.
    for (const [header, cell, row] of [
      ['ROLE', 'ClusterRole/monitoring', 1],
      ['BINDING', 'RoleBinding/development/app-reads-pods', 2],
      ['NAMESPACE', 'development', 2],
    ] as const) {
      expect(lines[row]!.indexOf(cell)).toBe(lines[0]!.indexOf(header));
    }
  });

  it('answers for a named object and a non-resource URL', async () => {
    expect((await run(whoCan, ['update', 'configmaps', 'my-configmap', ...P])).stdout).toContain(
      'User             frank',
    );
    expect((await run(whoCan, ['get', '/healthz', ...P])).stdout).toContain('ClusterRoleBinding/healthz');
  });

  it('says so when nobody can', async () => {
    expect(await run(whoCan, ['escalate', 'clusterroles.rbac.authorization.k8s.io', ...P])).toEqual({
      code: 0,
      stdout: 'No subjects found with permission to escalate clusterroles.rbac.authorization.k8s.io\n',
      stderr: '',
    });
  });

  it('refuses bad usage naming the flag', async () => {
    await expect(run(whoCan, ['get', 'pods', '--as', 'x', ...P])).rejects.toThrow(/--as/);
    await expect(run(whoCan, ['get', 'pods'])).rejects.toThrow('--policy is required');
  });

  it('finds RoleBindings of every namespace with -A, and of namespace default without -n', async () => {
    const all = await run(whoCan, ['get', 'pods', '-A', ...KUBECTL_POLICY]);
    expect(all.stdout).toMatch(/^User +alice +RoleBinding\/default\/alice-reads +Role\/pod-reader$/m);
    expect((await run(whoCan, ['get', 'po', ...KUBECTL_POLICY])).stdout).toContain(
      'RoleBinding/default/alice-reads',
    );
    expect(await run(whoCan, ['get', 'pods', '-n', 'other', ...KUBECTL_POLICY])).toEqual({
      code: 0,
      stdout: 'No subjects found with permission to get pods in namespace other\n',
      stderr: '',
    });
  });

  it('resolves short names and kinds, and asks ClusterRoleBindings alone about a cluster-scoped resource', async () => {
    const nodes = await run(whoCan, ['list', 'No', '-n', 'other', ...KUBECTL_POLICY]);
    expect(nodes.stdout).toMatch(
      /^User +alice +ClusterRoleBinding\/alice-nodes +ClusterRole\/nodes-and-urls$/m,
    );
    expect(nodes.stderr).toBe('');
  });

  it('warns as kubectl does about a resource kubectl would not know, and asks about it as written', async () => {
    const res = await run(whoCan, ['get', 'widgets.example.com', '-A', ...KUBECTL_POLICY]);
    expect(res.stderr).toBe(
      "Warning: the server doesn't have a resource type 'widgets' in group 'example.com'\n\n",
    );
    expect(res.stdout).toBe(
      'No subjects found with permission to get widgets.example.com in any namespace\n',
    );
  });

  it('prints the grants as JSON or YAML with -o', async () => {
    const expected = {
      grants: [
        {
          subject: { kind: 'User', name: 'alice' },
          binding: { kind: 'RoleBinding', name: 'alice-reads', namespace: 'default' },
          role: { kind: 'Role', name: 'pod-reader' },
        },
      ],
    };
    const json = await run(whoCan, ['get', 'pods', '-A', '-o', 'json', ...KUBECTL_POLICY]);
    expect(JSON.parse(json.stdout)).toEqual(expected);
    const yaml = await run(whoCan, ['get', 'pods', '-A', '--output', 'yaml', ...KUBECTL_POLICY]);
    expect(parse(yaml.stdout)).toEqual(expected);
    expect(
      JSON.parse((await run(whoCan, ['get', 'secrets', '-o', 'json', ...KUBECTL_POLICY])).stdout),
    ).toEqual({
      grants: [],
    });
    await expect(run(whoCan, ['get', 'pods', '-o', 'wide', ...KUBECTL_POLICY])).rejects.toThrow(
      'allowed formats are: json,yaml',
    );
  });
});
