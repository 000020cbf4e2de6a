import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltBin, runCli } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { ecKey, rsaKey } from '../helpers/keys.js';
import { realToken } from '../helpers/real-tokens.js';
import { boundClaims, ISSUER, mintToken, segments } from '../helpers/tokens.js';
import { startJwksServer, type JwksServer } from '../keys/jwks-server.js';

/** Claims valid now by the wall clock: the CLI runs on the system clock. */
const liveClaims = (overrides: Record<string, unknown> = {}) =>
  boundClaims(overrides, Math.floor(Date.now() / 1000));

function keyFlags(): string[] {
  const keyFile = writeFile(tempDir(), 'sa.pub', rsaKey().publicPem + ecKey('P-256').publicPem);
  return ['--service-account-issuer', ISSUER, '--service-account-key-file', keyFile];
}

const verify = (args: string[], stdin?: string) => runCli(['verify', ...args], stdin);

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let jwks: JwksServer;
beforeAll(async () => {
  requireBuiltBin();
  jwks = await startJwksServer();
  jwks.serveKeys([rsaKey()]);
});
afterAll(() => jwks.close());

describe('tokenwarden verify', () => {
  it('prints the verdict, user and decoded token as JSON and exits 0 for a valid token', async () => {
    const token = mintToken({ claims: liveClaims() });
    const r = await verify([token, ...keyFlags()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      valid: true,
      user: {
        username: 'system:serviceaccount:ns1:app',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
      },
      audiences: [ISSUER],
      header: { alg: 'RS256', kid: rsaKey().kid },
      claims: { iss: ISSUER, sub: 'system:serviceaccount:ns1:app' },
    });
  });

  it('reads the token from standard input with -', async () => {
    const token = mintToken({ key: ecKey('P-256'), claims: liveClaims() });
    const r = await verify(['-', ...keyFlags()], `${token}\n`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true });
  });

  it('exits 1 with the reason and code for an invalid token', async () => {
    const expired = mintToken({ claims: liveClaims({ exp: Math.floor(Date.now() / 1000) - 3600 }) });
    const r = await verify([expired, ...keyFlags()]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: false,
      reason: 'service account token has expired',
      code: 'ERR_TOKEN_EXPIRED',
    });
  });

  it('holds the token to --audience', async () => {
    const r = await verify([mintToken({ claims: liveClaims() }), ...keyFlags(), '--audience', 'vault']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      reason: `token audiences ["${ISSUER}"] is invalid for the target audiences ["vault"]`,
    });
  });

  it('exits 1 for something that is not a token', async () => {
    const r = await verify(['hello', ...keyFlags()]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: false,
      reason: 'invalid bearer token',
      header: null,
    });
  });

  it.each(['legacy-secret-token.jwt', 'projected-istio-ca-token.jwt'] as const)(
    'exits 1 for the real %s, printing its claims but not its signature',
    async (name) => {
      const token = realToken(name);
      const r = await verify([
        token,
        ...keyFlags(),
        '--service-account-issuer',
        'kubernetes.default.svc',
        '--service-account-legacy-tokens',
        'accept',
      ]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({
        valid: false,
        reason: 'invalid signature, no keys found',
      });
      expect(r.stdout + r.stderr).not.toContain(segments(token)[2]);
    },
  );

  describe('with keys from the network', () => {
    const caFlags = () => ['--service-account-jwks-ca-file', writeFile(tempDir(), 'ca.pem', jwks.tls.ca)];

    it('exits 0 for a valid token verified with a JWKS it fetched', async () => {
      const r = await verify([
        mintToken({ claims: liveClaims() }),
        '--service-account-issuer',
        ISSUER,
        '--service-account-jwks-uri',
        jwks.url,
        ...caFlags(),
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ valid: true });
    });

    it.each([
      ['a well-formed token of the issuer', () => mintToken({ claims: liveClaims() })],
      ['an expired token', () => mintToken({ claims: liveClaims({ exp: 1 }) })],
      ['something that is not a JWT', () => 'notajwt'],
    ])(
      'exits 1 with the reason for %s when the JWKS cannot be reached, and says the keys did not load',
      async (_name, token) => {
        const port = await closedPort();
        const r = await verify([
          token(),
          '--service-account-issuer',
          ISSUER,
          '--service-account-jwks-uri',
          `https://127.0.0.1:${port}/openid/v1/jwks`,
          ...caFlags(),
        ]);
        expect(r.code).toBe(1);
        expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, reason: expect.any(String) });
        expect(r.stderr).toMatch(
          /^tokenwarden verify: service-account-keys-0: keys not loaded \(network\)$/m,
        );
      },
    );

    it('exits 1 with the reason when the issuer discovery cannot be reached', async () => {
      const issuer = `https://127.0.0.1:${await closedPort()}`;
      const r = await verify([
        mintToken({ claims: { ...liveClaims(), iss: issuer, aud: [issuer] } }),
        '--service-account-issuer',
        issuer,
        '--service-account-issuer-discovery',
        ...caFlags(),
      ]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({
        valid: false,
        code: 'ERR_KEYS_UNAVAILABLE',
      });
      expect(r.stderr).toMatch(/^tokenwarden verify: service-account-keys-0: keys not loaded \(network\)$/m);
    });
  });

  it('prints its options and exits 0 with --help', async () => {
    const r = await verify(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tokenwarden verify TOKEN\|- \[options\]/m);
  });

  it.each([
    ['no token', [], /exactly one TOKEN argument/],
    ['two tokens', ['a', 'b'], /exactly one TOKEN argument/],
    ['an unknown flag', ['tok', '--bogus'], /--bogus/],
  ])('exits 2 for %s, saying why', async (_name, args, message) => {
    const r = await verify([...args, ...keyFlags()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 for an empty token on standard input', async () => {
    const r = await verify(['-', ...keyFlags()], '\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/token is empty/);
  });

  it('exits 2 naming an unreadable key file', async () => {
    const missing = `${tempDir()}/nope.pem`;
    const r = await verify([
      'tok',
      '--service-account-issuer',
      ISSUER,
      '--service-account-key-file',
      missing,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--service-account-key-file');
    expect(r.stderr).toContain(missing);
  });

  it('exits 2 naming a key file with a weak key', async () => {
    const weak = writeFile(tempDir(), 'weak.pem', rsaKey('small', 1024).publicPem);
    const r = await verify(['tok', '--service-account-issuer', ISSUER, '--service-account-key-file', weak]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${weak}: RSA key of 1024 bits is too weak`);
  });

  it('exits 2 without an issuer', async () => {
    const keyFile = writeFile(tempDir(), 'sa.pub', rsaKey().publicPem);
    const r = await verify(['tok', '--service-account-key-file', keyFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--service-account-issuer is a required flag/);
  });
});
