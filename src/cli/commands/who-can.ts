import type { ParseArgsConfig } from 'node:util';
import { systemClock } from '../../clock.js';
import { compose } from '../../compose/compose.js';
import { whoCan as findGrants, type Grant } from '../../authz/rbac/who-can.js';
import { formatObject, outputFormat, printWarnings } from '../output.js';
import { UsageError, type Command } from '../usage.js';
import {
  DEFAULT_NAMESPACE,
  loadPolicyOption,
  parseCommandArgs,
  parseResourceArg,
  stringOpt,
  TARGET_OPTIONS_HELP,
} from './can-i.js';

/** who-can's flags besides --help (-h). */
export const WHO_CAN_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  policy: { type: 'string', multiple: true },
  subresource: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * `tokenwarden who-can VERB RESOURCE [NAME] [-n NS | -A] --policy FILE...`: every subject the
 * policy's bindings grant the request to, with the binding and role, as a table or with -o as
 * JSON or YAML. RESOURCE is resolved as `can-i` resolves it. A cluster-scoped resource or a
 * non-resource URL is granted by ClusterRoleBindings only, whatever the namespace.
 */
export const whoCan: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, WHO_CAN_OPTIONS);
  if (values.help === true) {
    console.log(WHO_CAN_HELP);
    return 0;
  }
  if (positionals.length < 2 || positionals.length > 3) {
    throw new UsageError(
      'usage: tokenwarden who-can VERB RESOURCE [NAME] [-n NS | -A] [-o json|yaml] --policy FILE ... (--help for more)',
    );
  }
  const format = outputFormat(stringOpt(values.output));
  const [verb, resourceArg, name = ''] = positionals as [string, string, string?];
  const target = parseResourceArg(resourceArg, name, stringOpt(values.subresource));
  const allNamespaces = values['all-namespaces'] === true;
  const clusterScoped =
    target.nonResourceURL !== undefined || (target.builtin !== undefined && !target.builtin.namespaced);
  const namespace = clusterScoped ? '' : (stringOpt(values.namespace) ?? DEFAULT_NAMESPACE);
  // Built as can-i builds it, so both read the policy as the server's authorizer serves it.
  const { authorization } = await compose({
    authorization: { policy: await loadPolicyOption(values.policy) },
    clock: systemClock,
    watch: false,
  });
  // Always present: a policy was given.
  const policy = authorization.policy!.current();
  authorization.close();
  printWarnings(target.warnings);

  const grants = findGrants(policy, {
    verb,
    namespace,
    allNamespaces: allNamespaces && !clusterScoped,
    ...(target.nonResourceURL !== undefined
      ? { nonResourceURL: target.nonResourceURL }
      : {
          resource: target.resource,
          subresource: target.subresource,
          apiGroup: target.apiGroup,
          name: target.name,
        }),
  });
  if (format !== 'table') {
    process.stdout.write(formatObject(format, { grants: grants.map(grantObject) }));
    return 0;
  }
  if (grants.length === 0) {
    const where = clusterScoped ? '' : allNamespaces ? ' in any namespace' : ` in namespace ${namespace}`;
    process.stdout.write(
      `No subjects found with permission to ${verb} ${resourceArg}${name ? ` ${name}` : ''}${where}\n`,
    );
    return 0;
  }
  process.stdout.write(formatTable(grants));
  return 0;
};

/** One grant for -o json|yaml: the subject, and the binding and role that grant it. */
function grantObject(g: Grant): object {
  return {
    subject: {
      kind: g.subjectKind,
      name: g.subjectName,
      ...(g.subjectNamespace === '' ? {} : { namespace: g.subjectNamespace }),
    },
    binding: {
      kind: g.bindingKind,
      name: g.bindingName,
      ...(g.bindingNamespace === '' ? {} : { namespace: g.bindingNamespace }),
    },
    role: { kind: g.roleKind, name: g.roleName },
  };
}

const WHO_CAN_HELP = `Usage: tokenwarden who-can VERB RESOURCE [NAME] [-n NS | -A] [-o json|yaml] --policy FILE ...

Lists every subject the policy files allow VERB on RESOURCE, with the binding and role that grant it.
RESOURCE is a built-in resource by kubectl's names (pods, pod, po, Pod, deployments.apps, deploy),
then /NAME as kubectl reads it (pods/web), or a non-resource URL (/healthz); --subresource names a
subresource (pods --subresource log).
A RoleBinding shows as RoleBinding/NAMESPACE/NAME.

Options:
  -o, --output <json|yaml>
      The grants as JSON or YAML instead of the table.
${TARGET_OPTIONS_HELP}`;

const HEADER = ['SUBJECT KIND', 'NAME', 'NAMESPACE', 'BINDING', 'ROLE'];

/** kubectl's table style: left-aligned columns, three spaces apart. */
export function formatTable(grants: readonly Grant[]): string {
  const rows = grants.map((g) => [
    g.subjectKind,
    g.subjectName,
    g.subjectNamespace,
    g.bindingNamespace === ''
      ? `${g.bindingKind}/${g.bindingName}`
      : `${g.bindingKind}/${g.bindingNamespace}/${g.bindingName}`,
    `${g.roleKind}/${g.roleName}`,
  ]);
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, col) => Math.max(...all.map((r) => r[col]!.length)));
  return all
    .map(
      (r) =>
        r
          .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]! + 3)))
          .join('')
          .trimEnd() + '\n',
    )
    .join('');
}
