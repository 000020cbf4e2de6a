import { describe, expect, it } from 'vitest';
import { whoCan } from '../../../src/authz/rbac/who-can.js';
import { fixturePolicy } from '../helpers.js';

const policy = fixturePolicy();
const rows = (q: Parameters<typeof whoCan>[1]): string[] =>
  whoCan(policy, q).map(
    (g) =>
      `${g.subjectKind} ${g.subjectName} ${g.subjectNamespace} <- ${g.bindingKind}/${g.bindingNamespace}/${g.bindingName} ${g.roleKind}/${g.roleName}`,
  );

describe('who-can', () => {
  it('lists cluster-wide grants, then the namespace RoleBindings, with binding and role', () => {
    expect(rows({ verb: 'get', resource: 'pods', namespace: 'development' })).toEqual([
      'Group system:serviceaccounts:monitoring  <- ClusterRoleBinding//all-monitoring-sas ClusterRole/monitoring',
      'ServiceAccount app development <- RoleBinding/development/app-reads-pods Role/pod-reader',
    ]);
  });

  it('ignores RoleBindings for a cluster-scoped question', () => {
    expect(rows({ verb: 'get', resource: 'pods' })).toEqual([
      'Group system:serviceaccounts:monitoring  <- ClusterRoleBinding//all-monitoring-sas ClusterRole/monitoring',
    ]);
  });

  it('honours resourceNames and lists every subject of the binding', () => {
    expect(
      rows({ verb: 'update', resource: 'configmaps', name: 'my-configmap', namespace: 'default' }),
    ).toEqual([
      'Group qa  <- ClusterRoleBinding//multi-subject ClusterRole/configmap-updater',
      'User frank  <- ClusterRoleBinding//multi-subject ClusterRole/configmap-updater',
      'ServiceAccount build ci <- ClusterRoleBinding//multi-subject ClusterRole/configmap-updater',
    ]);
    expect(rows({ verb: 'list', resource: 'configmaps', namespace: 'default' })).toEqual([]);
  });

  it('answers for subresources and API groups', () => {
    expect(
      rows({
        verb: 'update',
        resource: 'deployments',
        subresource: 'scale',
        apiGroup: 'apps',
        namespace: 'default',
      }),
    ).toEqual(['Group scalers  <- ClusterRoleBinding//scalers ClusterRole/scaler']);
  });

  it('answers for non-resource URLs', () => {
    expect(rows({ verb: 'get', nonResourceURL: '/healthz' })).toEqual([
      'Group monitors  <- ClusterRoleBinding//healthz ClusterRole/health-checker',
    ]);
  });

  it('skips bindings whose role does not resolve', () => {
    expect(
      rows({ verb: 'get', resource: 'secrets', namespace: 'default' }).some((r) => r.includes('erin')),
    ).toBe(false);
  });
});
