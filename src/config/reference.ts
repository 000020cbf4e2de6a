import { OPTIONS, type OptionSpec } from './schema.js';

function defaultCell(o: OptionSpec): string {
  return (
    (o.default === undefined ? '' : `\`${String(o.default)}\``) +
    Object.entries(o.defaultFor ?? {})
      .map(([command, value]) => ` (${command}: \`${String(value)}\`)`)
      .join('')
  );
}

/** docs/configuration.md, generated from the option table so the docs cannot drift (a test compares them). */
export function configurationReference(): string {
  const rows = OPTIONS.map((o) => {
    const type = o.values ? o.values.join(' \\| ') : o.type + (o.repeatable ? ', repeatable' : '');
    return `| \`--${o.name}\` | ${type} | ${defaultCell(o)} | ${o.commands.join(', ')} | ${o.help} |`;
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
    '## `--workers`: more than one core in one pod',
    '',
    "`serve --workers N` starts N worker processes on one listener (Node's `node:cluster`: the primary accepts each",
    'connection and hands it to the next worker in turn; a keep-alive connection stays with its worker). Each worker',
    'loads its own keys, policy and caches and reloads files on its own; `/metrics` from any worker is the sum over all',
    'of them (gauges of loaded state show the worker furthest behind, `tokenwarden_build_info` stays 1), plus',
    '`tokenwarden_workers` and `tokenwarden_worker_restarts_total`; `/readyz` fails while any serving worker is not ready.',
    'A worker that dies is restarted after 1 s, doubling to at most 30 s while it keeps dying; one that fails at',
    'start stops the whole server with its exit code. SIGTERM drains every worker as one process drains, and the',
    "primary exits after the last. `auto` takes the container's CPU limit in whole CPUs (cgroup v2 `cpu.max`, v1",
    '`cpu.cfs_quota_us`), else every CPU the process may use.',
    '',
    'Prefer more replicas (with a HorizontalPodAutoscaler on CPU) to more workers when the pods get one CPU or less,',
    'when one node cannot hold the load, or for availability (replicas spread over nodes, workers do not). Workers',
    'pay off when a pod is given several CPUs: one Service endpoint and one pod instead of N. Caches are per worker,',
    'so a token whose connections land on different workers is verified once in each; every worker fetches JWKS and,',
    'in live mode, lists and watches the cluster on its own, as N replicas would.',
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

const README_BEGIN =
  '<!-- flags: generated from src/config/schema.ts by `npm run docs`; a test checks it -->';
const README_END = '<!-- end of flags -->';

/** The README's flag table: every flag, the commands that take it and its default. */
export function readmeFlagTable(): string {
  return [
    README_BEGIN,
    '',
    '| flag | commands | default |',
    '|---|---|---|',
    ...OPTIONS.map((o) => {
      const name = o.deprecatedAliasOf === undefined ? `\`--${o.name}\`` : `\`--${o.name}\` (deprecated)`;
      return `| ${name} | ${o.commands.join(', ')} | ${defaultCell(o)} |`;
    }),
    '',
    README_END,
  ].join('\n');
}

/** `readme` with its flag table replaced by the generated one; throws if the markers are missing. */
export function withReadmeFlagTable(readme: string): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error('README.md: the flag table markers are missing');
  return readme.slice(0, begin) + readmeFlagTable() + readme.slice(end + README_END.length);
}
