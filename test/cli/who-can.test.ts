import { describe, expect, it } from 'vitest';
import { whoCan } from '../../src/cli/commands/who-can.js';
import { FIXTURE_POLICY, run } from '../authz/helpers.js';

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
      ['ServiceAccount', 'app', 'development', 'RoleBinding/app-reads-pods', 'Role/pod-reader'],
    ]);
    // Columns line up under their headers.
    for (const [header, cell, row] of [
      ['ROLE', 'ClusterRole/monitoring', 1],
      ['BINDING', 'RoleBinding/app-reads-pods', 2],
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
});
