import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attributes, AuthzResult } from '../../../src/authz/authorizer.js';
import { compilePolicy } from '../../../src/authz/rbac/compile.js';
import {
  type ClusterRole,
  type ClusterRoleBinding,
  type Policy,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Subject,
} from '../../../src/authz/rbac/types.js';
import { RbacAuthorizer } from '../../../src/authz/rbac/rbac.js';
import { aggregateMessage } from '../../../src/errors.js';

const src = { file: 'gen', document: 1 };
const pick = <T>(...xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const list = <T>(arb: fc.Arbitrary<T>, max = 3): fc.Arbitrary<T[]> => fc.array(arb, { maxLength: max });

const verb = pick('get', 'list', 'update', '*', 'impersonate');
const resource = pick('pods', 'pods/log', '*/scale', 'deployments/scale', '*', 'pods/*', 'secrets');
const ns = pick('a', 'b');
const users = pick('u1', 'u2', 'system:serviceaccount:a:sa', 'system:serviceaccount:b:sa', '__proto__');
const groupNames = pick('g1', 'g2', 'system:serviceaccounts:a', 'constructor');
const roleNames = pick('r1', 'r2', 'toString', 'missing');

const rule: fc.Arbitrary<PolicyRule> = fc.oneof(
  fc.record({
    verbs: list(verb, 2).filter((v) => v.length > 0),
    apiGroups: list(pick('', 'apps', '*'), 2).filter((v) => v.length > 0),
    resources: list(resource, 2).filter((v) => v.length > 0),
    resourceNames: list(pick('n1', 'n2'), 1),
    nonResourceURLs: fc.constant([] as string[]),
  }),
  fc.record({
    verbs: list(verb, 2).filter((v) => v.length > 0),
    apiGroups: fc.constant([] as string[]),
    resources: fc.constant([] as string[]),
    resourceNames: fc.constant([] as string[]),
    nonResourceURLs: list(pick('/healthz', '/healthz*', '/apis/*', '/apis/x*', '*'), 2).filter(
      (v) => v.length > 0,
    ),
  }),
);

const subject: fc.Arbitrary<Subject> = fc.oneof(
  users.map((name) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name, namespace: '' })),
  groupNames.map((name) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name, namespace: '' })),
  fc.record({
    kind: fc.constant('ServiceAccount'),
    apiGroup: fc.constant(''),
    name: fc.constant('sa'),
    namespace: pick('', 'a', 'b'),
  }),
);
const roleRef = fc.record({
  apiGroup: fc.constant('rbac.authorization.k8s.io'),
  kind: pick('Role', 'ClusterRole'),
  name: roleNames,
});

const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    clusterRoles: fc.uniqueArray(fc.record({ name: roleNames, rules: list(rule) }), {
      selector: (r) => r.name,
      maxLength: 3,
    }),
    roles: fc.uniqueArray(fc.record({ namespace: ns, name: roleNames, rules: list(rule) }), {
      selector: (r) => `${r.namespace}/${r.name}`,
      maxLength: 3,
    }),
    clusterRoleBindings: list(fc.record({ roleRef, subjects: list(subject) }), 4),
    roleBindings: list(fc.record({ namespace: ns, roleRef, subjects: list(subject) }), 4),
  })
  .map((p) => ({
    clusterRoles: p.clusterRoles.map((r): ClusterRole => ({ ...r, labels: new Map(), source: src })),
    roles: p.roles.map((r): Role => ({ ...r, source: src })),
    clusterRoleBindings: p.clusterRoleBindings.map((b, i): ClusterRoleBinding => ({
      ...b,
      name: `crb${i}`,
      source: src,
    })),
    roleBindings: p.roleBindings.map((b, i): RoleBinding => ({ ...b, name: `rb${i}`, source: src })),
    notes: [],
  }));

function nonResourceRequest(path: fc.Arbitrary<string>): fc.Arbitrary<Attributes> {
  return fc.record({
    user: fc.record({ username: users, groups: list(groupNames) }),
    verb,
    resourceRequest: fc.constant(false),
    namespace: fc.constant(''),
    apiGroup: fc.constant(''),
    apiVersion: fc.constant(''),
    resource: fc.constant(''),
    subresource: fc.constant(''),
    name: fc.constant(''),
    path,
  });
}

const request: fc.Arbitrary<Attributes> = fc.oneof(
  fc.record({
    user: fc.record({ username: users, groups: list(groupNames) }),
    verb,
    resourceRequest: fc.constant(true),
    namespace: pick('', 'a', 'b'),
    apiGroup: pick('', 'apps'),
    apiVersion: fc.constant('*'),
    resource: pick('pods', 'deployments', 'secrets', '*'),
    subresource: pick('', 'log', 'scale', '*'),
    name: pick('', 'n1', 'n2'),
    path: fc.constant(''),
  }),
  nonResourceRequest(pick('/healthz', '/healthzx', '/apis', '/apis/', '/apis/x')),
);

/**
 * Non-resource paths that hold a rule's prefix other than at the start, or stop short of
 * it: a prefix rule must match only where the path begins (`/x/apis/y` is not `/apis/*`).
 */
const edgeRequest = nonResourceRequest(
  pick('/x/apis/y', '/x/healthz', '/apis/xy', '/ap', '/', '', '/healthz/', '//apis/x'),
);

