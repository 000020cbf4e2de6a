import { afterEach, describe, expect, it } from 'vitest';
import type { AuthnResult } from '../../src/authn/authenticator.js';
import { manualClock } from '../../src/clock.js';
import { buildAuthentication, type Authentication } from '../../src/compose/authentication.js';
import { loadLiveParts } from '../../src/compose/live-parts.js';
import { loadConfig } from '../../src/config/load.js';
import { authenticationOptions } from '../../src/config/options.js';
import { DELEGATED_TOKEN_TTL_MS } from '../../src/live/cluster-authenticator.js';
import { startFakeApiserver, type FakeApiserver, type ReviewHandler } from '../helpers/fake-apiserver.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { captureLogs } from '../helpers/logs.js';
import { rsaKey } from '../helpers/keys.js';
import { boundClaims, ISSUER, legacyClaims, mintToken, NOW_MS } from '../helpers/tokens.js';

let server: FakeApiserver | undefined;
let chain: Authentication | undefined;
afterEach(async () => {
  chain?.close();
  chain = undefined;
  await server?.close();
  server = undefined;
});

/** The cluster as kube-apiserver answers a static token: `secret-<user>` is that user, anything else is not known. */
const staticTokens: ReviewHandler = (body) => {
  const token = String(body.spec?.token);
  const audiences = (body.spec?.audiences as string[] | undefined) ?? [];
  if (!token.startsWith('secret-')) return { code: 201, body: { kind: 'TokenReview', status: { user: {} } } };
  return {
    code: 201,
    body: {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      status: {
        authenticated: true,
        user: { username: token.slice(7), uid: 'u-1', groups: ['team'], extra: { 'x/y': ['z'] } },
        audiences,
      },
    },
  };
};

/** `serve --kubeconfig <fake> --delegate-unknown-tokens` with an SA issuer of its own, on a hand-moved clock. */
async function start(handler: ReviewHandler, extra: string[] = [], timeoutMs?: number) {
  // As compose() does before composing live mode.
  await loadLiveParts();
  server = await startFakeApiserver(tempDir());
  server.answerReviews('tokenreviews', handler);
  const keyFile = writeFile(tempDir(), 'sa.pub', rsaKey().publicPem);
  const config = loadConfig('serve', [
    '--service-account-issuer',
    ISSUER,
    '--api-audiences',
    'api,vault',
    '--service-account-key-file',
    keyFile,
    '--kubeconfig',
    server.kubeconfig,
    '--delegate-unknown-tokens',
    ...extra,
  ]);
  const options = authenticationOptions(config);
  const clock = manualClock(NOW_MS);
  const logs = captureLogs();
  chain = buildAuthentication(
    { ...options, live: { ...options.live!, ...(timeoutMs ? { delegationTimeoutMs: timeoutMs } : {}) } },
    { clock, watch: false, logger: logs.logger },
  );
  return { clock, logs, chain, server };
}

const review = (token: string, audiences: string[] = ['api']): Promise<AuthnResult> =>
  chain!.authenticator.authenticateToken(token, audiences);
const message = (r: AuthnResult): string => (r.outcome === 'error' ? r.error.message : r.outcome);

