import { afterEach, describe, expect, it, vi } from 'vitest';
import { RemoteKeySource } from '../../../src/keys/jwks.js';
import { replaceFile, tempDir, writeFile } from '../../helpers/files.js';
import { authenticationConfigYaml, jwtIssuerYaml, serveIssuer } from '../../helpers/idp.js';
import { SentTokens } from '../../helpers/logs.js';
import { rsaKey } from '../../helpers/keys.js';
import { startTestServer, tokenReview, type TestServer } from '../../helpers/server.js';
import { mintToken } from '../../helpers/tokens.js';
import { serverPool, type JwksServer } from '../../keys/jwks-server.js';

const pool = serverPool();
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  vi.restoreAllMocks();
});

const IDP_KEY = rsaKey('reload-idp');
const sent = new SentTokens();
const WAIT = { timeout: 10_000, interval: 20 };

const idpServer = async (): Promise<JwksServer> => serveIssuer(await pool.server(), [IDP_KEY]);

function idpToken(idp: JwksServer, key = IDP_KEY): string {
  const now = Math.floor(Date.now() / 1000);
  return sent.add(
    mintToken({
      key,
      claims: {
        iss: idp.origin,
        aud: 'kubernetes',
        sub: '1',
        email: 'jane@acme.example',
        exp: now + 600,
        iat: now,
      },
    }),
  );
}

/** The username a review answers, or its error. */
async function who(server: TestServer, token: string): Promise<string | undefined> {
  const res = await server.review(tokenReview(token));
  const status = (JSON.parse(res.body) as { status: { user?: { username?: string }; error?: string } })
    .status;
  return status.user?.username ?? status.error;
}

/** A server watching its files (as `serve` does) with `yaml` as its --authentication-config. */
async function serverWith(yaml: string): Promise<{ server: TestServer; path: string }> {
  const path = writeFile(tempDir(), 'authn.yaml', yaml);
  const server = await startTestServer({ watch: true, flags: [`--authentication-config=${path}`] });
  servers.push(server);
  expect(await server.chain.whenReady(5000)).toBe(true);
  return { server, path };
}

const reloads = (server: TestServer) => server.chain.authenticationConfigReloads!();

