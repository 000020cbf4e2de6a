import { parseArgs, type ParseArgsConfig } from 'node:util';
import { compilePolicy, type CompiledPolicy } from '../../authz/rbac/compile.js';
import { loadPolicyFiles } from '../../authz/rbac/policy.js';
import { systemClock } from '../../clock.js';
import { compose } from '../../compose/compose.js';
import { reviewAccess } from '../../review/access.js';
import { nonResourceAttributes, resourceAttributes } from '../../authz/attributes.js';
import { isTokenwardenError } from '../../errors.js';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  serviceAccountGroups,
  splitServiceAccountUsername,
  type UserInfo,
} from '../../user.js';
import { UsageError, type Command } from '../usage.js';

/**
 * `tokenwarden can-i VERB RESOURCE [NAME]`: `kubectl auth can-i` answered offline from policy
 * files, by the same authorizers the server uses (system:masters, then RBAC).
 */
export const canI: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, {
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    as: { type: 'string' },
    'as-group': { type: 'string', multiple: true },
    policy: { type: 'string', multiple: true },
    subresource: { type: 'string' },
  });
  if (values.help === true) {
    console.log(CAN_I_HELP);
    return 0;
  }
  if (positionals.length < 2 || positionals.length > 3) {
    throw new UsageError(
      'usage: tokenwarden can-i VERB RESOURCE [NAME] [--as USER] [--as-group G ...] [-n NS] [--subresource S] --policy FILE ... (--help for more)',
    );
  }
  const [verb, resourceArg, name = ''] = positionals as [string, string, string?];
  const target = parseResourceArg(resourceArg, name, stringOpt(values.subresource));
  const as = stringOpt(values.as) ?? '';
  const asGroups = stringList(values['as-group']);
  if (as === '' && asGroups.length === 0) {
    throw new UsageError('--as or --as-group is required: offline there is no current user to ask for');
  }
  // Groups alone are asked about literally, as a SubjectAccessReview with only groups would be;
  // with --as the user is built as kube's impersonation builds it.
  const user: UserInfo = as === '' ? { username: '', groups: asGroups } : impersonatedUser(as, asGroups);
  const namespace = values['all-namespaces'] === true ? '' : (stringOpt(values.namespace) ?? '');
  const { authorization } = await compose({
    authorization: { policy: await loadPolicyOption(values.policy) },
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
  let out = allowed ? 'yes\n' : 'no\n';
  if (result.reason !== '') out += `${result.reason}\n`;
  if (result.error) out += `${result.error}\n`;
  process.stdout.write(out);
  return allowed ? 0 : 1;
};

/** The --help lines of the options can-i and who-can share. */
export const TARGET_OPTIONS_HELP = `  --policy <path> ...
      RBAC objects (Role, ClusterRole, RoleBinding, ClusterRoleBinding; YAML or JSON); repeatable.
  -n, --namespace <string>
      The namespace of the request (default: cluster scope).
  -A, --all-namespaces
      Ask about all namespaces (cluster scope).
  --subresource <string>
      The subresource (same as RESOURCE/SUBRESOURCE).
  -h, --help
      Show this help.`;

const CAN_I_HELP = `Usage: tokenwarden can-i VERB RESOURCE [NAME] --policy FILE ... (--as USER | --as-group GROUP ...)

Answers kubectl auth can-i offline: yes (exit 0) or no (exit 1), by the authorizers serve uses.
RESOURCE is pods, pods/log, deployments.apps, deployments.apps/scale or a non-resource URL (/healthz).

Options:
  --as <string>
      The user to ask about, built as kube's impersonation builds it.
  --as-group <string> ...
      A group of that user (repeatable); alone, the groups are asked about with no user name.
${TARGET_OPTIONS_HELP}`;

// ---- shared with who-can ----

export interface ResourceTarget {
  readonly nonResourceURL?: string;
  readonly resource: string;
  readonly apiGroup: string;
  readonly subresource: string;
  readonly name: string;
}

/**
 * kubectl's RESOURCE argument without a server to ask: `pods`, `pods/log`, `deployments.apps`,
 * `deployments.apps/scale`, or a non-resource URL starting with `/`. Short names (`po`) and
 * singular forms need discovery and are taken literally.
 */
export function parseResourceArg(
  arg: string,
  name: string,
  subresourceFlag: string | undefined,
): ResourceTarget {
  if (arg.startsWith('/')) {
    if (name !== '') throw new UsageError('NAME is not allowed with a non-resource URL');
    if (subresourceFlag !== undefined)
      throw new UsageError('--subresource is not allowed with a non-resource URL');
    return { nonResourceURL: arg, resource: '', apiGroup: '', subresource: '', name: '' };
  }
  const slash = arg.indexOf('/');
  const resourcePart = slash < 0 ? arg : arg.slice(0, slash);
  let subresource = slash < 0 ? '' : arg.slice(slash + 1);
  if (subresourceFlag !== undefined) {
    if (subresource !== '' && subresource !== subresourceFlag) {
      throw new UsageError(
        `--subresource ${JSON.stringify(subresourceFlag)} conflicts with RESOURCE ${JSON.stringify(arg)}`,
      );
    }
    subresource = subresourceFlag;
  }
  const dot = resourcePart.indexOf('.');
  const resource = dot < 0 ? resourcePart : resourcePart.slice(0, dot);
  const apiGroup = dot < 0 ? '' : resourcePart.slice(dot + 1);
  if (resource === '') throw new UsageError(`RESOURCE ${JSON.stringify(arg)} names no resource`);
  if (slash >= 0 && subresource === '')
    throw new UsageError(`RESOURCE ${JSON.stringify(arg)} has an empty subresource`);
  return { resource, apiGroup, subresource, name };
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
