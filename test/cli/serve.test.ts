import type { ChildProcess } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { finished, logLine, requireBuiltBin, runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { heldRequest } from '../helpers/http.js';
import { rsaKey } from '../helpers/keys.js';
import { leakedSecrets } from '../helpers/logs.js';
import { loopbackFlags, reviewPath, tokenReview } from '../helpers/server.js';
import { servingTls, tlsFlags, type ServingTls } from '../helpers/tls.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';

let tls: ServingTls;
beforeAll(async () => {
  requireBuiltBin();
  tls = await servingTls('serve');
});

function startServe(): { child: ChildProcess; exited: Promise<CliResult> } {
  const dir = tempDir();
  const child = spawnCli([
    'serve',
    ...loopbackFlags(writeFile(dir, 'sa.pub', rsaKey().publicPem)),
    ...tlsFlags(dir, tls),
  ]);
  return { child, exited: finished(child) };
}

describe('tokenwarden serve', () => {
  it('finishes a request in flight on SIGTERM, logs it and its last lines, then exits 0', async () => {
    const { child, exited } = startServe();
    try {
      const serving = await logLine(child, 'tokenwarden is serving');
      const port = serving.port as number;
      const token = mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
      const body = JSON.stringify(tokenReview(token));

      // Expect: 100-continue tells us the server has taken the request before the body is sent.
      const held = heldRequest({ port, ca: tls.ca, path: reviewPath(), body });
      await held.taken;

      const draining = logLine(child, 'shutting down: /readyz now fails');
      child.kill('SIGTERM');
      await draining;
      const res = await held.finish();
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ status: { authenticated: true } });
      const result = await exited;
      expect(result).toMatchObject({ code: 0, signal: null });
      // The access log is written asynchronously; nothing of it may be lost at exit.
      const lines = result.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; decision?: string });
      // The warm-up ran its reviews before the listener opened, through a copy of the path that logs nothing.
      const messages = lines.map((l) => l.msg);
      expect(messages.indexOf('warmed up')).toBeLessThan(messages.indexOf('tokenwarden is serving'));
      expect(lines.find((l) => l.msg === 'warmed up')).toMatchObject({ requests: 1000, authenticated: 1000 });
      expect(lines.filter((l) => l.msg === 'tokenreview').map((l) => l.decision)).toEqual(['authenticated']);
      expect(lines.at(-1)?.msg).toBe('stopped');
      expect(leakedSecrets(result.stdout + result.stderr, token)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.each([['0'], ['x'], ['65'], ['--workers=-1']])('exits 2 naming --workers for %s', async (value) => {
    const dir = tempDir();
    const r = await runCli([
      'serve',
      ...(value.startsWith('--') ? [value] : ['--workers', value]),
      '--service-account-issuer',
      ISSUER,
      '--service-account-key-file',
      writeFile(dir, 'sa.pub', rsaKey().publicPem),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers: must be auto or a whole number from 1 to 64');
    expect(r.stdout).toBe('');
  });
});
