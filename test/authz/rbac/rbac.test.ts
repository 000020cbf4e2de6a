import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../../src/authz/rbac/compile.js';
import {
  type ClusterRoleBinding,
  type Policy,
  type PolicyRule,
  type RoleBinding,
  type Subject,
} from '../../../src/authz/rbac/types.js';
import { RbacAuthorizer } from '../../../src/authz/rbac/rbac.js';
import { attrs, compileYaml } from '../helpers.js';

/**
 * Semantics kube's validation keeps out of stored objects but the evaluator still defines
 * (a live source or a hand-built Policy can hold them), plus the walk order and reason
 * details that the fixture table does not isolate.
 */
const src = { file: 'test', document: 1 };
const rule = (verbs: string[], resources: string[], extra: Partial<PolicyRule> = {}): PolicyRule => ({
  verbs,
  apiGroups: [''],
  resources,
  resourceNames: [],
  nonResourceURLs: [],
  ...extra,
});
const user = (name: string): Subject => ({
  kind: 'User',
  apiGroup: 'rbac.authorization.k8s.io',
  name,
  namespace: '',
});
const group = (name: string): Subject => ({
  kind: 'Group',
  apiGroup: 'rbac.authorization.k8s.io',
  name,
  namespace: '',
});
const sa = (name: string, namespace = ''): Subject => ({
  kind: 'ServiceAccount',
  apiGroup: '',
  name,
  namespace,
});
const crb = (name: string, roleKind: string, roleName: string, subjects: Subject[]): ClusterRoleBinding => ({
  name,
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
  subjects,
  source: src,
});
const rb = (
  namespace: string,
  name: string,
  roleKind: string,
  roleName: string,
  subjects: Subject[],
): RoleBinding => ({
  namespace,
  name,
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
  subjects,
  source: src,
});

function authorizer(policy: Partial<Policy>): RbacAuthorizer {
  return new RbacAuthorizer(
    compilePolicy({
      roles: [],
      clusterRoles: [],
      roleBindings: [],
      clusterRoleBindings: [],
      notes: [],
      ...policy,
    }),
  );
}

const podsReader = {
  name: 'pods',
  labels: new Map<string, string>(),
  rules: [rule(['get'], ['pods'])],
  source: src,
};

