import { describe, expect, it } from 'vitest';
import { rulesFor } from '../../../src/authz/rbac/rules-for.js';
import { compileYaml } from '../helpers.js';

const policy = compileYaml(
  `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: nodes}
rules: [{apiGroups: [""], resources: [nodes], verbs: [get]}]`,
  `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods, namespace: a}
rules: [{apiGroups: [""], resources: [pods], verbs: [list]}]`,
  `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pods, namespace: a}
subjects: [{kind: Group, name: team, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: pods, apiGroup: rbac.authorization.k8s.io}`,
  `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nodes}
subjects: [{kind: User, name: ann, apiGroup: rbac.authorization.k8s.io}, {kind: Group, name: team, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: nodes, apiGroup: rbac.authorization.k8s.io}`,
  `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: broken}
subjects: [{kind: User, name: ann, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: missing, apiGroup: rbac.authorization.k8s.io}`,
);

const resources = (r: { rules: readonly { resources: readonly string[] }[] }) =>
  r.rules.map((x) => x.resources);

describe('rulesFor (SelfSubjectRulesReview)', () => {
  it("gives the ClusterRoleBindings' rules, then the namespace's RoleBindings', each binding once", () => {
    const user = { username: 'ann', groups: ['team'] };
    expect(resources(rulesFor(policy, user, 'a'))).toEqual([['nodes'], ['pods']]);
    expect(resources(rulesFor(policy, user, 'b'))).toEqual([['nodes']]);
    expect(resources(rulesFor(policy, user, ''))).toEqual([['nodes']]);
  });

  it('lists nothing for a user no binding names, and reports roles that do not resolve', () => {
    expect(rulesFor(policy, { username: 'bob', groups: [] }, 'a')).toEqual({ rules: [], errors: [] });
    expect(rulesFor(policy, { username: 'ann', groups: [] }, 'a').errors).toEqual([
      'clusterrole.rbac.authorization.k8s.io "missing" not found',
    ]);
  });
});
