import type { UserInfo } from '../../user.js';
import type { CompiledBinding, CompiledPolicy, SubjectIndex } from './compile.js';
import type { PolicyRule } from './types.js';

/** What kube's SelfSubjectRulesReview returns for one user and namespace. */
export interface RulesReview {
  readonly rules: readonly PolicyRule[];
  /** Roles that did not resolve, as kube's evaluationError lists them. */
  readonly errors: readonly string[];
}

/**
 * kube's RBAC `RulesFor` (pkg/registry/rbac/validation/rule.go `DefaultRuleResolver`): the rules
 * of every binding whose subjects apply to the user, ClusterRoleBindings first, then the
 * namespace's RoleBindings (none for namespace ""), in walk order, with each unresolved role an
 * error. The subject indexes return exactly the bindings whose subjects apply.
 */
export function rulesFor(policy: CompiledPolicy, user: UserInfo, namespace: string): RulesReview {
  const bindings = applying(policy.clusterBindings, user);
  const ns = namespace === '' ? undefined : policy.namespaceBindings.get(namespace);
  if (ns) bindings.push(...applying(ns, user));
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  for (const binding of bindings) {
    if (binding.error !== undefined) errors.push(binding.error);
    for (const rule of binding.rules) rules.push(rule.source);
  }
  return { rules, errors };
}

function applying(index: SubjectIndex, user: UserInfo): CompiledBinding[] {
  const found = new Map<number, CompiledBinding>();
  const lists = [index.byUser.get(user.username), ...user.groups.map((g) => index.byGroup.get(g))];
  for (const list of lists) for (const entry of list ?? []) found.set(entry.binding.ordinal, entry.binding);
  return [...found.values()].sort((a, b) => a.ordinal - b.ordinal);
}
