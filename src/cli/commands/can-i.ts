import { parseArgs, type ParseArgsConfig } from 'node:util';
import { compilePolicy, type CompiledPolicy } from '../../authz/rbac/compile.js';
import { loadPolicyFiles } from '../../authz/rbac/policy.js';
import { rulesFor } from '../../authz/rbac/rules-for.js';
import { systemClock } from '../../clock.js';
import { compose } from '../../compose/compose.js';
import { reviewAccess } from '../../review/access.js';
import { nonResourceAttributes, resourceAttributes } from '../../authz/attributes.js';
import { aggregateMessage, isTokenwardenError } from '../../errors.js';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  serviceAccountGroups,
  splitServiceAccountUsername,
  type UserInfo,
} from '../../user.js';
import type { BuiltinResource } from '../builtin-resources.js';
import { formatObject, outputFormat, printWarnings, type OutputFormat } from '../output.js';
import { resolveResource } from '../resource-names.js';
import { rulesTable } from '../rules-table.js';
import { UsageError, type Command } from '../usage.js';

/** can-i's flags besides --help (-h). */
export const CAN_I_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  as: { type: 'string' },
  'as-group': { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
  subresource: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  list: { type: 'boolean' },
  'no-headers': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** kubectl's known verbs (cani.go): another verb is asked about, with a warning. */
const RESOURCE_VERBS = new Set([
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'use',
  'bind',
  'impersonate',
  '*',
  'approve',
  'sign',
  'escalate',
  'attest',
]);
const NON_RESOURCE_VERBS = new Set(['get', 'put', 'post', 'head', 'options', 'delete', 'patch', '*']);

/**
 * `tokenwarden can-i VERB RESOURCE [NAME]`: `kubectl auth can-i` answered offline from policy
 * files, by the same authorizers the server uses (system:masters, then RBAC). Its output, warnings
 * and checks are kubectl's; `--list` prints what kubectl prints from a SelfSubjectRulesReview.
 */
export const canI: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, CAN_I_OPTIONS);
  if (values.help === true) {
    console.log(CAN_I_HELP);
    return 0;
  }
  const list = values.list === true;
  const quiet = values.quiet === true;
  const allNamespaces = values['all-namespaces'] === true;
  const subresource = stringOpt(values.subresource);
  const format = outputFormat(stringOpt(values.output));
  // kubectl's own checks and texts (cani.go Complete and Validate).
  if (list) {
    if (positionals.length !== 0) throw new UsageError('list option must be specified with no arguments');
    if (quiet || allNamespaces || subresource !== undefined)
      throw new UsageError(
        "list option can't be specified with neither quiet, all-namespaces nor subresource options",
      );
  } else {
    if (values['no-headers'] === true)
      throw new UsageError('--no-headers cannot be set without --list specified');
    if (format !== 'table') throw new UsageError('-o/--output is only for --list');
    if (positionals.length < 2 || positionals.length > 3)
      throw new UsageError(
        'usage: tokenwarden can-i VERB RESOURCE [NAME] [--as USER] [--as-group G ...] [-n NS] [--subresource S] --policy FILE ... (--help for more)',
      );
  }
  const user = userOption(values);
  const namespace = allNamespaces ? '' : (stringOpt(values.namespace) ?? DEFAULT_NAMESPACE);
  const policy = await loadPolicyOption(values.policy);
  if (list) return printRules(policy, user, namespace, format, values['no-headers'] === true);

  const [verb, resourceArg, name = ''] = positionals as [string, string, string?];
  const target = parseResourceArg(resourceArg, name, subresource);
  const warnings = [...target.warnings];
  if (target.nonResourceURL !== undefined) {
    if (!NON_RESOURCE_VERBS.has(verb)) warnings.push(`verb '${verb}' is not a known verb\n`);
  } else if (!allNamespaces) {
    if (target.builtin && !target.builtin.namespaced)
      warnings.push(
        target.apiGroup === ''
          ? `resource '${target.resource}' is not namespace scoped\n`
          : `resource '${target.resource}' is not namespace scoped in group '${target.apiGroup}'\n`,
      );
    if (!RESOURCE_VERBS.has(verb)) warnings.push(`verb '${verb}' is not a known verb\n`);
  }
  printWarnings(warnings);
  const { authorization } = await compose({
    authorization: { policy },
    clock: systemClock,
    watch: false,
  });
  const attributes =
    target.nonResourceURL !== undefined
      ? nonResourceAttributes(user, verb, target.nonResourceURL)
      : resourceAttributes(user, {
          verb,
          namespace,
          apiGroup: target.apiGroup,
          apiVersion: '*',
          resource: target.resource,
          subresource: target.subresource,
          name: target.name,
        });
  const result = await reviewAccess(authorization.authorizer, attributes);
  const allowed = result.decision === 'allow';
  // kubectl prints the reason and evaluation error only after a no, on the same line.
  let out = allowed ? 'yes' : 'no';
  if (!allowed && result.reason !== '') out += ` - ${result.reason}`;
  if (!allowed && result.error) out += ` - ${result.error}`;
  if (!quiet) process.stdout.write(`${out}\n`);
  return allowed ? 0 : 1;
};

