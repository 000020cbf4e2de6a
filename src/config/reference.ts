import { OPTIONS } from './schema.js';

/** docs/configuration.md, generated from the option table so the docs cannot drift (a test compares them). */
export function configurationReference(): string {
  const rows = OPTIONS.map((o) => {
    const type = o.values ? o.values.join(' \\| ') : o.type + (o.repeatable ? ', repeatable' : '');
    const def =
      (o.default === undefined ? '' : `\`${String(o.default)}\``) +
      Object.entries(o.defaultFor ?? {})
        .map(([command, value]) => ` (${command}: \`${String(value)}\`)`)
        .join('');
    return `| \`--${o.name}\` | ${type} | ${def} | ${o.commands.join(', ')} | ${o.help} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every setting is a flag and, under the same name without the dashes, a key of the YAML file given',
    "with `--config`. A flag overrides the file; a repeatable flag replaces the file's list. Unknown flags",
    'or keys, unreadable files and invalid values stop the command with a message naming the flag, or the',
    'file and key, and exit code 2.',
    '',
    '| flag | type | default | commands | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    "Durations use Go's syntax, as kube-apiserver's flags do: `500ms`, `10s`, `2m`, `1h30m`.",
    '',
    'Example `--config` file:',
    '',
    '```yaml',
    'secure-port: 8443',
    'tls-cert-file: /etc/tokenwarden/tls/tls.crt',
    'tls-private-key-file: /etc/tokenwarden/tls/tls.key',
    'service-account-issuer:',
    '  - https://kubernetes.default.svc.cluster.local',
    'service-account-key-file:',
    '  - /etc/tokenwarden/keys/sa.pub',
    'api-audiences: https://kubernetes.default.svc.cluster.local,api',
    'cache-ttl: 2m',
    'log-level: info',
    '```',
    '',
  ].join('\n');
}
