import type { BindingKind, CompiledPolicy } from './compile.js';
import { ruleAllows, ruleRequest } from './rule.js';

export interface WhoCanQuery {
  readonly verb: string;
  /** Either a resource request... */
  readonly resource?: string;
  readonly subresource?: string;
  readonly apiGroup?: string;
  readonly name?: string;
  /** '' or absent: only ClusterRoleBindings count, as for a cluster-scoped request. */
  readonly namespace?: string;
  /** RoleBindings of every namespace count (`-A`); `namespace` is then ignored. */
  readonly allNamespaces?: boolean;
  /** ...or a non-resource URL (starting with `/`). */
  readonly nonResourceURL?: string;
}

export interface Grant {
  readonly subjectKind: 'User' | 'Group' | 'ServiceAccount';
  readonly subjectName: string;
  /** The service account's namespace; '' for users and groups. */
  readonly subjectNamespace: string;
  readonly bindingKind: BindingKind;
  readonly bindingName: string;
  readonly bindingNamespace: string;
  readonly roleKind: string;
  readonly roleName: string;
}

/**
 * The reverse of a decision: every subject that some binding grants the request to, with the
 * binding and role, in kube's walk order (ClusterRoleBindings, then the namespace's
 * RoleBindings, or with `allNamespaces` every namespace's). The test is the same `RuleAllows` the authorizer uses, so a subject listed
 * here is allowed by RBAC when it asks as that subject. Subjects that can never match
 * (a namespace-less ServiceAccount on a ClusterRoleBinding, unknown kinds) are left out, and
 * so is `system:masters`, which is allowed before RBAC is asked.
 */
export function whoCan(policy: CompiledPolicy, query: WhoCanQuery): Grant[] {
  const resourceRequest = query.nonResourceURL === undefined;
  const req = ruleRequest({
    resourceRequest,
    verb: query.verb,
    apiGroup: query.apiGroup ?? '',
    resource: query.resource ?? '',
    subresource: query.subresource ?? '',
    name: query.name ?? '',
    path: query.nonResourceURL ?? '',
  });
  const namespace = query.namespace ?? '';
  const grants: Grant[] = [];
  for (const binding of policy.bindings) {
    if (
      binding.kind === 'RoleBinding' &&
      !query.allNamespaces &&
      (namespace === '' || binding.namespace !== namespace)
    )
      continue;
    if (binding.error !== undefined || !binding.rules.some((rule) => ruleAllows(req, rule))) continue;
    for (const subject of binding.subjects) {
      let subjectNamespace = '';
      if (subject.kind === 'ServiceAccount') {
        subjectNamespace = subject.namespace || binding.namespace;
        if (subjectNamespace === '') continue;
      } else if (subject.kind !== 'User' && subject.kind !== 'Group') {
        continue;
      }
      grants.push({
        subjectKind: subject.kind,
        subjectName: subject.name,
        subjectNamespace,
        bindingKind: binding.kind,
        bindingName: binding.name,
        bindingNamespace: binding.namespace,
        roleKind: binding.roleRef.kind,
        roleName: binding.roleRef.name,
      });
    }
  }
  return grants;
}
