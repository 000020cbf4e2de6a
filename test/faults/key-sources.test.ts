import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDiscoveryKeySource } from '../../src/keys/discovery.js';
import { createJwksKeySource, type RemoteKeySource } from '../../src/keys/jwks.js';
import { serveIssuer } from '../helpers/idp.js';
import { ecKey, type TestKey } from '../helpers/keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';
import { json, jwksBody, serverPool, type JwksServer, type Responder } from '../keys/jwks-server.js';
import { allCorrect, describeLoad, runLoad, type LoadReport, type Probe } from './harness/load.js';
import { eventually } from './harness/serve-process.js';

const pool = serverPool();
const USER = 'system:serviceaccount:ns1:app';
/** Remote-source timings shrunk from the defaults (10 s deadline, 5 s cooldown, 1 s → 60 s backoff) so each fault plays out in about a second. */
const TIMING = { timeoutMs: 800, cooldownMs: 300, backoffInitialMs: 100, backoffMaxMs: 400 } as const;

const now = () => Math.floor(Date.now() / 1000);
const k1 = ecKey('P-256', 'k1');
const k2 = ecKey('P-256', 'k2');
const k3 = ecKey('P-256', 'k3');
const valid = (key: TestKey, jti = 'steady', iss = ISSUER): Probe => ({
  name: `signed by ${key === k1 ? 'k1' : key === k2 ? 'k2' : 'another key'}`,
  token: mintToken({ key, claims: boundClaims({ jti, iss }, now()) }),
  user: USER,
});
/** A token for ISSUER with a kid no source serves: what costs a refresh. */
const unknownKid = (): string =>
  mintToken({ key: k3, header: { kid: randomBytes(8).toString('hex') }, claims: boundClaims({}, now()) });

async function service(source: RemoteKeySource, issuer = ISSUER): Promise<TestServer> {
  const server = await startTestServer({
    keys: [ecKey('P-256', 'unrelated')],
    flags: issuer === ISSUER ? [] : ['--service-account-issuer', issuer],
    issuerKeys: new Map([[issuer, source]]),
  });
  pool.cleanup.push(() => server.close());
  return server;
}

const jwksSource = (jwks: JwksServer): RemoteKeySource =>
  createJwksKeySource({ url: jwks.url, ca: jwks.tls.ca, ...TIMING });

const load = (server: TestServer, probes: Probe[], maxMs = 60_000, maxRequests = 400): Promise<LoadReport> =>
  runLoad({ port: server.port, ca: server.ca, probes, concurrency: 8, maxRequests, maxMs });

const failures = (source: RemoteKeySource, reason: string): number =>
  source.health().failuresByReason?.[reason] ?? 0;
const ready = async (server: TestServer) => (await server.request({ path: '/readyz' })).status === 200;

async function reviewOf(
  server: TestServer,
  token: string,
): Promise<{ authenticated: boolean; error?: string }> {
  const res = await server.review({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token },
  });
  expect(res.status).toBe(200);
  return res.json<{ status: { authenticated?: boolean; error?: string } }>().status as {
    authenticated: boolean;
    error?: string;
  };
}

/** Waits out the cooldown, then sends an unknown kid, which must cost exactly one fetch attempt. */
async function forceFetch(server: TestServer, source: RemoteKeySource): Promise<void> {
  const before = source.health().loads + source.health().loadFailures;
  await new Promise((r) => setTimeout(r, TIMING.cooldownMs + 50));
  expect((await reviewOf(server, unknownKid())).authenticated).toBe(false);
  expect(await eventually(() => source.health().loads + source.health().loadFailures > before, 5000)).toBe(
    true,
  );
}

