import type { Attributes } from '../authorizer.js';
import type { PolicyRule } from './types.js';

/**
 * kube's `RuleAllows` (`plugin/pkg/auth/authorizer/rbac/rbac.go`) and the matchers of
 * `pkg/apis/rbac/v1/evaluation_helpers.go`, with each rule's lists turned into sets once at
 * compile time. Every comparison is exact and case-sensitive, as in kube.
 */

export interface CompiledRule {
  readonly source: PolicyRule;
  readonly anyVerb: boolean;
  readonly verbs: ReadonlySet<string>;
  readonly anyGroup: boolean;
  readonly groups: ReadonlySet<string>;
  /** `*` in resources: every resource and subresource. */
  readonly anyResource: boolean;
  // Exact entries, star-slash-subresource ones included: kube's test for those (prefix "*" + "/",
  // suffix the subresource, length + 2) is an exact comparison with "*" + "/" + subresource.
  readonly resources: ReadonlySet<string>;
  /** undefined when the rule lists no names (any name, the empty name included). */
  readonly names: ReadonlySet<string> | undefined;
  readonly anyURL: boolean;
  readonly urls: ReadonlySet<string>;
  /** Entries ending in `*`, with every trailing `*` trimmed (`strings.TrimRight(url, "*")`). */
  readonly urlPrefixes: readonly string[];
}

export function compileRule(rule: PolicyRule): CompiledRule {
  const urlPrefixes: string[] = [];
  for (const url of rule.nonResourceURLs) {
    if (url.endsWith('*')) urlPrefixes.push(url.replace(/\*+$/, ''));
  }
  return {
    source: rule,
    anyVerb: rule.verbs.includes('*'),
    verbs: new Set(rule.verbs),
    anyGroup: rule.apiGroups.includes('*'),
    groups: new Set(rule.apiGroups),
    anyResource: rule.resources.includes('*'),
    resources: new Set(rule.resources),
    names: rule.resourceNames.length > 0 ? new Set(rule.resourceNames) : undefined,
    anyURL: rule.nonResourceURLs.includes('*'),
    urls: new Set(rule.nonResourceURLs),
    urlPrefixes,
  };
}

/** The request side, prepared once per decision so each rule test is a few set lookups. */
export interface RuleRequest {
  readonly resourceRequest: boolean;
  readonly verb: string;
  readonly apiGroup: string;
  /** `resource` or `resource/subresource` */
  readonly combined: string;
  // "*" + "/" + subresource, or undefined without one: such a request never matches a star-slash rule.
  readonly starSubresource: string | undefined;
  readonly name: string;
  readonly path: string;
}

export function ruleRequest(
  a: Pick<Attributes, 'resourceRequest' | 'verb' | 'apiGroup' | 'resource' | 'subresource' | 'name' | 'path'>,
): RuleRequest {
  const hasSub = a.subresource.length > 0;
  return {
    resourceRequest: a.resourceRequest,
    verb: a.verb,
    apiGroup: a.apiGroup,
    combined: hasSub ? `${a.resource}/${a.subresource}` : a.resource,
    starSubresource: hasSub ? `*/${a.subresource}` : undefined,
    name: a.name,
    path: a.path,
  };
}

export function ruleAllows(req: RuleRequest, rule: CompiledRule): boolean {
  if (!rule.anyVerb && !rule.verbs.has(req.verb)) return false;
  if (req.resourceRequest) {
    return (
      (rule.anyGroup || rule.groups.has(req.apiGroup)) &&
      (rule.anyResource ||
        rule.resources.has(req.combined) ||
        (req.starSubresource !== undefined && rule.resources.has(req.starSubresource))) &&
      (rule.names === undefined || rule.names.has(req.name))
    );
  }
  if (rule.anyURL || rule.urls.has(req.path)) return true;
  for (const prefix of rule.urlPrefixes) {
    if (req.path.startsWith(prefix)) return true;
  }
  return false;
}
