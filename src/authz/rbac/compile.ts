import { goQuote } from '../../go-quote.js';
import { serviceAccountUsername } from '../../user.js';
import type { Policy, RoleRef, Subject } from './types.js';
import { compileRule, type CompiledRule } from './rule.js';

/**
 * A Policy turned into per-subject indexes, so a decision looks at the bindings that name the
 * requesting user or one of its groups and never scans the rest. kube walks every
 * ClusterRoleBinding, then the RoleBindings of the request namespace, skips those whose
 * subjects do not apply, and resolves the roleRef of the rest (collecting resolution errors).
 * The bindings an index returns are exactly those whose subjects apply, and each index list
 * keeps policy order, so merging the lists by ordinal reproduces kube's walk, errors included.
 * Rebuilt whole on every reload; never mutated after.
 */

export type BindingKind = 'ClusterRoleBinding' | 'RoleBinding';

export interface CompiledBinding {
  /** Position in the walk: ClusterRoleBindings first, then RoleBindings, each in policy order. */
  readonly ordinal: number;
  readonly kind: BindingKind;
  readonly name: string;
  /** '' for a ClusterRoleBinding */
  readonly namespace: string;
  readonly roleRef: RoleRef;
  readonly subjects: readonly Subject[];
  /** The role's rules; empty when the roleRef did not resolve. */
  readonly rules: readonly CompiledRule[];
  /** kube's resolution error text, e.g. `clusterrole.rbac.authorization.k8s.io "x" not found`. */
  readonly error: string | undefined;
  /**
   * Allow reasons by subject index, filled on first use: the text depends only on the binding
   * and subject, and building it (Go quoting) cost more than the decision itself.
   */
  readonly reasons: (string | undefined)[];
}

/** One binding reachable through one key, with the first of its subjects that the key satisfies. */
export interface IndexEntry {
  readonly binding: CompiledBinding;
  readonly subjectIndex: number;
}

export interface SubjectIndex {
  /** Username → bindings with a User subject of that name or a ServiceAccount subject whose username it is. */
  readonly byUser: ReadonlyMap<string, readonly IndexEntry[]>;
  readonly byGroup: ReadonlyMap<string, readonly IndexEntry[]>;
}

export interface CompiledPolicy {
  readonly clusterBindings: SubjectIndex;
  /** Namespace → that namespace's RoleBindings. */
  readonly namespaceBindings: ReadonlyMap<string, SubjectIndex>;
  /** Every binding in walk order (for who-can). */
  readonly bindings: readonly CompiledBinding[];
  /** Rules held by all roles, after aggregation (for health and metrics). */
  readonly ruleCount: number;
  readonly bindingCount: number;
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  return compilePolicies([policy]);
}

/**
 * Several policies served as one (live mode's cluster RBAC beside policy files): a binding in
 * any of them grants, and each binding's roleRef resolves against the roles of its own
 * policy, so a file never redefines a cluster role or the reverse. The walk takes every
 * ClusterRoleBinding of every policy, in the order given, before any RoleBinding.
 */
export function compilePolicies(policies: readonly Policy[]): CompiledPolicy {
  let ruleCount = 0;
  const resolvers = policies.map((policy) => {
    const roles = new Map<string, readonly CompiledRule[]>();
    const clusterRoles = new Map<string, readonly CompiledRule[]>();
    for (const role of policy.roles) {
      roles.set(roleKey(role.namespace, role.name), role.rules.map(compileRule));
      ruleCount += role.rules.length;
    }
    for (const role of policy.clusterRoles) {
      clusterRoles.set(role.name, role.rules.map(compileRule));
      ruleCount += role.rules.length;
    }
    return (ref: RoleRef, bindingNamespace: string) =>
      resolveRoleRef(ref, bindingNamespace, roles, clusterRoles);
  });

  const bindings: CompiledBinding[] = [];
  /** A binding of policy i, numbered in the order kube's informers list them. */
  const compileBinding = (
    i: number,
    kind: CompiledBinding['kind'],
    b: { name: string; roleRef: RoleRef; subjects: CompiledBinding['subjects'] },
    namespace: string,
  ): CompiledBinding => {
    const binding: CompiledBinding = {
      ordinal: bindings.length,
      kind,
      name: b.name,
      namespace,
      roleRef: b.roleRef,
      subjects: b.subjects,
      ...resolvers[i]!(b.roleRef, namespace),
      reasons: [],
    };
    bindings.push(binding);
    return binding;
  };
  const cluster = new IndexBuilder();
  policies.forEach((policy, i) => {
    for (const b of policy.clusterRoleBindings)
      cluster.add(compileBinding(i, 'ClusterRoleBinding', b, ''), '');
  });
  const namespaces = new Map<string, IndexBuilder>();
  policies.forEach((policy, i) => {
    for (const b of policy.roleBindings) {
      let builder = namespaces.get(b.namespace);
      if (!builder) namespaces.set(b.namespace, (builder = new IndexBuilder()));
      builder.add(compileBinding(i, 'RoleBinding', b, b.namespace), b.namespace);
    }
  });

  return {
    clusterBindings: cluster.build(),
    namespaceBindings: new Map([...namespaces].map(([ns, builder]) => [ns, builder.build()])),
    bindings,
    ruleCount,
    bindingCount: bindings.length,
  };
}

