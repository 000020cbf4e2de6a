import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltBin, runCli } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { resolvedBy } from '../helpers/module-graph.js';
import { ISSUER } from '../helpers/tokens.js';

beforeAll(() => requireBuiltBin());

/** serve flags that would start a server, so any exit 2 is the one thing under test. */
function serveFlags(): string[] {
  const keyFile = writeFile(tempDir(), 'sa.pub', rsaKey().publicPem);
  return ['--service-account-issuer', ISSUER, '--service-account-key-file', keyFile];
}

async function expectUsageError(args: string[], ...mentions: string[]): Promise<void> {
  const r = await runCli(args);
  expect(r.code).toBe(2);
  for (const m of mentions) expect(r.stderr).toContain(m);
}

describe('tokenwarden command line', () => {
  it('prints usage and exits 2 without a command', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage: tokenwarden <command>');
  });

  it('prints the version of the package with --version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`tokenwarden ${version} (Node.js ${process.version})\n`);
    expect(r.stderr).toBe('');
  });

  it.each(['serve', 'dev', 'verify', 'jwks', 'can-i', 'who-can'])(
    'prints the usage of %s with --help and with -h, and exits 0',
    async (command) => {
      for (const flag of ['--help', '-h']) {
        const r = await runCli([command, flag]);
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: tokenwarden ${command} `));
        expect(r.stdout).toContain('--help');
        expect(r.stderr).toBe('');
      }
    },
  );

  it("loads only the command it runs: serve's module graph holds no other command and no proxy HTTP client", async () => {
    const urls = await resolvedBy(['serve', '--help']);
    expect(urls.some((u) => u.endsWith('/dist/cli/commands/serve.js'))).toBe(true);
    const others = ['proxy', 'dev', 'verify', 'jwks', 'can-i', 'who-can'].map(
      (c) => `/dist/cli/commands/${c}.js`,
    );
    expect(urls.filter((u) => others.some((o) => u.endsWith(o)))).toEqual([]);
    expect(
      urls.filter((u) => u.includes('/node_modules/undici/') || u.endsWith('/dist/http/proxy.js')),
    ).toEqual([]);
  });

  it('exits 2 naming an unknown command', async () => {
    await expectUsageError(['frobnicate'], 'unknown command "frobnicate"');
  });

  it('exits 2 naming an unknown flag', async () => {
    await expectUsageError(['serve', ...serveFlags(), '--no-such-flag'], '--no-such-flag');
  });

  it('exits 2 naming a flag with a bad value', async () => {
    await expectUsageError(['serve', ...serveFlags(), '--cache-ttl', 'soon'], '--cache-ttl');
    await expectUsageError(
      ['serve', ...serveFlags(), '--service-account-legacy-tokens', 'maybe'],
      '--service-account-legacy-tokens',
    );
    await expectUsageError(['serve', ...serveFlags(), '--secure-port', '70000'], '--secure-port');
  });

  it('exits 2 naming an unreadable file and its flag', async () => {
    const missing = `${tempDir()}/missing.pem`;
    await expectUsageError(
      ['serve', '--service-account-issuer', ISSUER, '--service-account-key-file', missing],
      '--service-account-key-file',
      missing,
    );
    await expectUsageError(
      ['serve', ...serveFlags(), '--tls-cert-file', missing, '--tls-private-key-file', missing],
      '--tls-cert-file',
      missing,
    );
  });

  it('exits 2 naming the file and field of an invalid config value', async () => {
    const config = writeFile(tempDir(), 'tokenwarden.yaml', 'cache-ttl: banana\n');
    await expectUsageError(['serve', ...serveFlags(), '--config', config], config, 'cache-ttl');
  });

  it('exits 2 naming an unknown config field', async () => {
    const config = writeFile(tempDir(), 'tokenwarden.yaml', 'cache-tll: 2m\n');
    await expectUsageError(['serve', ...serveFlags(), '--config', config], config, 'cache-tll');
  });

  it('exits 2 naming a config file that is not YAML, with the line and column', async () => {
    const config = writeFile(tempDir(), 'tokenwarden.yaml', 'cache-ttl: [2m\n  - :\n');
    await expectUsageError(['serve', ...serveFlags(), '--config', config], config, 'at line 1, column 13');
    const indented = writeFile(tempDir(), 'tokenwarden.yaml', 'cache-ttl: 2m\n  bad: [1\nlog-level: info\n');
    const r = await runCli(['serve', ...serveFlags(), '--config', indented]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ at line \d+, column \d+/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 naming the line of a merge key that would override a setting above it', async () => {
    const clash = writeFile(tempDir(), 'tokenwarden.yaml', 'cache-ttl: 2m\n<<: {cache-ttl: 5m}\n');
    await expectUsageError(
      ['serve', ...serveFlags(), '--config', clash],
      clash,
      'line 2',
      '"<<" merges key "cache-ttl"',
    );
  });

  it('exits 2 for a duplicated issuer, as kube-apiserver', async () => {
    await expectUsageError(
      ['serve', ...serveFlags(), '--service-account-issuer', ISSUER],
      `service-account-issuer "${ISSUER}" is already specified`,
    );
  });
});
