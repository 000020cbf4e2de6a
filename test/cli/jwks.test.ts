import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltBin, runCli } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { ecKey, KUBE_KEYID_FIXTURE, KUBE_KEYID_FIXTURE_KID, rsaKey } from '../helpers/keys.js';

beforeAll(() => requireBuiltBin());

describe('tokenwarden jwks', () => {
  it("prints the key of kube's keyid_test.go with kube's kid", async () => {
    const r = await runCli(['jwks', '--service-account-key-file', KUBE_KEYID_FIXTURE]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      keys: [
        {
          use: 'sig',
          kty: 'RSA',
          kid: KUBE_KEYID_FIXTURE_KID,
          alg: 'RS256',
          n: expect.any(String),
          e: 'AQAB',
        },
      ],
    });
  });

  it('prints every key of several files, private keys as their public half', async () => {
    const dir = tempDir();
    const a = writeFile(dir, 'a.pem', rsaKey().privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
    const b = writeFile(
      dir,
      'b.pem',
      ecKey('P-521').privateKey.export({ type: 'sec1', format: 'pem' }) as string,
    );
    const r = await runCli(['jwks', '--service-account-key-file', a, '--service-account-key-file', b]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { keys: Record<string, unknown>[] };
    expect(doc.keys.map((k) => [k.kid, k.alg])).toEqual([
      [rsaKey().kid, 'RS256'],
      [ecKey('P-521').kid, 'ES512'],
    ]);
    for (const k of doc.keys)
      expect(Object.keys(k).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(m))).toEqual([]);
  });

  it('reads the key files from a --config file', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'config.yaml', `service-account-key-file:\n  - ${KUBE_KEYID_FIXTURE}\n`);
    const r = await runCli(['jwks', '--config', config]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ keys: [{ kid: KUBE_KEYID_FIXTURE_KID }] });
  });

  it('exits 2 without a key file', async () => {
    const r = await runCli(['jwks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--service-account-key-file is a required flag/);
  });
});