function resolveRoleRef(
  ref: RoleRef,
  bindingNamespace: string,
  roles: ReadonlyMap<string, readonly CompiledRule[]>,
  clusterRoles: ReadonlyMap<string, readonly CompiledRule[]>,
): { rules: readonly CompiledRule[]; error: string | undefined } {
  switch (ref.kind) {
    case 'Role': {
      // A ClusterRoleBinding looks the Role up in namespace "", where none can exist.
      const rules = bindingNamespace === '' ? undefined : roles.get(roleKey(bindingNamespace, ref.name));
      return rules
        ? { rules, error: undefined }
        : { rules: [], error: `role.rbac.authorization.k8s.io ${goQuote(ref.name)} not found` };
    }
    case 'ClusterRole': {
      const rules = clusterRoles.get(ref.name);
      return rules
        ? { rules, error: undefined }
        : { rules: [], error: `clusterrole.rbac.authorization.k8s.io ${goQuote(ref.name)} not found` };
    }
    default:
      return { rules: [], error: `unsupported role reference kind: ${goQuote(ref.kind)}` };
  }
}

function roleKey(namespace: string, name: string): string {
  // NUL cannot occur in a validated namespace, so the key is unambiguous.
  return `${namespace}\u0000${name}`;
}

/**
 * kube's `appliesToUser`, as the username a subject stands for: a User's name, or a
 * ServiceAccount's `system:serviceaccount:<ns>:<name>` with the subject's namespace, else the
 * binding's. A ServiceAccount with no namespace at all (only possible on a
 * ClusterRoleBinding) and unknown kinds match nobody. Groups are matched separately.
 */
export function subjectUsername(subject: Subject, bindingNamespace: string): string | undefined {
  switch (subject.kind) {
    case 'User':
      return subject.name;
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns === '' ? undefined : serviceAccountUsername(ns, subject.name);
    }
    default:
      return undefined;
  }
}

class IndexBuilder {
  private readonly byUser = new Map<string, IndexEntry[]>();
  private readonly byGroup = new Map<string, IndexEntry[]>();

  add(binding: CompiledBinding, bindingNamespace: string): void {
    binding.subjects.forEach((subject, subjectIndex) => {
      if (subject.kind === 'Group') {
        push(this.byGroup, subject.name, { binding, subjectIndex });
        return;
      }
      const username = subjectUsername(subject, bindingNamespace);
      if (username !== undefined) push(this.byUser, username, { binding, subjectIndex });
    });
  }

  build(): SubjectIndex {
    return { byUser: this.byUser, byGroup: this.byGroup };
  }
}

/** Keeps only the first subject of a binding per key: it is the one kube reports for that key. */
function push(map: Map<string, IndexEntry[]>, key: string, entry: IndexEntry): void {
  const list = map.get(key);
  if (!list) {
    map.set(key, [entry]);
    return;
  }
  if (list[list.length - 1]!.binding !== entry.binding) list.push(entry);
}

/** The RBAC allow reason for a binding reached through one of its subjects. */
export function allowReason(binding: CompiledBinding, subjectIndex: number): string {
  return (binding.reasons[subjectIndex] ??= `RBAC: allowed by ${describeGrant(binding, subjectIndex)}`);
}

/** The text kube's binding describers print: `ClusterRoleBinding "crb" of ClusterRole "r" to User "u"`. */
export function describeGrant(binding: CompiledBinding, subjectIndex: number): string {
  const subject = binding.subjects[subjectIndex]!;
  const who =
    binding.kind === 'ClusterRoleBinding'
      ? goQuote(binding.name)
      : goQuote(`${binding.name}/${binding.namespace}`);
  return `${binding.kind} ${who} of ${binding.roleRef.kind} ${goQuote(binding.roleRef.name)} to ${describeSubject(subject, binding.namespace)}`;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') {
    return `${s.kind} ${goQuote(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  }
  return `${s.kind} ${goQuote(s.name)}`;
}
