import type { PolicyRule } from '../authz/rbac/types.js';

/**
 * `kubectl auth can-i --list`'s table (k8s.io/kubectl/pkg/cmd/auth/cani.go `printStatus`): each
 * rule broken down to one group, resource, verb and name (rbacutil.BreakdownRule), rules on the
 * same group, resource and name merged with their verbs in first-seen order (CompactRules;
 * non-resource rules are never merged), sorted by Go's text form of the rule, and written
 * through kubectl's tabwriter (min width 6, padding 3).
 */
export function rulesTable(rules: readonly PolicyRule[], headers: boolean): string {
  const resourceRules = rules.filter((r) => r.resources.length > 0);
  const nonResourceRules = rules.filter((r) => r.nonResourceURLs.length > 0);
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, { rule: PolicyRule; verbs: string[] }>();
  for (const rule of resourceRules) {
    for (const group of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs)
          for (const name of rule.resourceNames.length > 0 ? rule.resourceNames : [undefined]) {
            // JSON keeps the parts apart: no group, resource or name can make another's key.
            const key = JSON.stringify([group, resource, name ?? null]);
            const merged = simple.get(key);
            if (merged) {
              if (!merged.verbs.includes(verb)) merged.verbs.push(verb);
              continue;
            }
            const verbs = [verb];
            simple.set(key, {
              verbs,
              rule: {
                verbs,
                apiGroups: [group],
                resources: [resource],
                resourceNames: name === undefined ? [] : [name],
                nonResourceURLs: [],
              },
            });
          }
  }
  for (const rule of nonResourceRules)
    for (const url of rule.nonResourceURLs)
      for (const verb of rule.verbs)
        compacted.push({
          verbs: [verb],
          apiGroups: [],
          resources: [],
          resourceNames: [],
          nonResourceURLs: [url],
        });
  compacted.push(...[...simple.values()].map((s) => s.rule));
  const sorted = compacted
    .map((rule) => ({ rule, text: Buffer.from(goString(rule)) }))
    .sort((a, b) => Buffer.compare(a.text, b.text))
    .map((s) => s.rule);
  const rows = sorted.map((r) => [
    combineResourceGroup(r),
    goSlice(r.nonResourceURLs),
    goSlice(r.resourceNames),
    goSlice(r.verbs),
  ]);
  if (headers) rows.unshift(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
  return tabwrite(rows);
}

/** fmt's `%v` of a []string. */
function goSlice(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}

/** The generated `(*PolicyRule).String()` of k8s.io/api/rbac/v1, the key kubectl sorts by. */
function goString(r: PolicyRule): string {
  return `&PolicyRule{Verbs:${goSlice(r.verbs)},APIGroups:${goSlice(r.apiGroups)},Resources:${goSlice(r.resources)},ResourceNames:${goSlice(r.resourceNames)},NonResourceURLs:${goSlice(r.nonResourceURLs)},}`;
}

/** k8s.io/kubectl/pkg/describe `CombineResourceGroup`: `deployments.apps/scale`. */
function combineResourceGroup(r: PolicyRule): string {
  const first = r.resources[0];
  if (first === undefined) return '';
  const slash = first.indexOf('/');
  const group = r.apiGroups[0] ?? '';
  const base = (slash < 0 ? first : first.slice(0, slash)) + (group === '' ? '' : `.${group}`);
  return slash < 0 ? base : `${base}/${first.slice(slash + 1)}`;
}

/** Go's text/tabwriter as kubectl sets it up: each column as wide as its widest cell plus 3, at least 6. */
function tabwrite(rows: readonly (readonly string[])[]): string {
  const width = (s: string) => [...s].length;
  const columns = Math.max(0, ...rows.map((r) => r.length - 1));
  const widths = Array.from({ length: columns }, (_, col) =>
    Math.max(6, ...rows.map((r) => width(r[col] ?? '') + 3)),
  );
  return rows
    .map(
      (r) =>
        r
          .map((cell, col) => (col < columns ? cell + ' '.repeat(widths[col]! - width(cell)) : cell))
          .join('') + '\n',
    )
    .join('');
}
