/**
 * RBAC decisions per second, in process, against a generated policy of 10,000 bindings
 * (1,000 ClusterRoleBindings, 9,000 RoleBindings over 1,000 namespaces).
 * Run: npx vitest bench bench/rbac.bench.ts --run
 * Each iteration makes BATCH decisions, so decisions/s = hz × BATCH.
 */
import { bench, describe } from 'vitest';
import type { Attributes } from '../src/authz/authorizer.js';
import { createPrivilegedGroupsAuthorizer } from '../src/authz/privileged.js';
import { compilePolicy } from '../src/authz/rbac/compile.js';
import {
  type ClusterRole,
  type ClusterRoleBinding,
  type Policy,
  type PolicyRule,
  type Role,
  type RoleBinding,
} from '../src/authz/rbac/types.js';
import { RbacAuthorizer } from '../src/authz/rbac/rbac.js';
import { builtinAuthorizers, createAuthorizerUnion } from '../src/authz/union.js';

const BATCH = 1000;
const NAMESPACES = 1000;
const src = { file: 'bench', document: 1 };
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
  resourceNames: [],
  nonResourceURLs: [],
});
const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

function generate(): Policy {
  const resources = [
    'pods',
    'services',
    'configmaps',
    'secrets',
    'deployments',
    'jobs',
    'ingresses',
    'events',
  ];
  const clusterRoles: ClusterRole[] = [];
  for (let i = 0; i < 200; i++) {
    clusterRoles.push({
      name: `cr-${i}`,
      labels: new Map(),
      rules: [
        rule(['get', 'list', 'watch'], ['', 'apps', 'batch'], [resources[i % 8]!, resources[(i + 3) % 8]!]),
        rule(['create', 'update', 'patch'], ['apps'], [`${resources[(i + 1) % 8]}/status`, '*/scale']),
        rule(['get'], [''], ['configmaps']),
      ],
      source: src,
    });
  }
  const roles: Role[] = [];
  const roleBindings: RoleBinding[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `ns-${n}`;
    roles.push({
      namespace: ns,
      name: 'app',
      rules: [rule(['get', 'list'], [''], ['pods', 'pods/log']), rule(['*'], ['batch'], ['jobs'])],
      source: src,
    });
    for (let b = 0; b < 9; b++) {
      roleBindings.push({
        namespace: ns,
        name: `rb-${b}`,
        roleRef: b % 3 === 0 ? ref('Role', 'app') : ref('ClusterRole', `cr-${(n + b) % 200}`),
        subjects: [
          { kind: 'ServiceAccount', apiGroup: '', name: `sa-${b}`, namespace: '' },
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${n}-${b}`, namespace: '' },
        ],
        source: src,
      });
    }
  }
  const clusterRoleBindings: ClusterRoleBinding[] = [];
  for (let i = 0; i < 1000; i++) {
    clusterRoleBindings.push({
      name: `crb-${i}`,
      roleRef: ref('ClusterRole', `cr-${i % 200}`),
      subjects:
        i % 250 === 0
          ? [
              {
                kind: 'Group',
                apiGroup: 'rbac.authorization.k8s.io',
                name: 'system:authenticated',
                namespace: '',
              },
            ]
          : [
              {
                kind: i % 2 ? 'User' : 'Group',
                apiGroup: 'rbac.authorization.k8s.io',
                name: `${i % 2 ? 'user' : 'group'}-${i}`,
                namespace: '',
              },
            ],
      source: src,
    });
  }
  return { clusterRoles, roles, roleBindings, clusterRoleBindings, notes: [] };
}

const policy = compilePolicy(generate());
const rbac = new RbacAuthorizer(policy);
const chain = createAuthorizerUnion(builtinAuthorizers(rbac, createPrivilegedGroupsAuthorizer()));

function saRequest(i: number, verb: string, resource: string, subresource = ''): Attributes {
  const ns = `ns-${i % NAMESPACES}`;
  return {
    user: {
      username: `system:serviceaccount:${ns}:sa-${i % 9}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    },
    verb,
    resourceRequest: true,
    namespace: ns,
    apiGroup: '',
    apiVersion: '*',
    resource,
    subresource,
    name: '',
    path: '',
  };
}

// A mix of answers: allowed through a RoleBinding, allowed through a ClusterRoleBinding,
// and denied after walking every binding that applies.
const requests: Attributes[] = [];
for (let i = 0; i < BATCH; i++) {
  switch (i % 4) {
    case 0:
      requests.push(saRequest(i, 'list', 'pods'));
      break;
    case 1:
      requests.push(saRequest(i, 'get', 'pods', 'log'));
      break;
    case 2:
      requests.push(saRequest(i, 'delete', 'nodes'));
      break;
    default:
      requests.push({
        ...saRequest(i, 'get', 'services'),
        user: { username: `user-${i}`, groups: ['group-2', 'system:authenticated'] },
      });
  }
}
let allowed = 0;
for (const r of requests) if ((await chain.authorize(r)).decision === 'allow') allowed++;
console.log(
  `policy: ${policy.bindingCount} bindings, ${policy.ruleCount} rules; batch of ${BATCH}: ${allowed} allowed`,
);

describe('RBAC decision, 10,000 bindings', () => {
  bench(`RBAC authorizer x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) rbac.authorize(requests[i]!);
  });

  bench(`system:masters + RBAC union x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) chain.authorize(requests[i]!);
  });

  bench(`denied after the full walk x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) rbac.authorize(requests[(i & ~3) + 2 < BATCH ? (i & ~3) + 2 : 2]!);
  });
});
