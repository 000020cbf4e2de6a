import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import { GO_YAML_OPTIONS, mergeOrderProblem } from '../../go-yaml.js';
import { TokenwardenError } from '../../errors.js';
import { goQuote } from '../../go-quote.js';
import { isObject, own, type JsonObject } from '../../json.js';
import { FieldErrorList, fieldErrorText } from '../field-errors.js';
import { aggregateClusterRoles } from './aggregate.js';
import {
  RBAC_GROUP,
  describeSource,
  type ClusterRole,
  type ClusterRoleBinding,
  type ObjectSource,
  type Policy,
  type PolicyInput,
  type Role,
  type RoleBinding,
} from './types.js';
import { readAggregationRule, readBinding, readMeta, readRules, type Meta } from './validate.js';

/**
 * RBAC objects read from policy files: Role, ClusterRole, RoleBinding, ClusterRoleBinding,
 * defaulted and validated the way kube-apiserver does before it stores them. What kube would
 * refuse to store is a load error; what kube stores but cannot use (a roleRef to a role that
 * does not exist) loads fine and shows up in the decision's reason, as it does in a cluster.
 */

const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;

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

/**
 * RBAC objects as the API serves them (live mode's watched Roles, ClusterRoles and their
 * bindings), each read with the same defaulting and validation as a file's. The apiserver
 * has already validated them, so an object this reader refuses is skipped with a note rather
 * than failing the whole policy: one odd object must not freeze every other change.
 */
export function policyFromObjects(
  objects: readonly { readonly kind: string; readonly object: unknown }[],
  sourceName: string,
): Policy {
  const builder = new PolicyBuilder();
  objects.forEach(({ kind, object }, i) => {
    builder.addObject(
      { apiVersion: RBAC_API_VERSION, kind, ...(isObject(object) ? object : {}) },
      { file: sourceName, document: i + 1 },
      undefined,
      0,
    );
  });
  return builder.finish({ skipInvalid: true });
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

  addObject(value: unknown, where: ObjectSource, defaultKind: string | undefined, depth: number): void {
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

  finish(options: { readonly skipInvalid?: boolean } = {}): Policy {
    if (options.skipInvalid) {
      for (const problem of this.problems) this.notes.push(`skipped: ${problem}`);
    } else if (this.problems.length > 0) {
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

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function nameHint(obj: JsonObject): string {
  const meta = own(obj, 'metadata');
  const name = isObject(meta) ? own(meta, 'name') : undefined;
  return typeof name === 'string' ? ` ${goQuote(name)}` : '';
}
