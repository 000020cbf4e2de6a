import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { canI, impersonatedUser, parseResourceArg } from '../../src/cli/commands/can-i.js';
import { UsageError } from '../../src/cli/usage.js';
import { FIXTURE_POLICY, run } from '../authz/helpers.js';

const P = ['--policy', FIXTURE_POLICY];

describe('tokenwarden can-i', () => {
  it('prints yes alone, exit 0, as kubectl does', async () => {
    expect(await run(canI, ['get', 'pods', '-n', 'default', '--as', 'jane', ...P])).toEqual({
      code: 0,
      stdout: 'yes\n',
      stderr: '',
    });
  });

  it("asks in kubectl's namespace default without -n, and at cluster scope with -A", async () => {
    expect(await run(canI, ['get', 'pods', '--as', 'jane', ...P])).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    });
    expect(await run(canI, ['get', 'pods', '-A', '--as', 'jane', ...P])).toMatchObject({
      code: 1,
      stdout: 'no\n',
    });
  });

  it('prints no, exit 1, with the RBAC errors as reason on the same line, as kubectl does', async () => {
    expect(await run(canI, ['get', 'pods', '-n', 'other', '--as', 'jane', ...P])).toMatchObject({
      code: 1,
      stdout: 'no\n',
    });
    expect(await run(canI, ['get', 'secrets', '--namespace', 'default', '--as', 'erin', ...P])).toMatchObject(
      {
        code: 1,
        stdout:
          'no - rbac: RBAC: [clusterrole.rbac.authorization.k8s.io "does-not-exist" not found, role.rbac.authorization.k8s.io "missing-role" not found]\n',
      },
    );
  });

  it('reads RESOURCE/NAME as kubectl does, the subresource from --subresource, and NAME as a third argument', async () => {
    expect(
      (
        await run(canI, [
          'update',
          'deployments.apps',
          '--subresource',
          'scale',
          '--as',
          'u',
          '--as-group',
          'scalers',
          ...P,
        ])
      ).code,
    ).toBe(0);
    // kubectl's reading: the deployment named "scale", not the scale subresource.
    expect(
      (await run(canI, ['update', 'deployments.apps/scale', '--as', 'u', '--as-group', 'scalers', ...P]))
        .code,
    ).toBe(1);
    expect((await run(canI, ['update', 'configmaps/my-configmap', '--as', 'frank', ...P])).code).toBe(0);
    expect((await run(canI, ['update', 'configmaps/other', '--as', 'frank', ...P])).code).toBe(1);
    expect((await run(canI, ['update', 'configmaps', 'my-configmap', '--as', 'frank', ...P])).code).toBe(0);
    expect((await run(canI, ['update', 'configmaps', 'other', '--as', 'frank', ...P])).code).toBe(1);
  });

  it('asks about non-resource URLs', async () => {
    expect((await run(canI, ['get', '/healthz', '--as', 'u', '--as-group', 'monitors', ...P])).code).toBe(0);
    expect((await run(canI, ['get', '/apis', '--as', 'prom', ...P])).code).toBe(1);
  });

  it('gives an impersonated service account its groups, as kubectl --as does', async () => {
    const res = await run(canI, ['get', 'pods', '--as', 'system:serviceaccount:monitoring:prom', ...P]);
    expect(res).toMatchObject({ code: 0, stdout: 'yes\n' });
    // An explicit group replaces the service-account groups.
    expect(
      (
        await run(canI, [
          'get',
          'pods',
          '--as',
          'system:serviceaccount:monitoring:prom',
          '--as-group',
          'x',
          ...P,
        ])
      ).code,
    ).toBe(1);
  });

  it('asks about groups alone literally when --as is not given', async () => {
    expect(await run(canI, ['list', 'secrets', '-A', '--as-group', 'manager', ...P])).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    });
  });

  it('allows system:masters before RBAC, with no reason line', async () => {
    expect(
      await run(canI, ['delete', 'nodes', '--as', 'root', '--as-group', 'system:masters', ...P]),
    ).toMatchObject({ code: 0, stdout: 'yes\n' });
  });

  it('refuses bad usage with a UsageError naming the flag or file', async () => {
    await expect(run(canI, ['get', 'pods', '--as', 'u', '--bogus', ...P])).rejects.toThrow(/--bogus/);
    await expect(run(canI, ['get', 'pods', '--as', 'u'])).rejects.toThrow('--policy is required');
    await expect(run(canI, ['get', 'pods', ...P])).rejects.toThrow('--as or --as-group is required');
    await expect(run(canI, ['get', '--as', 'u', ...P])).rejects.toBeInstanceOf(UsageError);
    await expect(run(canI, ['get', 'pods', '--as', 'u', '--policy', '/nonexistent.yaml'])).rejects.toThrow(
      '--policy: /nonexistent.yaml: cannot read policy file (ENOENT)',
    );
    await expect(run(canI, ['get', '/healthz', 'name', '--as', 'u', ...P])).rejects.toThrow(
      'NAME is not allowed with a non-resource URL',
    );
  });

  it('refuses an invalid policy file, naming the file, document and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-cani-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n');
    const err = await run(canI, ['get', 'pods', '--as', 'u', '--policy', file]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(
      `${file}: document 1 (Role "r"): metadata.namespace: Required value`,
    );
  });
});

