import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, logLine, requireBuiltBin, runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { ISSUER } from '../helpers/tokens.js';

/**
 * Every way each command ends, run as a user runs it (the built bin, real files): the exit code,
 * what goes to stdout and to stderr, never a stack trace, and never exit 0 without an answer on
 * stdout. Paths other suites already pin down in detail (verify's verdicts, serve's start-up
 * failures, the YAML config errors) are checked there; this file covers every command once.
 */

const POLICY = fileURLToPath(new URL('../fixtures/rbac/kubectl/policy.yaml', import.meta.url));

let dir: string;
let removeDir: () => void;
let keyFile: string;
beforeAll(() => {
  requireBuiltBin();
  ({ dir, remove: removeDir } = suiteDir());
  keyFile = writeFile(dir, 'sa.pub', rsaKey().publicPem);
});
afterAll(() => removeDir());

function expectNoStack(r: CliResult): void {
  expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout, r.stdout).not.toMatch(/^\s+at /m);
}

/** Exit 2, one line on stderr that starts with the command and names `mention`, nothing on stdout. */
async function expectUsage(args: string[], mention: string): Promise<void> {
  const r = await runCli(args);
  expectNoStack(r);
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^tokenwarden ${args[0]}: `));
  expect(r.stderr).toContain(mention);
}

const COMMANDS = ['serve', 'dev', 'verify', 'jwks', 'proxy', 'can-i', 'who-can'];

describe('every command', () => {
  it.each(COMMANDS)('%s --help prints its usage on stdout and exits 0', async (command) => {
    const r = await runCli([command, '--help']);
    expectNoStack(r);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^Usage: tokenwarden ${command} `));
  });

  it.each(COMMANDS)('%s exits 2 naming an unknown flag', async (command) => {
    await expectUsage([command, '--no-such-flag'], '--no-such-flag');
  });
});

describe('the dispatcher', () => {
  it.each([['help'], ['-h'], ['--help']])('%s prints the commands and exits 0', async (arg) => {
    const r = await runCli([arg]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const command of COMMANDS) expect(r.stdout).toContain(`  ${command}`);
  });

  it('exits 2 with the usage on stderr for an unknown command', async () => {
    const r = await runCli(['frobnicate']);
    expectNoStack(r);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^tokenwarden: unknown command "frobnicate"\n/);
  });
});

describe('can-i', () => {
  const P = ['--policy', POLICY];
  it('exits 0 printing yes, and 1 printing no', async () => {
    expect(await runCli(['can-i', 'get', 'po', '--as', 'alice', ...P])).toEqual({
      code: 0,
      signal: null,
      stdout: 'yes\n',
      stderr: '',
    });
    expect(await runCli(['can-i', 'get', 'secrets', '--as', 'alice', ...P])).toMatchObject({
      code: 1,
      stdout: 'no\n',
      stderr: '',
    });
  });

  it('answers with the exit code alone with -q', async () => {
    expect(await runCli(['can-i', '-q', 'get', 'pods', '--as', 'alice', ...P])).toMatchObject({
      code: 0,
      stdout: '',
    });
    expect(await runCli(['can-i', '--quiet', 'delete', 'pods', '--as', 'alice', ...P])).toMatchObject({
      code: 1,
      stdout: '',
    });
  });

  it('prints the --list table and exits 0', async () => {
    const r = await runCli(['can-i', '--list', '--as', 'alice', ...P]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Resources +Non-Resource URLs +Resource Names +Verbs\n/);
    expect(r.stdout).toMatch(/^pods\/log +\[\] +\[\] +\[get list\]$/m);
  });

  it('warns on stderr and still answers about a resource kubectl would not know', async () => {
    const r = await runCli(['can-i', 'get', 'foo', '--as', 'alice', ...P]);
    expect(r).toMatchObject({
      code: 1,
      stdout: 'no\n',
      stderr: "Warning: the server doesn't have a resource type 'foo'\n\n",
    });
  });

  it.each([
    [['can-i', 'get', 'pods', '--as', 'alice'], '--policy is required'],
    [['can-i', 'get', 'pods', ...P], '--as or --as-group is required'],
    [['can-i', 'get', '--as', 'alice', ...P], 'usage: tokenwarden can-i VERB RESOURCE'],
    [['can-i', 'get', 'pods', '--as', 'alice', '--policy', '/nonexistent.yaml'], '/nonexistent.yaml'],
    [['can-i', 'get', 'pods', '--as', 'alice', '--policy', '/'], 'cannot read policy file'],
    [['can-i', '--list', '-q', '--as', 'alice', ...P], "list option can't be specified"],
    [['can-i', 'get', 'pods', '-o', 'json', '--as', 'alice', ...P], '-o/--output is only for --list'],
    [['can-i', '--list', '-o', 'wide', '--as', 'alice', ...P], 'allowed formats are: json,yaml'],
    [['can-i', 'get', 'pods', '-n'], "'-n, --namespace <value>' argument missing"],
  ])('exits 2 for %j', async (args, mention) => {
    await expectUsage(args, mention);
  });
});