/** kubectl's namespace when the kubeconfig's context names none. */
export const DEFAULT_NAMESPACE = 'default';

/** `--as` / `--as-group`: offline there is no current user, so one of them is required. */
function userOption(values: Record<string, unknown>): UserInfo {
  const as = stringOpt(values.as) ?? '';
  const asGroups = stringList(values['as-group']);
  if (as === '' && asGroups.length === 0) {
    throw new UsageError('--as or --as-group is required: offline there is no current user to ask for');
  }
  // Groups alone are asked about literally, as a SubjectAccessReview with only groups would be;
  // with --as the user is built as kube's impersonation builds it.
  return as === '' ? { username: '', groups: asGroups } : impersonatedUser(as, asGroups);
}

/**
 * `--list`: the rules kube's SelfSubjectRulesReview would return to the user in the namespace,
 * as kubectl's table, or with -o the review itself as kube serves it.
 */
function printRules(
  policy: CompiledPolicy,
  user: UserInfo,
  namespace: string,
  format: OutputFormat,
  noHeaders: boolean,
): number {
  const { rules, errors } = rulesFor(policy, user, namespace);
  if (format === 'table') {
    process.stdout.write(rulesTable(rules, !noHeaders));
    return 0;
  }
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    metadata: {},
    spec: { namespace },
    status: {
      resourceRules: rules
        .filter((r) => r.resources.length > 0)
        .map((r) => ({
          verbs: r.verbs,
          ...(r.apiGroups.length > 0 ? { apiGroups: r.apiGroups } : {}),
          resources: r.resources,
          ...(r.resourceNames.length > 0 ? { resourceNames: r.resourceNames } : {}),
        })),
      nonResourceRules: rules
        .filter((r) => r.nonResourceURLs.length > 0)
        .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
      incomplete: false,
      ...(errors.length > 0 ? { evaluationError: aggregateMessage(errors) } : {}),
    },
  };
  process.stdout.write(formatObject(format, review));
  return 0;
}

/** The --help lines of the options can-i and who-can share. */
export const TARGET_OPTIONS_HELP = `  --policy <path> ...
      RBAC objects (Role, ClusterRole, RoleBinding, ClusterRoleBinding; YAML or JSON); repeatable.
  -n, --namespace <string>
      The namespace of the request (default: default, as kubectl with no namespace in its context).
  -A, --all-namespaces
      Ask about all namespaces.
  --subresource <string>
      The subresource, such as log for pods or scale for deployments.apps.
  -h, --help
      Show this help.`;

const CAN_I_HELP = `Usage: tokenwarden can-i VERB RESOURCE [NAME] --policy FILE ... (--as USER | --as-group GROUP ...)
       tokenwarden can-i --list [-n NS] [--no-headers] [-o json|yaml] --policy FILE ... (--as USER | --as-group GROUP ...)

Answers kubectl auth can-i offline: yes (exit 0) or no (exit 1), by the authorizers serve uses.
RESOURCE is a built-in resource by kubectl's names (pods, pod, po, Pod, deployments.apps, deploy),
then /NAME as kubectl reads it (pods/web), or a non-resource URL (/healthz). NAME may also be
the third argument; a subresource is named by --subresource (pods --subresource log).

Options:
  --as <string>
      The user to ask about, built as kube's impersonation builds it.
  --as-group <string> ...
      A group of that user (repeatable); alone, the groups are asked about with no user name.
  -q, --quiet
      Print nothing; the exit code is the answer.
  --list
      List every action the user may take in the namespace, as kubectl auth can-i --list.
  --no-headers
      With --list: no header line.
  -o, --output <json|yaml>
      With --list: the SelfSubjectRulesReview kube would return, as JSON or YAML.
${TARGET_OPTIONS_HELP}`;

