// The built image run for real with podman: a TokenReview through it, as a non-root user, on a read-only root
// file system with every capability dropped, and a SIGTERM that drains. scripts/image/test.sh builds the image and
// names it in TOKENWARDEN_IMAGE (with podman configured by scripts/image/common.sh).
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir, writeFile } from '../helpers/files.js';
import { httpsRequest, type HttpsResponse } from '../helpers/http.js';
import { rsaKey } from '../helpers/keys.js';
import { reviewPath, tokenReview } from '../helpers/server.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';
import { freePorts } from '../e2e/harness/net.js';

const IMAGE = process.env.TOKENWARDEN_IMAGE;
const run = promisify(execFile);

async function podman(...args: string[]): Promise<string> {
  const { stdout } = await run('podman', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Polls `probe` until it returns a value, at most `tries` times a quarter second apart. */
async function eventually<T>(what: string, tries: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('the container image', () => {
  const name = `tokenwarden-image-test-${process.pid}`;
  const mount = '/etc/tokenwarden';
  let tls: ServingTls;
  let port: number;
  let files: { dir: string; remove(): void } | undefined;
  const now = Math.floor(Date.now() / 1000);
  const token = mintToken({ claims: boundClaims({ aud: [ISSUER] }, now) });
  const get = (path: string): Promise<HttpsResponse> => httpsRequest({ port, ca: tls.ca, path });
  const review = (): Promise<HttpsResponse> =>
    httpsRequest({ port, ca: tls.ca, path: reviewPath(), body: JSON.stringify(tokenReview(token)) });

  beforeAll(async () => {
    if (!IMAGE)
      throw new Error('TOKENWARDEN_IMAGE is not set: run scripts/image/test.sh, which builds the image');
    tls = await servingTls();
    [port] = (await freePorts(1)) as [number];
    // The container's user is 65532, not the owner of these files: world-readable, as a Secret volume would be.
    files = suiteDir('tokenwarden-image-');
    const { dir } = files;
    chmodSync(dir, 0o755);
    for (const [file, text] of [
      ['tls.crt', tls.cert],
      ['tls.key', tls.key],
      ['sa.pub', rsaKey().publicPem],
    ] as const)
      chmodSync(writeFile(dir, file, text), 0o644);
    await podman(
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      'host',
      '--read-only',
      '--read-only-tmpfs=false',
      '--cap-drop=ALL',
      '--security-opt=no-new-privileges',
      '--volume',
      `${dir}:${mount}:ro`,
      IMAGE,
      'serve',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${mount}/tls.crt`,
      `--tls-private-key-file=${mount}/tls.key`,
      `--service-account-issuer=${ISSUER}`,
      `--service-account-key-file=${mount}/sa.pub`,
      '--shutdown-delay-duration=3s',
    );
    await eventually('/readyz', 240, async () => ((await get('/readyz')).status === 200 ? true : undefined));
  });

  afterAll(async () => {
    await podman('rm', '--force', '--time', '0', name).catch(() => undefined);
    files?.remove();
  });

  it('answers a TokenReview for a token signed by the mounted key', async () => {
    const res = await review();
    expect(res.status).toBe(200);
    const status = res.json<{ status: { authenticated?: boolean; user?: { username?: string } } }>().status;
    expect(status.authenticated).toBe(true);
    expect(status.user?.username).toBe('system:serviceaccount:ns1:app');
  });

  it('runs as the numeric non-root user 65532', async () => {
    expect(await podman('image', 'inspect', '--format', '{{.Config.User}}', IMAGE!)).toBe('65532:65532');
    const pid = await podman('inspect', '--format', '{{.State.Pid}}', name);
    const uids = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.split(/\s+/);
    expect(uids).toEqual(['65532', '65532', '65532', '65532']);
  });

  it('runs node with a 4 MiB floor under the young generation, so a burst after a quiet spell is not slowed', async () => {
    const pid = await podman('inspect', '--format', '{{.State.Pid}}', name);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(argv.slice(0, 3)).toEqual(['node', '--min-semi-space-size=4', '/app/dist/cli/main.js']);
    expect(argv[3]).toBe('serve');
  });

  it('serves with a read-only root file system and no tmpfs of its own', async () => {
    expect(await podman('inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', name)).toBe('true');
    const mounts = JSON.parse(await podman('inspect', '--format', '{{json .Mounts}}', name)) as {
      Destination: string;
    }[];
    expect(mounts.map((m) => m.Destination)).toEqual([mount]);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('drains on SIGTERM: /readyz fails while reviews are still answered, then it exits 0', async () => {
    expect(await podman('image', 'inspect', '--format', '{{.Config.StopSignal}}', IMAGE!)).toBe('SIGTERM');
    await podman('kill', '--signal', 'TERM', name);
    await eventually('/readyz to fail', 40, async () =>
      (await get('/readyz')).status === 503 ? true : undefined,
    );
    const during = await review();
    expect(during.status).toBe(200);
    expect(during.json<{ status: { authenticated?: boolean } }>().status.authenticated).toBe(true);
    expect(await podman('wait', name)).toBe('0');
    expect(await podman('logs', name)).toMatch(/"msg":"shutting down: \/readyz now fails"/);
  });
});