describe('delegating unknown tokens to the cluster', () => {
  it("gives the cluster's user for a token no local authenticator claims, with system:authenticated added", async () => {
    const { server } = await start(staticTokens);
    expect(await review('secret-alice', ['api'])).toMatchObject({
      outcome: 'authenticated',
      user: {
        username: 'alice',
        uid: 'u-1',
        groups: ['team', 'system:authenticated'],
        extra: { 'x/y': ['z'] },
      },
      audiences: ['api'],
    });
    expect(server.reviews.tokenreviews).toEqual([
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: 'secret-alice', audiences: ['api'] },
      },
    ]);
  });

  it('never sends a token a local authenticator claims, accepted or refused', async () => {
    const { server } = await start(staticTokens);
    const expired = mintToken({ claims: boundClaims({ exp: NOW_MS / 1000 - 3600, aud: ['api'] }) });
    expect(message(await review(expired))).toBe('service account token has expired');
    expect(message(await review(mintToken({ claims: legacyClaims() })))).toBe(
      'legacy service account tokens are not accepted',
    );
    expect(server.reviews.tokenreviews).toEqual([]);
  });

  it("refuses the cluster's yes when its audiences share none with the requested ones", async () => {
    await start(() => ({
      code: 201,
      body: { status: { authenticated: true, user: { username: 'alice' }, audiences: ['elsewhere'] } },
    }));
    expect(await review('secret-alice', ['api'])).toMatchObject({ outcome: 'no-opinion' });
  });

  it('takes the API audiences as what the cluster checked when its answer names none', async () => {
    await start(() => ({
      code: 201,
      body: { status: { authenticated: true, user: { username: 'alice' } } },
    }));
    expect(await review('secret-alice', ['vault', 'other'])).toMatchObject({
      outcome: 'authenticated',
      audiences: ['vault'],
    });
    expect(await review('secret-alice', ['other'])).toMatchObject({ outcome: 'no-opinion' });
  });

  it('passes the status.error of a refusal on, and asks again every time (kube never caches errors)', async () => {
    const { server } = await start(() => ({
      code: 201,
      body: { status: { user: {}, error: 'token has been revoked' } },
    }));
    expect(message(await review('secret-x'))).toBe('token has been revoked');
    expect(message(await review('secret-x'))).toBe('token has been revoked');
    expect(server.reviews.tokenreviews).toHaveLength(2);
  });

  it("keeps the cluster's yes and clean no for kube's delegated 10 s, not the 2 m of local answers", async () => {
    const { server, clock } = await start(staticTokens);
    await review('secret-alice');
    await review('unknown');
    clock.advance(DELEGATED_TOKEN_TTL_MS - 1);
    expect(await review('secret-alice')).toMatchObject({ outcome: 'authenticated' });
    expect(await review('unknown')).toMatchObject({ outcome: 'no-opinion' });
    expect(server.reviews.tokenreviews).toHaveLength(2);
    clock.advance(2);
    await review('secret-alice');
    await review('unknown');
    expect(server.reviews.tokenreviews).toHaveLength(4);
  });

  it.each([
    ['a 5xx', { code: 503, body: { kind: 'Status', code: 503 } }, 'the server answered HTTP 503'],
    [
      'a Status body with 201',
      { code: 201, body: { kind: 'Status', code: 500 } },
      'the answer is not a TokenReview',
    ],
  ])('refuses with a transient error, never cached, on %s', async (_name, answer, why) => {
    const { server } = await start(() => answer);
    for (let i = 0; i < 2; i++) {
      const r = await review('secret-alice');
      expect(r.outcome).toBe('error');
      expect(r.outcome === 'error' && r.error.transient).toBe(true);
      expect(message(r)).toBe(`TokenReview to the cluster failed: ${why}`);
    }
    expect(server.reviews.tokenreviews).toHaveLength(2);
  });

  it('refuses with a transient error when the cluster does not answer in time', async () => {
    await start(() => 'hang', [], 500);
    const r = await review('secret-alice');
    expect(message(r)).toBe('TokenReview to the cluster failed: no answer within 500 ms');
    expect(r.outcome === 'error' && r.error.transient).toBe(true);
  });

  it('refuses with a transient error when the cluster cannot be reached', async () => {
    const { server } = await start(staticTokens);
    await server.close();
    const r = await review('secret-alice');
    expect(message(r)).toMatch(/^TokenReview to the cluster failed: the request failed/);
    expect(r.outcome === 'error' && r.error.transient).toBe(true);
  });

  it('never writes the token into a log line or an error, even when the cluster echoes it', async () => {
    const token = 'secret-very-private-token-value';
    const { logs } = await start((body) => ({
      code: 500,
      body: { kind: 'Status', message: String(body.spec?.token) },
    }));
    const r = await review(token);
    expect(r.outcome).toBe('error');
    expect(
      JSON.stringify(r.outcome === 'error' ? [r.error.message, r.error.detail, r.error.parts] : []),
    ).not.toContain(token);
    expect(logs.lines.some((l) => l.msg === 'delegated TokenReview failed')).toBe(true);
    expect(logs.text()).not.toContain(token);
  });

  it('keys each answer by token and audiences together: distinct pairs never share an entry', async () => {
    // The cluster's user names exactly what it was asked, so a shared entry would show.
    const { server } = await start((body) => ({
      code: 201,
      body: {
        status: {
          authenticated: true,
          user: { username: JSON.stringify([body.spec?.token, body.spec?.audiences]) },
          audiences: body.spec?.audiences,
        },
      },
    }));
    const pairs: Array<[string, string[]]> = [
      ['ab', ['c']],
      ['a', ['bc']],
      ['a', ['b', 'c']],
      ['a', ['b,c']],
      ['2:a', ['b']],
      ['a', ['2:b']],
    ];
    for (const [token, audiences] of pairs) {
      const r = await review(token, audiences);
      expect(r).toMatchObject({
        outcome: 'authenticated',
        user: { username: JSON.stringify([token, audiences]) },
      });
    }
    for (const [token, audiences] of pairs) {
      expect(await review(token, audiences)).toMatchObject({
        user: { username: JSON.stringify([token, audiences]) },
      });
    }
    expect(server.reviews.tokenreviews).toHaveLength(pairs.length);
  });
});
