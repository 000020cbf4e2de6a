import { whoCan as findGrants, type Grant } from '../../authz/rbac/who-can.js';
import { UsageError, type Command } from '../usage.js';
import {
  loadPolicyOption,
  parseCommandArgs,
  parseResourceArg,
  stringOpt,
  TARGET_OPTIONS_HELP,
} from './can-i.js';

/**
 * `tokenwarden who-can VERB RESOURCE [NAME] [-n NS] --policy FILE...`: every subject the
 * policy's bindings grant the request to, with the binding and role, as a table.
 */
export const whoCan: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, {
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    policy: { type: 'string', multiple: true },
    subresource: { type: 'string' },
  });
  if (values.help === true) {
    console.log(WHO_CAN_HELP);
    return 0;
  }
  if (positionals.length < 2 || positionals.length > 3) {
    throw new UsageError(
      'usage: tokenwarden who-can VERB RESOURCE [NAME] [-n NS] --policy FILE ... (--help for more)',
    );
  }
  const [verb, resourceArg, name = ''] = positionals as [string, string, string?];
  const target = parseResourceArg(resourceArg, name, stringOpt(values.subresource));
  const namespace = values['all-namespaces'] === true ? '' : (stringOpt(values.namespace) ?? '');
  const policy = await loadPolicyOption(values.policy);

  const grants = findGrants(policy, {
    verb,
    namespace,
    ...(target.nonResourceURL !== undefined
      ? { nonResourceURL: target.nonResourceURL }
      : {
          resource: target.resource,
          subresource: target.subresource,
          apiGroup: target.apiGroup,
          name: target.name,
        }),
  });
  if (grants.length === 0) {
    process.stdout.write(
      `No subjects found with permission to ${verb} ${resourceArg}${name ? ` ${name}` : ''}${namespace ? ` in namespace ${namespace}` : ''}\n`,
    );
    return 0;
  }
  process.stdout.write(formatTable(grants));
  return 0;
};

const WHO_CAN_HELP = `Usage: tokenwarden who-can VERB RESOURCE [NAME] --policy FILE ...

Lists every subject the policy files allow VERB on RESOURCE, with the binding and role that grant it.
RESOURCE is pods, pods/log, deployments.apps, deployments.apps/scale or a non-resource URL (/healthz).

Options:
${TARGET_OPTIONS_HELP}`;

const HEADER = ['SUBJECT KIND', 'NAME', 'NAMESPACE', 'BINDING', 'ROLE'];

/** kubectl's table style: left-aligned columns, three spaces apart. */
export function formatTable(grants: readonly Grant[]): string {
  const rows = grants.map((g) => [
    g.subjectKind,
    g.subjectName,
    g.subjectNamespace,
    `${g.bindingKind}/${g.bindingName}`,
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
