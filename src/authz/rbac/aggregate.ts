import { selectorMatches } from '../labels.js';
import { describeSource, type ClusterRole, type PolicyRule } from './types.js';

/**
 * What kube's clusterrole-aggregation controller would write into every ClusterRole that has
 * an `aggregationRule`: for each selector in order, the matching ClusterRoles sorted by name
 * (the role itself skipped), each rule appended unless an equal one is already there. The
 * result replaces the role's own rules. The controller reaches nested aggregation over
 * several syncs; a static file has no later sync, so passes repeat until nothing changes.
 *
 * Returns new ClusterRole objects (same order); the inputs are not modified.
 */
export function aggregateClusterRoles(roles: readonly ClusterRole[], notes: string[]): ClusterRole[] {
  const current: MutableClusterRole[] = roles.map((r) => ({ ...r }));
  const aggregated = current
    .filter((r) => r.aggregationRule !== undefined)
    .sort((a, b) => compareNames(a.name, b.name));
  if (aggregated.length === 0) return current;
  const byName = [...current].sort((a, b) => compareNames(a.name, b.name));

  // Each pass can only move rules one aggregation level further; a chain of N aggregated
  // roles settles within N + 1 passes unless selectors form a cycle that never settles.
  const maxPasses = aggregated.length + 2;
  for (let pass = 0; pass < maxPasses; pass++) {
    let changed = false;
    for (const role of aggregated) {
      const next: PolicyRule[] = [];
      for (const selector of role.aggregationRule!.clusterRoleSelectors) {
        for (const candidate of byName) {
          if (candidate.name === role.name || !selectorMatches(selector, candidate.labels)) continue;
          for (const rule of candidate.rules) {
            if (!next.some((r) => rulesEqual(r, rule))) next.push(rule);
          }
        }
      }
      if (!ruleListsEqual(next, role.rules)) {
        role.rules = next;
        changed = true;
      }
    }
    if (!changed) return current;
  }
  notes.push(
    `aggregationRule did not settle after ${maxPasses} passes (selectors form a cycle); using the last pass, starting at ${describeSource(aggregated[0]!.source)}`,
  );
  return current;
}

type MutableClusterRole = { -readonly [K in keyof ClusterRole]: ClusterRole[K] };

/** Go compares strings bytewise; for names (ASCII in practice) code-unit order is the same. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listsEqual(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `equality.Semantic.DeepEqual` on PolicyRule: order matters, nil and empty lists are equal. */
export function rulesEqual(a: PolicyRule, b: PolicyRule): boolean {
  return (
    listsEqual(a.verbs, b.verbs) &&
    listsEqual(a.apiGroups, b.apiGroups) &&
    listsEqual(a.resources, b.resources) &&
    listsEqual(a.resourceNames, b.resourceNames) &&
    listsEqual(a.nonResourceURLs, b.nonResourceURLs)
  );
}

function ruleListsEqual(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  return a.length === b.length && a.every((r, i) => rulesEqual(r, b[i]!));
}