/** A line-by-line port of kube's VisitRulesFor + authorizingVisitor, scanning every binding. */
function reference(policy: Policy, a: Attributes): AuthzResult {
  const errors: string[] = [];
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const allows = (r: PolicyRule): boolean => {
    const verbOk = r.verbs.some((v) => v === '*' || v === a.verb);
    if (!a.resourceRequest) {
      return (
        verbOk &&
        r.nonResourceURLs.some(
          (u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.replace(/\*+$/, ''))),
        )
      );
    }
    return (
      verbOk &&
      r.apiGroups.some((g) => g === '*' || g === a.apiGroup) &&
      r.resources.some(
        (x) =>
          x === '*' ||
          x === combined ||
          (a.subresource !== '' &&
            x.length === a.subresource.length + 2 &&
            x.startsWith('*/') &&
            x.endsWith(a.subresource)),
      ) &&
      (r.resourceNames.length === 0 || r.resourceNames.includes(a.name))
    );
  };
  const applies = (s: Subject, bindingNs: string): boolean => {
    if (s.kind === 'User') return a.user.username === s.name;
    if (s.kind === 'Group') return a.user.groups.includes(s.name);
    if (s.kind === 'ServiceAccount') {
      const n = s.namespace || bindingNs;
      return n !== '' && a.user.username === `system:serviceaccount:${n}:${s.name}`;
    }
    return false;
  };
  const rulesFor = (ref: { kind: string; name: string }, bindingNs: string): PolicyRule[] | string => {
    if (ref.kind === 'Role')
      return (
        policy.roles
          .find((r) => r.namespace === bindingNs && r.name === ref.name && bindingNs !== '')
          ?.rules.slice() ?? `role.rbac.authorization.k8s.io "${ref.name}" not found`
      );
    return (
      policy.clusterRoles.find((r) => r.name === ref.name)?.rules.slice() ??
      `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`
    );
  };
  const describe = (s: Subject, bindingNs: string): string =>
    s.kind === 'ServiceAccount'
      ? `ServiceAccount "${s.name}/${s.namespace || bindingNs}"`
      : `${s.kind} "${s.name}"`;
  for (const b of policy.clusterRoleBindings) {
    const i = b.subjects.findIndex((s) => applies(s, ''));
    if (i < 0) continue;
    const rules = rulesFor(b.roleRef, '');
    if (typeof rules === 'string') errors.push(rules);
    else if (rules.some(allows))
      return {
        decision: 'allow',
        reason: `RBAC: allowed by ClusterRoleBinding "${b.name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describe(b.subjects[i]!, '')}`,
      };
  }
  if (a.namespace !== '') {
    for (const b of policy.roleBindings.filter((x) => x.namespace === a.namespace)) {
      const i = b.subjects.findIndex((s) => applies(s, b.namespace));
      if (i < 0) continue;
      const rules = rulesFor(b.roleRef, b.namespace);
      if (typeof rules === 'string') errors.push(rules);
      else if (rules.some(allows))
        return {
          decision: 'allow',
          reason: `RBAC: allowed by RoleBinding "${b.name}/${b.namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describe(b.subjects[i]!, b.namespace)}`,
        };
    }
  }
  return { decision: 'no-opinion', reason: errors.length ? `RBAC: ${aggregateMessage(errors)}` : '' };
}

/** `policy` plus a ClusterRole allowing exactly `a`, bound to its user. */
function grantExactly(policy: Policy, a: Attributes): Policy {
  const granted: PolicyRule = a.resourceRequest
    ? {
        verbs: [a.verb],
        apiGroups: [a.apiGroup],
        resources: [a.subresource ? `${a.resource}/${a.subresource}` : a.resource],
        resourceNames: a.name ? [a.name] : [],
        nonResourceURLs: [],
      }
    : { verbs: [a.verb], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: [a.path] };
  return {
    ...policy,
    clusterRoles: [
      ...policy.clusterRoles,
      { name: 'granted', rules: [granted], labels: new Map(), source: src },
    ],
    clusterRoleBindings: [
      ...policy.clusterRoleBindings,
      {
        name: 'granted',
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'granted' },
        subjects: [
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: a.user.username, namespace: '' },
        ],
        source: src,
      },
    ],
  };
}

const decide = (policy: Policy, a: Attributes): AuthzResult =>
  new RbacAuthorizer(compilePolicy(policy)).authorize(a);

describe('RBAC properties', () => {
  it('the indexed authorizer gives exactly the reference walk answer, reason included', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(fc.oneof(request, edgeRequest), { minLength: 1, maxLength: 10 }),
        (policy, requests) => {
          const authorizer = new RbacAuthorizer(compilePolicy(policy));
          for (const a of requests) expect(authorizer.authorize(a)).toEqual(reference(policy, a));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('adding a rule to a role never turns allow into no-opinion', () => {
    // The allow is built, not filtered for: random policies allow too rarely for fc.pre.
    fc.assert(
      fc.property(policyArb, request, rule, fc.nat(), (random, a, extra, which) => {
        const policy = grantExactly(random, a);
        expect(decide(policy, a).decision).toBe('allow');
        const i = which % (policy.clusterRoles.length + policy.roles.length);
        const grown: Policy =
          i < policy.clusterRoles.length
            ? {
                ...policy,
                clusterRoles: policy.clusterRoles.map((r, j) =>
                  j === i ? { ...r, rules: [...r.rules, extra] } : r,
                ),
              }
            : {
                ...policy,
                roles: policy.roles.map((r, j) =>
                  j === i - policy.clusterRoles.length ? { ...r, rules: [...r.rules, extra] } : r,
                ),
              };
        expect(decide(grown, a).decision).toBe('allow');
      }),
      { numRuns: 500 },
    );
  });

  it('never denies: every answer is allow or no-opinion', () => {
    fc.assert(
      fc.property(policyArb, request, (policy, a) => {
        expect(['allow', 'no-opinion']).toContain(decide(policy, a).decision);
      }),
      { numRuns: 200 },
    );
  });
});