describe('who-can', () => {
  const P = ['--policy', POLICY];
  it('exits 0 with the table, or with the sentence saying nobody can', async () => {
    const found = await runCli(['who-can', 'get', 'pods', '-A', ...P]);
    expect(found).toMatchObject({ code: 0, stderr: '' });
    expect(found.stdout).toMatch(/^SUBJECT KIND +NAME/);
    expect(await runCli(['who-can', 'delete', 'pods', ...P])).toMatchObject({
      code: 0,
      stdout: 'No subjects found with permission to delete pods in namespace default\n',
      stderr: '',
    });
  });

  it('exits 0 with JSON for -o json', async () => {
    const r = await runCli(['who-can', 'get', 'pods', '-A', '-o', 'json', ...P]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('grants');
  });

  it.each([
    [['who-can', 'get', 'pods'], '--policy is required'],
    [['who-can', 'get', ...P], 'usage: tokenwarden who-can VERB RESOURCE'],
    [['who-can', 'get', 'pods', '-o', 'table', ...P], 'allowed formats are: json,yaml'],
    [['who-can', 'get', 'pods', '--policy', '/'], 'cannot read policy file'],
  ])('exits 2 for %j', async (args, mention) => {
    await expectUsage(args, mention);
  });
});

describe('jwks', () => {
  it('exits 0 with the JWKS on stdout', async () => {
    const r = await runCli(['jwks', '--service-account-key-file', keyFile]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(r.stdout) as { keys: unknown[] }).keys).toHaveLength(1);
  });

  it.each([
    [['jwks'], '--service-account-key-file'],
    [['jwks', '--service-account-key-file', '/'], 'cannot read key file'],
    [['jwks', '--service-account-key-file', POLICY], 'does not contain any valid'],
  ])('exits 2 for %j', async (args, mention) => {
    await expectUsage(args, mention);
  });
});

describe('proxy', () => {
  const identity = () => ['--service-account-issuer', ISSUER, '--service-account-key-file', keyFile];

  it('exits 2 naming a missing --upstream or identity source', async () => {
    await expectUsage(['proxy', ...identity()], '--upstream is a required flag');
    await expectUsage(
      ['proxy', '--upstream', 'http://127.0.0.1:9'],
      '--service-account-issuer is a required flag',
    );
  });

  it('exits 2 naming an upstream it cannot use', async () => {
    await expectUsage(['proxy', '--upstream', 'ftp://example', ...identity()], '--upstream');
  });

  it('serves until SIGTERM, then exits 0 after its last log line', async () => {
    const child = spawnCli([
      'proxy',
      '--upstream',
      'http://127.0.0.1:9',
      '--bind-address',
      '127.0.0.1',
      '--secure-port',
      '0',
      ...identity(),
    ]);
    const exited = finished(child);
    await logLine(child, 'tokenwarden proxy is serving');
    child.kill('SIGTERM');
    const r = await exited;
    expectNoStack(r);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toContain('"msg":"stopped"');
  });
});

describe('verify', () => {
  it.each([
    [['verify', '--service-account-issuer', ISSUER], 'TOKEN'],
    [['verify', 'abc'], '--service-account-issuer'],
  ])('exits 2 for %j', async (args, mention) => {
    const r = await runCli(args);
    expectNoStack(r);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(mention);
  });
});