describe('--authentication-config reload', () => {
  it('applies a valid edit without a restart, and never answers from the old configuration', async () => {
    const idp = await idpServer();
    const { server, path } = await serverWith(authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')));
    const token = idpToken(idp);
    expect(await who(server, token)).toBe('idp:jane@acme.example');
    expect(await who(server, token)).toBe('idp:jane@acme.example');
    expect(server.chain.authenticator.stats().hits).toBe(1);

    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(idp, 'new:')));
    await vi.waitFor(() => expect(reloads(server).successes).toBe(1), WAIT);
    // Asked once the swap is counted: the cached answer was dropped with it.
    expect(await who(server, token)).toBe('new:jane@acme.example');

    const metrics = await server.metrics.registry.metrics();
    expect(metrics).toContain(
      'tokenwarden_authentication_config_controller_automatic_reloads_total{status="success"} 1',
    );
    expect(metrics).toMatch(
      /^tokenwarden_authentication_config_controller_automatic_reload_last_timestamp_seconds\{status="success"\} \d+/m,
    );
    expect(sent.leaksIn(server.logs.text())).toEqual([]);
  });

  it('swaps in an added issuer only once its keys are loaded, and lists it in /readyz', async () => {
    const first = await idpServer();
    const second = await idpServer();
    const { server, path } = await serverWith(authenticationConfigYaml(jwtIssuerYaml(first, 'one:')));
    expect(await who(server, idpToken(second))).toBe('invalid bearer token');

    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(first, 'one:'), jwtIssuerYaml(second, 'two:')));
    await vi.waitFor(() => expect(reloads(server).successes).toBe(1), WAIT);
    expect(second.hits.get('/jwks')).toBe(1);
    expect(await who(server, idpToken(second))).toBe('two:jane@acme.example');
    expect(await who(server, idpToken(first))).toBe('one:jane@acme.example');
    const ready = await server.request({ method: 'GET', path: '/readyz?verbose' });
    expect(ready.status).toBe(200);
    expect(ready.body).toContain('[+]jwt-issuer-keys-0 ok');
    expect(ready.body).toContain('[+]jwt-issuer-keys-1 ok');
  });

  it('does not swap in an issuer whose keys do not load, and drops it when a later edit comes', async () => {
    const idp = await idpServer();
    const down = await pool.server(); // answers 404 to discovery
    const { server, path } = await serverWith(authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')));
    const token = idpToken(idp);
    const close = vi.spyOn(RemoteKeySource.prototype, 'close');

    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(idp, 'new:'), jwtIssuerYaml(down, 'down:')));
    await vi.waitFor(
      () => expect(down.hits.get('/.well-known/openid-configuration')).toBeGreaterThan(0),
      WAIT,
    );
    expect(await who(server, token)).toBe('idp:jane@acme.example');
    const ready = await server.request({ method: 'GET', path: '/readyz?verbose' });
    expect(ready.status).toBe(200);
    expect(ready.body).not.toContain('jwt-issuer-keys-1');

    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(idp, 'later:')));
    await vi.waitFor(() => expect(reloads(server).successes).toBe(1), WAIT);
    expect(await who(server, token)).toBe('later:jane@acme.example');
    expect(close.mock.contexts.map((s) => (s as RemoteKeySource).name)).toContain(
      `discovery:127.0.0.1:${down.port}/`,
    );
  });

  it('keeps the last good configuration when an edit is invalid, and counts the failure', async () => {
    const idp = await idpServer();
    const { server, path } = await serverWith(authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')));
    const token = idpToken(idp);

    replaceFile(path, `${authenticationConfigYaml(jwtIssuerYaml(idp, 'new:'))}  bad: [unclosed\n`);
    await vi.waitFor(() => expect(reloads(server).failures).toBe(1), WAIT);
    expect(await who(server, token)).toBe('idp:jane@acme.example');

    const badCel = `  claimValidationRules:\n  - {expression: "claims.tenant ==", message: x}\n`;
    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(idp, 'new:', badCel)));
    await vi.waitFor(() => expect(reloads(server).failures).toBe(2), WAIT);
    expect(await who(server, token)).toBe('idp:jane@acme.example');
    expect(reloads(server).successes).toBe(0);

    const failures = server.logs.lines.filter((l) => l.what === 'authentication-config' && l.level === 50);
    expect(failures).toHaveLength(2);
    expect(String(failures[1]!.err)).toMatch(
      /^jwt\[0\]\.claimValidationRules\[0\]\.expression: .*compilation failed/,
    );
    expect(server.logs.text()).not.toContain(idp.tls.ca.split('\n')[1]);
    const metrics = await server.metrics.registry.metrics();
    expect(metrics).toContain(
      'tokenwarden_authentication_config_controller_automatic_reloads_total{status="failure"} 2',
    );
    expect(metrics).toContain(
      'tokenwarden_authentication_config_controller_automatic_reloads_total{status="success"} 0',
    );
    expect((await server.request({ method: 'GET', path: '/readyz' })).status).toBe(200);
  });

  it('stops authenticating the tokens of a removed issuer, cached answers included', async () => {
    const kept = await idpServer();
    const removed = await idpServer();
    const { server, path } = await serverWith(
      authenticationConfigYaml(jwtIssuerYaml(kept, 'kept:'), jwtIssuerYaml(removed, 'gone:')),
    );
    const token = idpToken(removed);
    expect(await who(server, token)).toBe('gone:jane@acme.example');

    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(kept, 'kept:')));
    await vi.waitFor(() => expect(reloads(server).successes).toBe(1), WAIT);
    expect(await who(server, token)).toBe('invalid bearer token');
    expect(await who(server, idpToken(kept))).toBe('kept:jane@acme.example');
    const ready = await server.request({ method: 'GET', path: '/readyz?verbose' });
    expect(ready.body).toContain('jwt-issuer-keys-0');
    expect(ready.body).not.toContain('jwt-issuer-keys-1');
  });

  it("forgets cached answers when a current issuer's keys change, so a key it removed stops at once", async () => {
    const idp = await idpServer();
    const { server } = await serverWith(authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')));
    const token = idpToken(idp);
    expect(await who(server, token)).toBe('idp:jane@acme.example');
    expect(await who(server, token)).toBe('idp:jane@acme.example');
    expect(server.chain.authenticator.stats().hits).toBe(1);

    const next = rsaKey('reload-idp-next');
    idp.serveKeys([next]);
    // A token of the new key has an unknown kid: the fetch it causes brings the set without the old key.
    expect(await who(server, idpToken(idp, next))).toBe('idp:jane@acme.example');
    expect(await who(server, token)).toBe(
      '[invalid bearer token, oidc: verify token: failed to verify signature: failed to verify id token signature]',
    );
  });

  it('closes the key sources of the replaced configuration, so they fetch no more', async () => {
    const idp = await idpServer();
    const { server, path } = await serverWith(authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')));
    const old = server.chain.keySources.filter((s): s is RemoteKeySource => s instanceof RemoteKeySource);
    expect(old).toHaveLength(1);
    const close = vi.spyOn(RemoteKeySource.prototype, 'close');

    replaceFile(path, authenticationConfigYaml(jwtIssuerYaml(idp, 'new:')));
    await vi.waitFor(() => expect(reloads(server).successes).toBe(1), WAIT);
    expect(close.mock.contexts).toHaveLength(1);
    expect(close.mock.contexts[0]).toBe(old[0]);
    expect(server.chain.keySources).not.toContain(old[0]);
    const fetches = idp.total();
    await old[0]!.refresh();
    expect(idp.total()).toBe(fetches);
  });
});