describe('RBAC authorizer', () => {
  it('never matches a ClusterRoleBinding ServiceAccount subject without a namespace', () => {
    const a = authorizer({
      clusterRoles: [podsReader],
      clusterRoleBindings: [crb('c', 'ClusterRole', 'pods', [sa('app')])],
    });
    for (const username of ['system:serviceaccount::app', 'system:serviceaccount:default:app', 'app']) {
      expect(a.authorize(attrs({ user: username, verb: 'get', resource: 'pods', ns: 'default' }))).toEqual({
        decision: 'no-opinion',
        reason: '',
      });
    }
  });

  it('never resolves a ClusterRoleBinding to a Role, reporting it as not found', () => {
    const a = authorizer({
      roles: [{ namespace: 'default', name: 'r', rules: [rule(['get'], ['pods'])], source: src }],
      clusterRoleBindings: [crb('c', 'Role', 'r', [user('u')])],
    });
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: 'pods', ns: 'default' }))).toEqual({
      decision: 'no-opinion',
      reason: 'RBAC: role.rbac.authorization.k8s.io "r" not found',
    });
  });

  it('reports an unsupported roleRef kind as kube does', () => {
    const a = authorizer({ roleBindings: [rb('ns', 'b', 'Policy', 'p', [user('u')])] });
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: 'pods', ns: 'ns' })).reason).toBe(
      'RBAC: unsupported role reference kind: "Policy"',
    );
  });

  it('de-duplicates identical resolution errors as kube aggregates do', () => {
    const a = authorizer({
      clusterRoleBindings: [
        crb('a', 'ClusterRole', 'gone', [user('u')]),
        crb('b', 'ClusterRole', 'gone', [group('g')]),
      ],
    });
    expect(a.authorize(attrs({ user: 'u', groups: ['g'], verb: 'get', resource: 'pods' })).reason).toBe(
      'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
    );
  });

  it('reports only errors met before the allowing binding, in walk order', () => {
    const a = authorizer({
      clusterRoles: [podsReader],
      clusterRoleBindings: [
        crb('broken1', 'ClusterRole', 'gone1', [group('g')]),
        crb('ok', 'ClusterRole', 'pods', [user('u')]),
        crb('broken2', 'ClusterRole', 'gone2', [user('u')]),
      ],
    });
    expect(a.authorize(attrs({ user: 'u', groups: ['g'], verb: 'get', resource: 'pods' }))).toEqual({
      decision: 'allow',
      reason: 'RBAC: allowed by ClusterRoleBinding "ok" of ClusterRole "pods" to User "u"',
    });
    expect(a.authorize(attrs({ user: 'u', groups: ['g'], verb: 'list', resource: 'pods' })).reason).toBe(
      'RBAC: [clusterrole.rbac.authorization.k8s.io "gone1" not found, clusterrole.rbac.authorization.k8s.io "gone2" not found]',
    );
  });

  it('walks bindings in policy order across the user and group indexes', () => {
    const a = authorizer({
      clusterRoles: [podsReader],
      clusterRoleBindings: [
        crb('first-by-group', 'ClusterRole', 'pods', [group('g2')]),
        crb('second-by-user', 'ClusterRole', 'pods', [user('u')]),
        crb('third-by-group', 'ClusterRole', 'pods', [group('g1')]),
      ],
    });
    expect(
      a.authorize(attrs({ user: 'u', groups: ['g1', 'g2'], verb: 'get', resource: 'pods' })).reason,
    ).toBe('RBAC: allowed by ClusterRoleBinding "first-by-group" of ClusterRole "pods" to Group "g2"');
    expect(a.authorize(attrs({ user: 'u', groups: ['g1'], verb: 'get', resource: 'pods' })).reason).toContain(
      '"second-by-user"',
    );
  });

  it('reports the first subject of a binding that applies, whichever key found it', () => {
    const a = authorizer({
      clusterRoles: [podsReader],
      clusterRoleBindings: [
        crb('b', 'ClusterRole', 'pods', [group('other'), group('g'), user('u'), group('g')]),
      ],
    });
    expect(a.authorize(attrs({ user: 'u', groups: ['g', 'g'], verb: 'get', resource: 'pods' })).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "pods" to Group "g"',
    );
  });

  it('consults ClusterRoleBindings before RoleBindings', () => {
    const a = authorizer({
      clusterRoles: [podsReader],
      roleBindings: [rb('ns', 'local', 'ClusterRole', 'pods', [user('u')])],
      clusterRoleBindings: [crb('global', 'ClusterRole', 'pods', [user('u')])],
    });
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: 'pods', ns: 'ns' })).reason).toContain(
      'ClusterRoleBinding "global"',
    );
  });

  it('quotes names the way Go %q does', () => {
    const a = authorizer({
      clusterRoles: [{ ...podsReader, name: 'we"ird\\role' }],
      clusterRoleBindings: [crb('b\tx', 'ClusterRole', 'we"ird\\role', [user('ü\u0001')])],
    });
    expect(a.authorize(attrs({ user: 'ü\u0001', verb: 'get', resource: 'pods' })).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "b\\tx" of ClusterRole "we\\"ird\\\\role" to User "ü\\x01"',
    );
  });

  it('matches the subject of a ServiceAccount username exactly, not by prefix', () => {
    const a = compileYaml(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]`,
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects: [{kind: ServiceAccount, name: app, namespace: ns}]
roleRef: {kind: ClusterRole, name: c}`,
    );
    const rbac = new RbacAuthorizer(a);
    expect(
      rbac.authorize(attrs({ user: 'system:serviceaccount:ns:app', verb: 'get', resource: 'pods' })).decision,
    ).toBe('allow');
    for (const u of [
      'system:serviceaccount:ns:app2',
      'system:serviceaccount:ns:ap',
      'system:serviceaccount:ns2:app',
      'system:serviceaccounts:ns:app',
    ]) {
      expect(rbac.authorize(attrs({ user: u, verb: 'get', resource: 'pods' })).decision).toBe('no-opinion');
    }
  });

  it('grants only the resource names a rule receives through a YAML merge key', () => {
    const a = new RbacAuthorizer(
      compileYaml(
        `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules:
- &only {apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [allowed]}
- <<: *only
  verbs: [list]`,
        `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects: [{kind: User, name: u}]
roleRef: {kind: ClusterRole, name: c}`,
      ),
    );
    const decide = (verb: string, name: string) =>
      a.authorize(attrs({ user: 'u', verb, resource: 'secrets', ns: 'ns', name })).decision;
    expect(decide('list', 'allowed')).toBe('allow');
    expect(decide('list', 'other')).toBe('no-opinion');
    expect(decide('get', 'other')).toBe('no-opinion');
  });

  it('does not look at the API version', () => {
    const a = authorizer({
      clusterRoles: [podsReader],
      clusterRoleBindings: [crb('b', 'ClusterRole', 'pods', [user('u')])],
    });
    expect(
      a.authorize({ ...attrs({ user: 'u', verb: 'get', resource: 'pods' }), apiVersion: 'v7' }).decision,
    ).toBe('allow');
  });

  it('matches a non-resource rule with trailing stars trimmed, and * everywhere', () => {
    const a = authorizer({
      clusterRoles: [
        {
          ...podsReader,
          rules: [
            rule(['get'], [], { apiGroups: [], nonResourceURLs: ['/logs**'] }),
            rule(['put'], [], { apiGroups: [], nonResourceURLs: ['*'] }),
            rule(['list'], [], { apiGroups: [], nonResourceURLs: ['/apis/*'] }),
          ],
        },
      ],
      clusterRoleBindings: [crb('b', 'ClusterRole', 'pods', [user('u')])],
    });
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: '/logs/x' })).decision).toBe('allow');
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: '/log' })).decision).toBe('no-opinion');
    // A prefix match anchored at the start, as kube's strings.HasPrefix: never anywhere in the path.
    expect(a.authorize(attrs({ user: 'u', verb: 'list', resource: '/apis/y' })).decision).toBe('allow');
    for (const path of ['/x/apis/y', '/x/logs/y', '//apis/y'])
      expect(a.authorize(attrs({ user: 'u', verb: 'list', resource: path })).decision).toBe('no-opinion');
    expect(a.authorize(attrs({ user: 'u', verb: 'put', resource: '/anything/at/all' })).decision).toBe(
      'allow',
    );
  });

  it('matches resource * against subresources too, and never against URLs', () => {
    const a = authorizer({
      clusterRoles: [{ ...podsReader, rules: [rule(['get'], ['*'], { apiGroups: ['*'] })] }],
      clusterRoleBindings: [crb('b', 'ClusterRole', 'pods', [user('u')])],
    });
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: 'pods/exec', ns: 'x' })).decision).toBe(
      'allow',
    );
    expect(a.authorize(attrs({ user: 'u', verb: 'get', resource: '/healthz' })).decision).toBe('no-opinion');
  });
});