describe('tokenwarden can-i, beyond what kubectl prints', () => {
  const KUBECTL_POLICY = [
    '--policy',
    fileURLToPath(new URL('../fixtures/rbac/kubectl/policy.yaml', import.meta.url)),
  ];

  it('prints with --list -o json|yaml the SelfSubjectRulesReview kube would return', async () => {
    const json = await run(canI, ['--list', '-n', 'other', '--as', 'alice', '-o', 'json', ...KUBECTL_POLICY]);
    const review = JSON.parse(json.stdout) as {
      kind: string;
      spec: unknown;
      status: Record<string, unknown>;
    };
    expect(review).toMatchObject({ kind: 'SelfSubjectRulesReview', spec: { namespace: 'other' } });
    // Namespace other: no RoleBinding, so the ClusterRoleBindings' rules alone.
    expect(review.status.resourceRules).toContainEqual({
      verbs: ['get', 'list'],
      apiGroups: [''],
      resources: ['nodes'],
    });
    expect(review.status.resourceRules).not.toContainEqual(
      expect.objectContaining({ resources: ['pods', 'pods/log'] }),
    );
    expect(review.status.nonResourceRules).toContainEqual({
      verbs: ['get'],
      nonResourceURLs: ['/metrics', '/logs/*'],
    });
    expect(review.status.incomplete).toBe(false);
    const yaml = await run(canI, ['--list', '-n', 'other', '--as', 'alice', '-o', 'yaml', ...KUBECTL_POLICY]);
    expect(parse(yaml.stdout)).toEqual(review);
  });

  it("names roles that do not resolve in the review's evaluationError", async () => {
    const json = await run(canI, ['--list', '-n', 'default', '--as', 'erin', '-o', 'json', ...P]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: { evaluationError: expect.stringContaining('"missing-role" not found') as unknown },
    });
  });

  it('refuses -o without --list', async () => {
    await expect(
      run(canI, ['get', 'pods', '--as', 'alice', '-o', 'json', ...KUBECTL_POLICY]),
    ).rejects.toThrow('-o/--output is only for --list');
  });
});

describe('can-i helpers', () => {
  it('parses kubectl-style resource arguments', () => {
    expect(parseResourceArg('pods', '', undefined)).toMatchObject({
      resource: 'pods',
      apiGroup: '',
      subresource: '',
      name: '',
    });
    expect(parseResourceArg('pods/log', '', undefined)).toMatchObject({
      resource: 'pods',
      apiGroup: '',
      subresource: '',
      name: 'log',
    });
    expect(parseResourceArg('pods', 'p', 'log')).toMatchObject({
      resource: 'pods',
      subresource: 'log',
      name: 'p',
    });
    expect(parseResourceArg('deployments.apps/web', '', 'scale')).toMatchObject({
      resource: 'deployments',
      apiGroup: 'apps',
      subresource: 'scale',
      name: 'web',
    });
    // strings.SplitN(arg, "/", 2): everything after the first slash is the name.
    expect(parseResourceArg('pods//', '', undefined)).toMatchObject({ resource: 'pods', name: '/' });
    expect(parseResourceArg('certificatesigningrequests.certificates.k8s.io', '', 'approval')).toMatchObject({
      apiGroup: 'certificates.k8s.io',
      subresource: 'approval',
    });
    expect(() => parseResourceArg('pods/web', 'other', undefined)).toThrow(UsageError);
  });

  it('builds the impersonated user as kube-apiserver does', () => {
    expect(impersonatedUser('jane', [])).toEqual({ username: 'jane', groups: ['system:authenticated'] });
    expect(impersonatedUser('system:serviceaccount:ns:sa', [])).toEqual({
      username: 'system:serviceaccount:ns:sa',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    });
    expect(impersonatedUser('jane', ['system:unauthenticated'])).toEqual({
      username: 'jane',
      groups: ['system:unauthenticated'],
    });
    expect(impersonatedUser('system:anonymous', [])).toEqual({
      username: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
  });
});
