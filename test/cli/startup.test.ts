import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltBin, runCli } from '../helpers/cli.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { rsaKey } from '../helpers/keys.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';
import { ISSUER } from '../helpers/tokens.js';

beforeAll(() => requireBuiltBin());

/** The failure is one line naming what to fix, exit 2, and no stack trace. */
async function expectOneLineFailure(args: string[], ...mentions: string[]): Promise<void> {
  const r = await runCli(args);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  for (const m of mentions) expect(lines[0]).toContain(m);
}

describe('start-up failures an operator can cause', () => {
  let tls: ServingTls;
  let other: ServingTls;
  let busy: Server;
  let busyPort: number;
  let dir: string;
  let removeDir: () => void;
  let keyFile: string;

  beforeAll(async () => {
    [tls, other] = await Promise.all([servingTls('one'), servingTls('two')]);
    ({ dir, remove: removeDir } = suiteDir());
    keyFile = writeFile(dir, 'sa.pub', rsaKey().publicPem);
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    removeDir();
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  });

  const tlsFlags = (cert: string, key: string) => [
    '--tls-cert-file',
    writeFile(dir, `cert-${Math.random()}.pem`, cert),
    '--tls-private-key-file',
    writeFile(dir, `key-${Math.random()}.pem`, key),
  ];
  const serve = (...extra: string[]) => [
    'serve',
    '--service-account-issuer',
    ISSUER,
    '--service-account-key-file',
    keyFile,
    '--bind-address',
    '127.0.0.1',
    '--secure-port',
    '0',
    ...extra,
  ];

  // dev serves a throwaway certificate of its own: only serve takes certificate files.
  it('serve: a certificate that does not match the key', async () => {
    await expectOneLineFailure(serve(...tlsFlags(tls.cert, other.key)), '--tls-cert-file', 'does not match');
  });

  it('serve: a certificate file that is not PEM', async () => {
    await expectOneLineFailure(
      serve(...tlsFlags('not a certificate\n', tls.key)),
      '--tls-cert-file',
      'not a PEM certificate',
    );
  });

  it('serve: a key file that is not PEM', async () => {
    await expectOneLineFailure(
      serve(...tlsFlags(tls.cert, 'not a key\n')),
      '--tls-private-key-file',
      'not a PEM private key',
    );
  });

  it.each([
    ['serve', () => serve()],
    ['dev', () => ['dev', '--bind-address', '127.0.0.1']],
  ])('%s: a port already in use', async (_name, base) => {
    await expectOneLineFailure(
      [...base(), '--secure-port', String(busyPort)],
      `127.0.0.1:${busyPort}`,
      'address already in use',
      '--secure-port',
    );
  });

  it('serve: a certificate or key path that is a directory', async () => {
    await expectOneLineFailure(
      serve('--tls-cert-file', dir, '--tls-private-key-file', dir),
      '--tls-cert-file',
      `cannot read ${dir} (EISDIR)`,
    );
  });

  it.each([
    ['serve', () => serve()],
    ['dev', () => ['dev']],
    [
      'proxy',
      () => [
        'proxy',
        '--upstream',
        'http://127.0.0.1:9',
        '--service-account-issuer',
        ISSUER,
        '--service-account-key-file',
        keyFile,
      ],
    ],
  ])('%s: a --bind-address that names no host', async (_name, base) => {
    await expectOneLineFailure(
      [...base(), '--bind-address', 'no-such-host.invalid', '--secure-port', '0'],
      'no-such-host.invalid',
      'no such host',
      '--bind-address',
    );
  });
});