// ---- shared with who-can ----

export interface ResourceTarget {
  readonly nonResourceURL?: string;
  readonly resource: string;
  readonly apiGroup: string;
  readonly subresource: string;
  readonly name: string;
  /** The built-in resource RESOURCE named, if any (its scope decides kubectl's warning). */
  readonly builtin?: BuiltinResource;
  /** kubectl's warnings about RESOURCE (resource-names.ts). */
  readonly warnings: readonly string[];
}

/**
 * The RESOURCE argument as kubectl reads it: a non-resource URL starting with `/`, or a resource
 * as kubectl resolves it (short names, singular, kind, RESOURCE.GROUP, RESOURCE.VERSION.GROUP),
 * then `/NAME` (cani.go's `strings.SplitN(arg, "/", 2)`). The subresource comes only from
 * `--subresource`; NAME may also be a third argument.
 */
export function parseResourceArg(
  arg: string,
  name: string,
  subresourceFlag: string | undefined,
): ResourceTarget {
  if (arg.startsWith('/')) {
    if (name !== '') throw new UsageError('NAME is not allowed with a non-resource URL');
    if (subresourceFlag !== undefined)
      throw new UsageError('--subresource can not be used with NonResourceURL');
    return { nonResourceURL: arg, resource: '', apiGroup: '', subresource: '', name: '', warnings: [] };
  }
  const slash = arg.indexOf('/');
  const resourcePart = slash < 0 ? arg : arg.slice(0, slash);
  const nameInArg = slash < 0 ? '' : arg.slice(slash + 1);
  if (nameInArg !== '' && name !== '')
    throw new UsageError(
      `NAME ${JSON.stringify(name)} given twice: RESOURCE ${JSON.stringify(arg)} already names it`,
    );
  const resolved = resolveResource(resourcePart);
  return {
    resource: resolved.resource,
    apiGroup: resolved.apiGroup,
    subresource: subresourceFlag ?? '',
    name: nameInArg !== '' ? nameInArg : name,
    ...(resolved.builtin ? { builtin: resolved.builtin } : {}),
    warnings: resolved.warnings,
  };
}

/**
 * The user kube-apiserver builds for `kubectl auth can-i --as` (impersonation): a valid
 * service-account name without `--as-group` gets its service-account groups, and
 * `system:authenticated` is appended (`system:unauthenticated` for `system:anonymous`) unless
 * already present. Nothing else of the caller survives.
 */
export function impersonatedUser(username: string, asGroups: readonly string[]): UserInfo {
  const groups = [...asGroups];
  const sa = splitServiceAccountUsername(username);
  if (sa && groups.length === 0) groups.push(...serviceAccountGroups(sa.namespace));
  if (username !== ANONYMOUS) {
    if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED))
      groups.push(ALL_AUTHENTICATED);
  } else if (!groups.includes(ALL_UNAUTHENTICATED)) {
    groups.push(ALL_UNAUTHENTICATED);
  }
  return { username, groups };
}

export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: O,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    return {
      values: parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>,
      positionals: parsed.positionals,
    };
  } catch (err) {
    // node's messages name the flag (`Unknown option '--foo'`), which is what the user needs.
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export function stringOpt(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Loads and compiles `--policy` files; a missing flag or a bad file is a usage error (exit 2). */
export async function loadPolicyOption(policyFlag: unknown): Promise<CompiledPolicy> {
  const paths = stringList(policyFlag);
  if (paths.length === 0) throw new UsageError('--policy is required: name at least one RBAC policy file');
  try {
    const policy = await loadPolicyFiles(paths);
    for (const note of policy.notes) process.stderr.write(`note: ${note}\n`);
    return compilePolicy(policy);
  } catch (err) {
    if (isTokenwardenError(err)) throw new UsageError(`--policy: ${err.message}`, { cause: err });
    throw err;
  }
}
