import { isObject, own, type JsonObject } from '../../json.js';
import { isValidNamespace, isValidServiceAccountName } from '../../user.js';
import { FieldErrorList } from '../field-errors.js';
import { validateLabelSelector, type LabelSelector, type LabelSelectorRequirement } from '../labels.js';
import { RBAC_GROUP, type AggregationRule, type PolicyRule, type RoleRef, type Subject } from './types.js';

/**
 * One RBAC object's fields, decoded and validated as kube-apiserver's `ValidateRole`,
 * `ValidateClusterRole` and the binding validators do before it stores the object. Every
 * problem is a field error with kube's path and text; nothing here reads a file.
 */

export interface Meta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: ReadonlyMap<string, string>;
}

function readString(obj: JsonObject, key: string, path: string, errs: FieldErrorList): string {
  const v = own(obj, key);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') {
    errs.wrongType(path, 'a string', v);
    return '';
  }
  return v;
}

function readStringList(obj: JsonObject, key: string, path: string, errs: FieldErrorList): string[] {
  const v = own(obj, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.wrongType(path, 'a list of strings', v);
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else errs.wrongType(`${path}[${i}]`, 'a string', item);
  });
  return out;
}

function readObject(
  obj: JsonObject,
  key: string,
  path: string,
  errs: FieldErrorList,
): JsonObject | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    errs.wrongType(path, 'an object', v);
    return undefined;
  }
  return v;
}

function readList(obj: JsonObject, key: string, path: string, errs: FieldErrorList): unknown[] {
  const v = own(obj, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.wrongType(path, 'a list', v);
    return [];
  }
  return v;
}

function readStringMap(
  obj: JsonObject,
  key: string,
  path: string,
  errs: FieldErrorList,
): Map<string, string> {
  const out = new Map<string, string>();
  const m = readObject(obj, key, path, errs);
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'string') out.set(k, v);
    else errs.wrongType(`${path}.${k}`, 'a string', v);
  }
  return out;
}

/** `path.IsValidPathSegmentName`: the only rule kube applies to RBAC object and roleRef names. */
function pathSegmentErrors(name: string): string[] {
  if (name === '.') return ["may not be '.'"];
  if (name === '..') return ["may not be '..'"];
  const errs: string[] = [];
  if (name.includes('/')) errs.push("may not contain '/'");
  if (name.includes('%')) errs.push("may not contain '%'");
  return errs;
}

const NAMESPACE_FORMAT =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

export function readMeta(obj: JsonObject, errs: FieldErrorList, namespaced: boolean): Meta {
  const meta = readObject(obj, 'metadata', 'metadata', errs) ?? {};
  const name = readString(meta, 'name', 'metadata.name', errs);
  // kube clears metadata.namespace on cluster-scoped objects instead of refusing it.
  const namespace = namespaced ? readString(meta, 'namespace', 'metadata.namespace', errs) : '';
  const labels = readStringMap(meta, 'labels', 'metadata.labels', errs);
  if (name === '') errs.required('metadata.name', 'name or generateName is required');
  else for (const msg of pathSegmentErrors(name)) errs.invalid('metadata.name', name, msg);
  if (namespaced) {
    if (namespace === '') errs.required('metadata.namespace');
    else if (!isValidNamespace(namespace)) errs.invalid('metadata.namespace', namespace, NAMESPACE_FORMAT);
  }
  return { name, namespace, labels };
}

export function readRules(obj: JsonObject, errs: FieldErrorList, namespaced: boolean): PolicyRule[] {
  return readList(obj, 'rules', 'rules', errs).map((raw, i) => {
    const path = `rules[${i}]`;
    if (!isObject(raw)) {
      errs.wrongType(path, 'an object', raw);
      return emptyRule();
    }
    const rule: PolicyRule = {
      verbs: readStringList(raw, 'verbs', `${path}.verbs`, errs),
      apiGroups: readStringList(raw, 'apiGroups', `${path}.apiGroups`, errs),
      resources: readStringList(raw, 'resources', `${path}.resources`, errs),
      resourceNames: readStringList(raw, 'resourceNames', `${path}.resourceNames`, errs),
      nonResourceURLs: readStringList(raw, 'nonResourceURLs', `${path}.nonResourceURLs`, errs),
    };
    validatePolicyRule(rule, namespaced, path, errs);
    return rule;
  });
}

function emptyRule(): PolicyRule {
  return { verbs: [], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: [] };
}

/** kube's `ValidatePolicyRule`, texts included. */
function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string, errs: FieldErrorList): void {
  if (rule.verbs.length === 0) errs.required(`${path}.verbs`, 'verbs must contain at least one value');
  if (rule.nonResourceURLs.length > 0) {
    if (namespaced)
      errs.invalid(
        `${path}.nonResourceURLs`,
        rule.nonResourceURLs,
        'namespaced rules cannot apply to non-resource URLs',
      );
    if (rule.apiGroups.length > 0 || rule.resources.length > 0 || rule.resourceNames.length > 0) {
      errs.invalid(
        `${path}.nonResourceURLs`,
        rule.nonResourceURLs,
        'rules cannot apply to both regular resources and non-resource URLs',
      );
    }
    return;
  }
  if (rule.apiGroups.length === 0)
    errs.required(`${path}.apiGroups`, 'resource rules must supply at least one api group');
  if (rule.resources.length === 0)
    errs.required(`${path}.resources`, 'resource rules must supply at least one resource');
}

