import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAN_I_OPTIONS } from '../../src/cli/commands/can-i.js';
import { WHO_CAN_OPTIONS } from '../../src/cli/commands/who-can.js';
import { configurationReference, readmeFlagTable, withReadmeFlagTable } from '../../src/config/reference.js';
import { OPTIONS } from '../../src/config/schema.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Flags of other programs the docs name on purpose: kube-apiserver's webhook flags, curl's, vitest's. */
const FOREIGN = new Set([
  '--authentication-token-webhook-config-file',
  '--authentication-token-webhook-version',
  '--authentication-token-webhook-cache-ttl',
  '--authorization-webhook-config-file',
  '--authorization-webhook-version',
  '--authorization-mode',
  '--cacert',
  '--run',
]);

/** Every flag some tokenwarden command takes: the option table, can-i's and who-can's own, and the dispatcher's. */
const KNOWN = new Set([
  ...OPTIONS.map((o) => `--${o.name}`),
  ...Object.keys(CAN_I_OPTIONS).map((n) => `--${n}`),
  ...Object.keys(WHO_CAN_OPTIONS).map((n) => `--${n}`),
  '--help',
  '--version',
]);

/** `--flag` words; a link anchor (`#--workers-…`) is no flag, and `--service-account-*` names a family. */
const flagsNamedIn = (text: string) => new Set(text.match(/(?<![\w#-])--[a-z][a-z0-9-]*\*?/g) ?? []);
const isKnown = (flag: string) =>
  flag.endsWith('*') ? [...KNOWN].some((k) => k.startsWith(flag.slice(0, -1))) : KNOWN.has(flag);

describe('configuration reference', () => {
  it('docs/configuration.md is the one generated from the option table (run `npm run docs` after changing flags)', () => {
    expect(read('docs/configuration.md')).toBe(configurationReference());
  });

  it("README.md's flag table is the one generated from the option table (run `npm run docs`)", () => {
    const readme = read('README.md');
    expect(readme).toContain(readmeFlagTable());
    expect(withReadmeFlagTable(readme)).toBe(readme);
  });

  it('the generated tables name every flag of the option table, once', () => {
    for (const table of [readmeFlagTable(), configurationReference()]) {
      const rows = table.split('\n').filter((l) => l.startsWith('| `--'));
      expect(rows.map((r) => /^\| `(--[a-z0-9-]+)`/.exec(r)![1])).toEqual(OPTIONS.map((o) => `--${o.name}`));
    }
  });

  it.each(['README.md', 'docs/configuration.md', 'docs/rbac.md'])(
    "%s names no flag that no tokenwarden command takes (other programs' flags aside)",
    (path) => {
      const unknown = [...flagsNamedIn(read(path))].filter((f) => !isKnown(f) && !FOREIGN.has(f));
      expect(unknown).toEqual([]);
    },
  );

  it("the flags listed as other programs' are none of ours", () => {
    expect([...FOREIGN].filter((f) => KNOWN.has(f))).toEqual([]);
  });
});
