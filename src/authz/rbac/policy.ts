import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import { GO_YAML_OPTIONS, mergeOrderProblem } from '../../go-yaml.js';
import { TokenwardenError } from '../../errors.js';
import { goQuote } from '../../go-quote.js';
import { FieldErrorList, fieldErrorText } from '../field-errors.js';
import { validateLabelSelector, type LabelSelector, type LabelSelectorRequirement } from '../labels.js';
import { isValidNamespace, isValidServiceAccountName } from '../../user.js';
import { aggregateClusterRoles } from './aggregate.js';

/**
 * RBAC objects read from policy files: Role, ClusterRole, RoleBinding, ClusterRoleBinding,
 * defaulted and validated the way kube-apiserver does before it stores them. What kube would
 * refuse to store is a load error; what kube stores but cannot use (a roleRef to a role that
 * does not exist) loads fine and shows up in the decision's reason, as it does in a cluster.
 */

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;

/** Every list is present (a missing or null list in the file becomes empty, as Go decodes it). */
export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames: readonly string[];
  readonly nonResourceURLs: readonly string[];
}

export interface Subject {
  readonly kind: string;
  readonly apiGroup: string;
  readonly name: string;
  readonly namespace: string;
}

export interface RoleRef {
  readonly apiGroup: string;
  readonly kind: string;
  readonly name: string;
}

/** Where an object came from, for messages: `file`, 1-based `document`, and `item` inside a List. */
export interface ObjectSource {
  readonly file: string;
  readonly document: number;
  readonly item?: number;
}

export interface Role {
  readonly namespace: string;
  readonly name: string;
  readonly rules: readonly PolicyRule[];
  readonly source: ObjectSource;
}

export interface AggregationRule {
  readonly clusterRoleSelectors: readonly LabelSelector[];
}

export interface ClusterRole {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  /** After aggregation: for an aggregated role, the controller's result, never the hand-written rules. */
  readonly rules: readonly PolicyRule[];
  readonly aggregationRule?: AggregationRule;
  readonly source: ObjectSource;
}

export interface RoleBinding {
  readonly namespace: string;
  readonly name: string;
  readonly roleRef: RoleRef;
  readonly subjects: readonly Subject[];
  readonly source: ObjectSource;
}

export interface ClusterRoleBinding {
  readonly name: string;
  readonly roleRef: RoleRef;
  readonly subjects: readonly Subject[];
  readonly source: ObjectSource;
}

/** Objects in policy order: files in the order given, documents and List items in file order. */
export interface Policy {
  readonly roles: readonly Role[];
  readonly clusterRoles: readonly ClusterRole[];
  readonly roleBindings: readonly RoleBinding[];
  readonly clusterRoleBindings: readonly ClusterRoleBinding[];
  /** Things skipped on purpose (other kinds, empty documents are not noted), one line each. */
  readonly notes: readonly string[];
}

export interface PolicyInput {
  /** Shown in messages; usually the file path. */
  readonly name: string;
  readonly text: string;
}

/** A bound on YAML alias expansion, so a hostile file cannot blow up memory (billion laughs). */
const MAX_ALIAS_COUNT = 1000;
/** Lists inside Lists are legal; this only stops a pathological nesting from recursing without end. */
const MAX_LIST_DEPTH = 8;

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/**
 * Parses, defaults and validates policy text. Throws `TokenwardenError` (`ERR_POLICY_INVALID`)
 * listing every problem, each naming the file, the document (and List item), the object and
 * the field path.
 */
export function parsePolicy(inputs: readonly PolicyInput[]): Policy {
  const builder = new PolicyBuilder();
  for (const input of inputs) builder.addFile(input);
  return builder.finish();
}

/** Reads the files (in order) and parses them; an unreadable file is a policy error naming it. */
export async function loadPolicyFiles(paths: readonly string[]): Promise<Policy> {
  return parsePolicy(await readPolicyFiles(paths));
}