describe('key sources failing under load (in-process service, shortened source timings)', () => {
  it('starts with its JWKS URL down: live, not ready, refusing with an error; ready and accepting once it appears', async () => {
    const jwks = await pool.server();
    await jwks.close(); // the port is now closed: connection refused
    const source = jwksSource(jwks);
    const server = await service(source);
    expect((await server.request({ path: '/livez' })).status).toBe(200);
    expect(await ready(server)).toBe(false);
    const down = await load(server, [{ ...valid(k1), user: null }], 5000, 200);
    const refusal = await reviewOf(server, valid(k1).token);
    expect(refusal.error).toMatch(/\S/);
    const attemptsWhileDown = source.health().loadFailures;

    jwks.serveKeys([k1]);
    await jwks.reopen();
    expect(await eventually(() => ready(server), 10_000)).toBe(true);
    const up = await load(server, [valid(k1)], 5000, 400);
    console.log(describeLoad('JWKS down at start', down));
    console.log(describeLoad('JWKS up again', up));
    console.log(
      `[faults] JWKS down at start: ${attemptsWhileDown} fetch attempts while down (backoff ${TIMING.backoffInitialMs} → ${TIMING.backoffMaxMs} ms)`,
    );
    for (const r of [down, up])
      expect(allCorrect(r)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
    expect(attemptsWhileDown).toBeGreaterThan(0);
  });

  it('starts with its discovery document down, then finds the keys through it', async () => {
    const idp = await pool.server();
    const issuer = idp.origin;
    await idp.close();
    const source = createDiscoveryKeySource({ issuer, ca: idp.tls.ca, ...TIMING });
    const server = await service(source, issuer);
    expect(await ready(server)).toBe(false);
    expect((await reviewOf(server, valid(k1, 'd', issuer).token)).authenticated).toBe(false);
    serveIssuer(idp, [k1]);
    await idp.reopen();
    expect(await eventually(() => ready(server), 10_000)).toBe(true);
    const up = await load(server, [valid(k1, 'd', issuer)], 5000, 200);
    expect(allCorrect(up)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
  });

  it('keeps verifying known keys through every way a JWKS endpoint can fail mid-run, and counts each failure', async () => {
    const jwks = await pool.server();
    jwks.serveKeys([k1]);
    const source = jwksSource(jwks);
    const server = await service(source);
    expect(await eventually(() => ready(server), 10_000)).toBe(true);

    let hugeBytesWritten = 0;
    const huge: Responder = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        // 200 MiB offered; the fetch stops reading at its cap and the socket closes under us.
        while (hugeBytesWritten < 200 * 1024 * 1024 && !res.destroyed) {
          hugeBytesWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
    const stall: Responder = () => {
      // Accepts and never answers: the fetch deadline must end it.
    };
    const trickle: Responder = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 100);
      pool.cleanup.push(() => clearInterval(t));
    };
    const status =
      (code: number): Responder =>
      (_req, res) =>
        void res.writeHead(code, { 'retry-after': '1' }).end();
    const faults: Array<[string, Responder | 'closed', string]> = [
      ['listener closed', 'closed', 'network'],
      ['HTTP 500', status(500), 'status'],
      ['HTTP 503', status(503), 'status'],
      ['HTTP 429', status(429), 'status'],
      [
        'HTML login page',
        (_q, s) => void s.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
        'content-type',
      ],
      ['truncated JSON', json(jwksBody([k1]).slice(0, 40)), 'invalid-document'],
      ['[]', json('[]'), 'invalid-document'],
      ['{"keys":"x"}', json('{"keys":"x"}'), 'invalid-document'],
      ['{"keys":[]}', json('{"keys":[]}'), 'empty-key-set'],
      ['200 MiB body', huge, 'too-large'],
      ['accepts, never answers', stall, 'timeout'],
      ['1 byte every 100 ms', trickle, 'timeout'],
    ];

    let done = false;
    const traffic = runLoad({
      port: server.port,
      ca: server.ca,
      probes: [
        valid(k1),
        { name: 'signed by a stranger', token: mintToken({ key: k3, header: { kid: k1.kid } }), user: null },
      ],
      concurrency: 4,
      maxRequests: 100_000,
      maxMs: 60_000,
      stop: () => done,
    });
    const seen: string[] = [];
    try {
      for (const [name, responder, reason] of faults) {
        const before = failures(source, reason);
        if (responder === 'closed') await jwks.close();
        else jwks.respond('/jwks', responder);
        await forceFetch(server, source);
        expect(await eventually(() => failures(source, reason) > before, 5000), name).toBe(true);
        // The last good keys still serve, and the service stays ready.
        expect((await reviewOf(server, valid(k1, name).token)).authenticated, name).toBe(true);
        expect(await ready(server), name).toBe(true);
        seen.push(`${name} → ${reason}`);
        if (responder === 'closed') await jwks.reopen();
      }
    } finally {
      done = true;
    }
    const report = await traffic;
    console.log(describeLoad('known-kid traffic through 12 JWKS faults', report));
    console.log(
      `[faults] JWKS faults: ${seen.join('; ')}; the 200 MiB answer cost ${(hugeBytesWritten / 1024 / 1024).toFixed(1)} MiB written before the fetch cut it`,
    );
    expect(allCorrect(report)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
    expect(report.sent).toBeGreaterThan(100);
    // The 512 KiB cap held: a few MiB of socket buffers at most, never the 200 MiB.
    expect(hugeBytesWritten).toBeLessThan(32 * 1024 * 1024);
  });

  it('takes a rotated key on its first token with one fetch for 1000 concurrent ones, drops a removed key at once, and refetches once for new material under a known kid', async () => {
    const jwks = await pool.server();
    jwks.serveKeys([k1]);
    const source = jwksSource(jwks);
    const server = await service(source);
    expect(await eventually(() => ready(server), 10_000)).toBe(true);
    const k1Token = valid(k1, 'cached').token;
    expect((await reviewOf(server, k1Token)).authenticated).toBe(true); // now a cached positive

    // Rotation: the issuer starts signing with k2.
    jwks.serveKeys([k1, k2]);
    await new Promise((r) => setTimeout(r, TIMING.cooldownMs + 50));
    const before = jwks.total();
    const rotated = await runLoad({
      port: server.port,
      ca: server.ca,
      probes: Array.from({ length: 1000 }, (_, i) => valid(k2, `rot-${i}`)),
      concurrency: 100,
      maxRequests: 1000,
      maxMs: 60_000,
    });
    console.log(describeLoad('1000 tokens of a rotated key', rotated));
    expect(allCorrect(rotated)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
    expect(rotated.byStatus[200]).toBe(1000);
    expect(jwks.total() - before).toBe(1);

    // Retirement: k1 leaves the set; the next fetch (an unknown kid) drops it and its cached positive.
    jwks.serveKeys([k2]);
    await forceFetch(server, source);
    expect(await eventually(async () => !(await reviewOf(server, k1Token)).authenticated, 5000)).toBe(true);

    // New material under k2's kid: a failed signature with a known kid costs one refetch.
    const k4 = ecKey('P-256', 'k4');
    jwks.respond('/jwks', json(jwksBody([k4], k2.kid)));
    await new Promise((r) => setTimeout(r, TIMING.cooldownMs + 50));
    const fetchesBefore = jwks.total();
    const replaced = mintToken({
      key: k4,
      header: { kid: k2.kid },
      claims: boundClaims({ jti: 'k4' }, now()),
    });
    expect((await reviewOf(server, replaced)).authenticated).toBe(true);
    expect(jwks.total() - fetchesBefore).toBe(1);
  });

  it('costs at most one fetch per cooldown for a flood of random kids, healthy source or failing', async () => {
    const jwks = await pool.server();
    jwks.serveKeys([k1]);
    // Retries after a failure follow their own backoff whatever the traffic; kept no faster
    // than the cooldown here, every attempt is one the bound counts.
    const source = createJwksKeySource({
      url: jwks.url,
      ca: jwks.tls.ca,
      ...TIMING,
      backoffInitialMs: 2 * TIMING.cooldownMs,
      backoffMaxMs: 4 * TIMING.cooldownMs,
    });
    const server = await service(source);
    expect(await eventually(() => ready(server), 10_000)).toBe(true);
    const rows: string[] = [];
    for (const phase of ['healthy', 'failing'] as const) {
      if (phase === 'failing') jwks.respond('/jwks', (_q, s) => void s.writeHead(500).end());
      // Every request a kid never seen before, so none is answered from the negative cache.
      const flood = Array.from({ length: 1500 }, (_, i) => ({
        name: `random kid ${i}`,
        token: unknownKid(),
        user: null,
      }));
      const before = jwks.total();
      const r = await runLoad({
        port: server.port,
        ca: server.ca,
        probes: [...flood, valid(k1, phase)],
        concurrency: 32,
        maxRequests: 1500,
        maxMs: 30_000,
      });
      const fetches = jwks.total() - before;
      const bound = Math.ceil(r.durationMs / TIMING.cooldownMs) + 1;
      rows.push(`${phase}: ${r.sent} requests in ${r.durationMs} ms, ${fetches} fetches (bound ${bound})`);
      expect(allCorrect(r)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
      expect(fetches).toBeLessThanOrEqual(bound);
      expect(fetches).toBeGreaterThan(0);
    }
    console.log(`[faults] unknown-kid flood: ${rows.join('; ')}`);
  });
});