export function readAggregationRule(obj: JsonObject, errs: FieldErrorList): AggregationRule | undefined {
  const raw = readObject(obj, 'aggregationRule', 'aggregationRule', errs);
  if (!raw) return undefined;
  const base = 'aggregationRule.clusterRoleSelectors';
  const selectors = readList(raw, 'clusterRoleSelectors', base, errs).map((sel, i) =>
    readLabelSelector(sel, `${base}[${i}]`, errs),
  );
  if (selectors.length === 0)
    errs.required(base, 'at least one clusterRoleSelector required if aggregationRule is non-nil');
  selectors.forEach((sel, i) => validateLabelSelector(sel, `${base}[${i}]`, errs));
  return { clusterRoleSelectors: selectors };
}

function readLabelSelector(raw: unknown, path: string, errs: FieldErrorList): LabelSelector {
  // A null entry decodes to the zero LabelSelector, which selects everything, as in kube.
  if (raw === null || raw === undefined) return { matchLabels: new Map(), matchExpressions: [] };
  if (!isObject(raw)) {
    errs.wrongType(path, 'an object', raw);
    return { matchLabels: new Map(), matchExpressions: [] };
  }
  const matchLabels = readStringMap(raw, 'matchLabels', `${path}.matchLabels`, errs);
  const matchExpressions: LabelSelectorRequirement[] = readList(
    raw,
    'matchExpressions',
    `${path}.matchExpressions`,
    errs,
  ).map((expr, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!isObject(expr)) {
      errs.wrongType(p, 'an object', expr);
      return { key: '', operator: '', values: [] };
    }
    return {
      key: readString(expr, 'key', `${p}.key`, errs),
      operator: readString(expr, 'operator', `${p}.operator`, errs),
      values: readStringList(expr, 'values', `${p}.values`, errs),
    };
  });
  return { matchLabels, matchExpressions };
}

export function readBinding(
  obj: JsonObject,
  errs: FieldErrorList,
  namespaced: boolean,
): { roleRef: RoleRef; subjects: Subject[] } {
  const rawRef = readObject(obj, 'roleRef', 'roleRef', errs) ?? {};
  const roleRef: RoleRef = {
    // SetDefaults_RoleBinding / SetDefaults_ClusterRoleBinding
    apiGroup: readString(rawRef, 'apiGroup', 'roleRef.apiGroup', errs) || RBAC_GROUP,
    kind: readString(rawRef, 'kind', 'roleRef.kind', errs),
    name: readString(rawRef, 'name', 'roleRef.name', errs),
  };
  const subjects = readList(obj, 'subjects', 'subjects', errs).map((raw, i) => {
    const path = `subjects[${i}]`;
    if (!isObject(raw)) {
      errs.wrongType(path, 'an object', raw);
      return { kind: '', apiGroup: '', name: '', namespace: '' };
    }
    const kind = readString(raw, 'kind', `${path}.kind`, errs);
    let apiGroup = readString(raw, 'apiGroup', `${path}.apiGroup`, errs);
    // SetDefaults_Subject
    if (apiGroup === '' && (kind === 'User' || kind === 'Group')) apiGroup = RBAC_GROUP;
    return {
      kind,
      apiGroup,
      name: readString(raw, 'name', `${path}.name`, errs),
      namespace: readString(raw, 'namespace', `${path}.namespace`, errs),
    };
  });
  validateBinding(roleRef, subjects, namespaced, errs);
  return { roleRef, subjects };
}

/** kube's `ValidateRoleBinding` / `ValidateClusterRoleBinding` after metadata, texts included. */
function validateBinding(
  roleRef: RoleRef,
  subjects: readonly Subject[],
  namespaced: boolean,
  errs: FieldErrorList,
): void {
  if (roleRef.apiGroup !== RBAC_GROUP) errs.notSupported('roleRef.apiGroup', roleRef.apiGroup, [RBAC_GROUP]);
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(roleRef.kind)) errs.notSupported('roleRef.kind', roleRef.kind, kinds);
  if (roleRef.name === '') errs.required('roleRef.name');
  else for (const msg of pathSegmentErrors(roleRef.name)) errs.invalid('roleRef.name', roleRef.name, msg);

  subjects.forEach((s, i) => {
    const path = `subjects[${i}]`;
    if (s.name === '') errs.required(`${path}.name`);
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.name !== '' && !isValidServiceAccountName(s.name)) {
          errs.invalid(`${path}.name`, s.name, SERVICE_ACCOUNT_NAME_FORMAT);
        }
        if (s.apiGroup !== '') errs.notSupported(`${path}.apiGroup`, s.apiGroup, ['']);
        if (!namespaced && s.namespace === '') errs.required(`${path}.namespace`);
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) errs.notSupported(`${path}.apiGroup`, s.apiGroup, [RBAC_GROUP]);
        break;
      default:
        errs.notSupported(`${path}.kind`, s.kind, ['ServiceAccount', 'User', 'Group']);
    }
  });
}

const SERVICE_ACCOUNT_NAME_FORMAT =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