/** The raw texts, so a reloader can tell whether anything changed before it parses. */
export async function readPolicyFiles(paths: readonly string[]): Promise<PolicyInput[]> {
  if (paths.length === 0) throw new TokenwardenError('ERR_POLICY_INVALID', 'no policy files given');
  return Promise.all(
    paths.map(async (path) => {
      try {
        return { name: path, text: await readFile(path, 'utf8') };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'read error';
        throw new TokenwardenError('ERR_POLICY_INVALID', `${path}: cannot read policy file (${code})`, {
          cause: err,
        });
      }
    }),
  );
}

type Json = unknown;
type JsonObject = Record<string, unknown>;

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: a document key named `constructor` or `__proto__` is data, not a lookup hit. */
function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

class PolicyBuilder {
  private readonly roles: Role[] = [];
  private readonly clusterRoles: ClusterRole[] = [];
  private readonly roleBindings: RoleBinding[] = [];
  private readonly clusterRoleBindings: ClusterRoleBinding[] = [];
  private readonly notes: string[] = [];
  private readonly problems: string[] = [];
  /** kind + namespace + name → where it was first defined; kube cannot hold two objects with one name. */
  private readonly seen = new Map<string, ObjectSource>();

  addFile(input: PolicyInput): void {
    let docs;
    const lineCounter = new LineCounter();
    try {
      docs = parseAllDocuments(input.text, { ...GO_YAML_OPTIONS, lineCounter });
    } catch (err) {
      this.problems.push(
        `${input.name}: invalid YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`,
      );
      return;
    }
    let index = 0;
    for (const doc of docs) {
      index++;
      const where: ObjectSource = { file: input.name, document: index };
      if (doc.errors.length > 0) {
        this.problems.push(`${describeSource(where)}: invalid YAML: ${firstLine(doc.errors[0]!.message)}`);
        continue;
      }
      const mergeProblem = mergeOrderProblem(doc, lineCounter);
      if (mergeProblem !== undefined) {
        this.problems.push(`${describeSource(where)}: invalid YAML: ${mergeProblem}`);
        continue;
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (err) {
        this.problems.push(
          `${describeSource(where)}: invalid YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`,
        );
        continue;
      }
      if (value === null || value === undefined) continue;
      this.addObject(value, where, undefined, 0);
    }
  }

  private addObject(
    value: unknown,
    where: ObjectSource,
    defaultKind: string | undefined,
    depth: number,
  ): void {
    if (!isObject(value)) {
      this.problems.push(`${describeSource(where)}: not an object`);
      return;
    }
    const apiVersion = own(value, 'apiVersion');
    const kindValue = own(value, 'kind') ?? defaultKind;
    if (typeof kindValue !== 'string' || kindValue === '') {
      this.problems.push(`${describeSource(where)}: Object 'Kind' is missing`);
      return;
    }
    const kind = kindValue;
    const isList = kind === 'List' || (kind.endsWith('List') && RBAC_KINDS.has(kind.slice(0, -4)));
    if (isList) {
      if (depth >= MAX_LIST_DEPTH) {
        this.problems.push(`${describeSource(where)}: Lists nested too deeply`);
        return;
      }
      const items = own(value, 'items');
      if (items === null || items === undefined) return;
      if (!Array.isArray(items)) {
        this.problems.push(`${describeSource(where)}: items: Invalid type: expected a list`);
        return;
      }
      // A typed list (RoleList) read straight from the API leaves kind off its items.
      const itemKind = kind === 'List' ? undefined : kind.slice(0, -4);
      items.forEach((item, i) => {
        // Only the outermost List position is reported: nested Lists are rare enough.
        const itemWhere: ObjectSource = { ...where, item: where.item ?? i };
        this.addObject(item, itemWhere, itemKind, depth + 1);
      });
      return;
    }
    const groupVersion = typeof apiVersion === 'string' ? apiVersion : defaultKind ? RBAC_API_VERSION : '';
    const group = groupVersion.includes('/') ? groupVersion.slice(0, groupVersion.indexOf('/')) : '';
    if (!RBAC_KINDS.has(kind) || group !== RBAC_GROUP) {
      this.notes.push(
        `${describeSource(where)}: ignored ${kind}${nameHint(value)} (${groupVersion || 'no apiVersion'}): not an RBAC object`,
      );
      return;
    }
    if (groupVersion !== RBAC_API_VERSION) {
      this.problems.push(
        `${describeSource(where)} (${kind}${nameHint(value)}): apiVersion: Unsupported value: ${goQuote(groupVersion)}: supported values: ${goQuote(RBAC_API_VERSION)}`,
      );
      return;
    }
    const errs = new FieldErrorList();
    const meta = readMeta(value, errs, kind === 'Role' || kind === 'RoleBinding');
    const label = `${describeSource(where)} (${kind} ${goQuote(meta.name)})`;
    switch (kind) {
      case 'Role': {
        const rules = readRules(value, errs, true);
        if (this.accept(label, errs, kind, meta, where))
          this.roles.push({ namespace: meta.namespace, name: meta.name, rules, source: where });
        break;
      }
      case 'ClusterRole': {
        const rules = readRules(value, errs, false);
        const aggregationRule = readAggregationRule(value, errs);
        if (this.accept(label, errs, kind, meta, where)) {
          this.clusterRoles.push({
            name: meta.name,
            labels: meta.labels,
            rules,
            source: where,
            ...(aggregationRule ? { aggregationRule } : {}),
          });
        }
        break;
      }
      case 'RoleBinding': {
        const { roleRef, subjects } = readBinding(value, errs, true);
        if (this.accept(label, errs, kind, meta, where)) {
          this.roleBindings.push({
            namespace: meta.namespace,
            name: meta.name,
            roleRef,
            subjects,
            source: where,
          });
        }
        break;
      }
      case 'ClusterRoleBinding': {
        const { roleRef, subjects } = readBinding(value, errs, false);
        if (this.accept(label, errs, kind, meta, where)) {
          this.clusterRoleBindings.push({ name: meta.name, roleRef, subjects, source: where });
        }
        break;
      }
    }
  }

  private accept(
    label: string,
    errs: FieldErrorList,
    kind: string,
    meta: Meta,
    where: ObjectSource,
  ): boolean {
    for (const e of errs.errors) this.problems.push(`${label}: ${fieldErrorText(e)}`);
    if (errs.length > 0) return false;
    const key = `${kind}\u0000${meta.namespace}\u0000${meta.name}`;
    const first = this.seen.get(key);
    if (first) {
      this.problems.push(
        `${label}: metadata.name: Duplicate value: ${goQuote(meta.name)}: already defined at ${describeSource(first)}`,
      );
      return false;
    }
    this.seen.set(key, where);
    return true;
  }

  finish(): Policy {
    if (this.problems.length > 0) {
      const shown = this.problems.slice(0, 50);
      const more = this.problems.length - shown.length;
      const text = shown.join('\n') + (more > 0 ? `\n... and ${more} more` : '');
      throw new TokenwardenError('ERR_POLICY_INVALID', `invalid RBAC policy:\n${text}`);
    }
    return {
      roles: this.roles,
      clusterRoles: aggregateClusterRoles(this.clusterRoles, this.notes),
      roleBindings: this.roleBindings,
      clusterRoleBindings: this.clusterRoleBindings,
      notes: this.notes,
    };
  }
}

export function describeSource(where: ObjectSource): string {
  return `${where.file}: document ${where.document}${where.item === undefined ? '' : `, items[${where.item}]`}`;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function nameHint(obj: JsonObject): string {
  const meta = own(obj, 'metadata');
  const name = isObject(meta) ? own(meta, 'name') : undefined;
  return typeof name === 'string' ? ` ${goQuote(name)}` : '';
}

interface Meta {
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

function readMeta(obj: JsonObject, errs: FieldErrorList, namespaced: boolean): Meta {
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

function readRules(obj: JsonObject, errs: FieldErrorList, namespaced: boolean): PolicyRule[] {
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

function readAggregationRule(obj: JsonObject, errs: FieldErrorList): AggregationRule | undefined {
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

function readBinding(
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
