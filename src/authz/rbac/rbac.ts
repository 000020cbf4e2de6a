import { aggregateMessage } from '../../errors.js';
import type { Attributes, Authorizer, AuthzResult } from '../authorizer.js';
import { allowReason, type CompiledPolicy, type IndexEntry, type SubjectIndex } from './compile.js';
import { ruleAllows, ruleRequest, type RuleRequest } from './rule.js';

/**
 * kube's RBAC authorizer (`plugin/pkg/auth/authorizer/rbac/rbac.go` over
 * `pkg/registry/rbac/validation/rule.go`): allow with the granting binding as reason, or no
 * opinion (never deny, never an error) with the roleRef resolution errors met on the way in
 * the reason.
 */
export class RbacAuthorizer implements Authorizer {
  constructor(private readonly policy: CompiledPolicy) {}

  authorize(attributes: Attributes): AuthzResult {
    const req = ruleRequest(attributes);
    const { username, groups } = attributes.user;
    const errors: string[] = [];

    const allowed = walk(this.policy.clusterBindings, username, groups, req, errors);
    if (allowed) return allowed;
    // Cluster-scoped (and all-namespace) requests never consult RoleBindings.
    if (attributes.namespace !== '') {
      const index = this.policy.namespaceBindings.get(attributes.namespace);
      if (index) {
        const allowedInNs = walk(index, username, groups, req, errors);
        if (allowedInNs) return allowedInNs;
      }
    }
    return { decision: 'no-opinion', reason: errors.length > 0 ? `RBAC: ${aggregateMessage(errors)}` : '' };
  }
}

export function createRbacAuthorizer(policy: CompiledPolicy): RbacAuthorizer {
  return new RbacAuthorizer(policy);
}

const NO_ENTRIES: readonly IndexEntry[] = [];

/**
 * Visits the bindings that apply to the user in walk order: a merge of the username list and
 * each group's list by ordinal. A binding reached through several keys is visited once, with
 * the lowest subject index (kube reports the binding's first subject that applies).
 */
function walk(
  index: SubjectIndex,
  username: string,
  groups: readonly string[],
  req: RuleRequest,
  errors: string[],
): AuthzResult | undefined {
  const userList = index.byUser.get(username) ?? NO_ENTRIES;
  // Common fast path: most users reach bindings through at most one key.
  let lists: (readonly IndexEntry[])[] | undefined;
  let single: readonly IndexEntry[] = userList;
  for (const group of groups) {
    const list = index.byGroup.get(group);
    if (!list) continue;
    if (single.length === 0 && lists === undefined) {
      single = list;
    } else {
      lists ??= single.length > 0 ? [single] : [];
      lists.push(list);
    }
  }
  if (lists === undefined) {
    for (const entry of single) {
      const result = visit(entry, entry.subjectIndex, req, errors);
      if (result) return result;
    }
    return undefined;
  }

  const pos = new Array<number>(lists.length).fill(0);
  for (;;) {
    let ordinal = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists.length; i++) {
      const head = lists[i]![pos[i]!];
      if (head && head.binding.ordinal < ordinal) ordinal = head.binding.ordinal;
    }
    if (ordinal === Number.POSITIVE_INFINITY) return undefined;
    let entry: IndexEntry | undefined;
    let subjectIndex = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists.length; i++) {
      const head = lists[i]![pos[i]!];
      if (head && head.binding.ordinal === ordinal) {
        entry = head;
        if (head.subjectIndex < subjectIndex) subjectIndex = head.subjectIndex;
        pos[i] = pos[i]! + 1;
      }
    }
    const result = visit(entry!, subjectIndex, req, errors);
    if (result) return result;
  }
}

function visit(
  entry: IndexEntry,
  subjectIndex: number,
  req: RuleRequest,
  errors: string[],
): AuthzResult | undefined {
  const binding = entry.binding;
  if (binding.error !== undefined) {
    errors.push(binding.error);
    return undefined;
  }
  for (const rule of binding.rules) {
    if (ruleAllows(req, rule)) {
      return { decision: 'allow', reason: allowReason(binding, subjectIndex) };
    }
  }
  return undefined;
}
