import { describe, expect, it } from 'vitest';
import { resolveResource } from '../../src/cli/resource-names.js';

const named = (arg: string) => {
  const r = resolveResource(arg);
  return { group: r.apiGroup, resource: r.resource, warnings: r.warnings };
};

describe('resolveResource (kubectl auth can-i TYPE)', () => {
  it.each([
    ['po', '', 'pods'],
    ['Pod', '', 'pods'],
    ['PODS', '', 'pods'],
    ['deploy', 'apps', 'deployments'],
    ['Deployment.apps', 'apps', 'deployments'],
    ['deploy.apps', 'apps', 'deployments'],
    ['deployments.v1.apps', 'apps', 'deployments'],
    ['crd', 'apiextensions.k8s.io', 'customresourcedefinitions'],
    ['crds', 'apiextensions.k8s.io', 'customresourcedefinitions'],
    ['clusterrole', 'rbac.authorization.k8s.io', 'clusterroles'],
    ['netpol', 'networking.k8s.io', 'networkpolicies'],
    ['hpa', 'autoscaling', 'horizontalpodautoscalers'],
    ['horizontalpodautoscalers.v1.autoscaling', 'autoscaling', 'horizontalpodautoscalers'],
    // A group prefix is enough, as apimachinery's DefaultRESTMapper allows.
    ['storageclass.storage', 'storage.k8s.io', 'storageclasses'],
    ['sc.storage', 'storage.k8s.io', 'storageclasses'],
    ['certificatesigningrequests.certificates.k8s.io', 'certificates.k8s.io', 'certificatesigningrequests'],
    ['*', '', '*'],
  ])('%s is %s %s, with no warning', (arg, group, resource) => {
    expect(named(arg)).toEqual({ group, resource, warnings: [] });
  });

  it('prefers the core group for a name two groups share, warning about a short name as kubectl does', () => {
    expect(named('events')).toEqual({ group: '', resource: 'events', warnings: [] });
    expect(named('ev')).toEqual({
      group: '',
      resource: 'events',
      warnings: ['short name "ev" could also match lower priority resource events.events.k8s.io'],
    });
    expect(named('events.events.k8s.io')).toMatchObject({ group: 'events.k8s.io', resource: 'events' });
  });

  it("warns with kubectl's text about a name it does not know, and keeps it as written", () => {
    expect(named('foo')).toEqual({
      group: '',
      resource: 'foo',
      warnings: ["the server doesn't have a resource type 'foo'\n"],
    });
    expect(named('Widgets.Example.com')).toEqual({
      group: 'example.com',
      resource: 'widgets',
      warnings: ["the server doesn't have a resource type 'widgets' in group 'example.com'\n"],
    });
    // A version the server does not serve is not a version: the rest is taken as the group.
    expect(named('deployments.v1beta1.apps').warnings).toEqual([
      "the server doesn't have a resource type 'deployments' in group 'v1beta1.apps'\n",
    ]);
  });

  it('asks about users and groups without a warning, as kubectl does', () => {
    expect(named('users')).toEqual({ group: '', resource: 'users', warnings: [] });
    expect(named('groups')).toEqual({ group: '', resource: 'groups', warnings: [] });
    expect(named('userextras').warnings).toHaveLength(1);
  });
});
