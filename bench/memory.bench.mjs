// Memory per cached entry (bench only): tokenwarden's cachedAuthenticator over the real
// chain (service-account authenticator + group adder, as buildAuthentication wires it), filled
// with 100,000 distinct successes; heapUsed + arrayBuffers after gc, before and after.
// Measured twice: the cache alone (authenticateToken), and as served (every token reviewed
// once through createListener's TokenReview route, in process), which adds whatever the HTTP
// layer keeps per cached result.
//   node --expose-gc bench/memory.bench.mjs [--entries N] [--json FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDist } from './lib/dist.mjs';
import { post } from './lib/handler-app.mjs';
import { prepare } from './lib/setup.mjs';

const { ServiceAccountAuthenticator } = await importDist('authn/serviceaccount/authenticator.js');
const { withAuthenticatedGroup } = await importDist('authn/group-adder.js');
const { cachedAuthenticator } = await importDist('authn/cached.js');
const { StaticKeySource } = await importDist('keys/static.js');
const { toVerificationKey } = await importDist('keys/parse.js');
const { systemClock } = await importDist('clock.js');
const { createListener } = await importDist('http/app.js');
const { Metrics } = await importDist('observe/metrics.js');
const { createLogger } = await importDist('observe/log.js');
import { createPublicKey } from 'node:crypto';

export const MEMORY_ENTRIES = 100_000;

/** Memory after full collections, with turns of the event loop between them so that finalizers
 * (web streams, AbortSignal) run and what they held can go. */
async function settle() {
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

export async function runMemoryBench({ entries = MEMORY_ENTRIES, log = console.error } = {}) {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  const workDir = mkdtempSync(join(tmpdir(), 'tokenwarden-memory-'));
  try {
    const setup = await prepare({ workDir, uncachedCount: entries, log });
    const tokens = setup.pools.RS256.uncached.slice(0, entries);
    if (new Set(tokens).size !== entries) throw new Error('tokens are not distinct');
    delete setup.pools; // only `tokens` stays alive, before and after
    const k = setup.keys.find((x) => x.alg === 'RS256');
    const inner = withAuthenticatedGroup(
      new ServiceAccountAuthenticator({
        issuers: new Map([
          [
            setup.issuer,
            new StaticKeySource('bench', [toVerificationKey(createPublicKey(k.publicPem), 'bench')]),
          ],
        ]),
        legacy: 'reject',
        implicitAudiences: [setup.issuer],
        clock: systemClock,
      }),
    );
    const audiences = [setup.issuer];
    // Warm the code paths on a throwaway cache so compiled code is in the baseline.
    const warm = cachedAuthenticator(inner, {
      ttlMs: 600_000,
      negativeTtlMs: 10_000,
      max: 100,
      clock: systemClock,
    });
    for (let i = 0; i < 200; i++) await warm.authenticateToken(tokens[i], audiences);

    const cacheOptions = { ttlMs: 600_000, negativeTtlMs: 10_000, max: entries, clock: systemClock };

    const measure = async (fill) => {
      const before = await settle();
      const cache = cachedAuthenticator(inner, cacheOptions);
      const empty = await settle();
      const started = performance.now();
      const keep = await fill(cache);
      const fillMs = performance.now() - started;
      const after = await settle();
      const stats = cache.stats();
      if (stats.size !== entries) throw new Error(`cache holds ${stats.size} entries, not ${entries}`);
      const delta = (a, b) => a.heapUsed - b.heapUsed + (a.arrayBuffers - b.arrayBuffers);
      // Keep the cache, what the fill built and the tokens alive until after the measurement.
      if (cache.stats().size !== entries || tokens.length !== entries || keep === null)
        throw new Error('unreachable');
      return {
        bytesPerEntry: delta(after, before) / entries,
        emptyCacheBytes: delta(empty, before),
        heapUsedDelta: after.heapUsed - before.heapUsed,
        arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
        fillSeconds: fillMs / 1000,
      };
    };

    const alone = await measure(async (cache) => {
      for (const t of tokens) {
        const r = await cache.authenticateToken(t, audiences);
        if (r.outcome !== 'authenticated') throw new Error(`a valid token was refused: ${r.error?.message}`);
      }
      return cache;
    });
    const served = await measure(async (cache) => {
      const listener = createListener({
        authenticator: cache,
        apiAudiences: audiences,
        metrics: new Metrics(),
        logger: createLogger('info', { write() {} }),
        readiness: () => [],
        maxRequestBytes: 131_072,
      });
      for (const t of tokens) {
        const res = await post(
          listener,
          '/apis/authentication.k8s.io/v1/tokenreviews',
          Buffer.from(
            JSON.stringify({
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenReview',
              spec: { token: t },
            }),
          ),
        );
        const body = JSON.parse(res.text);
        if (body.status?.authenticated !== true) throw new Error(`a valid token was refused over the app`);
      }
      return listener;
    });
    const result = {
      entries,
      bytesPerEntry: alone.bytesPerEntry,
      servedBytesPerEntry: served.bytesPerEntry,
      emptyCacheBytes: alone.emptyCacheBytes,
      alone,
      served,
    };
    log(
      `memory: ${alone.bytesPerEntry.toFixed(0)} bytes per cached entry at ${entries} entries, ` +
        `${served.bytesPerEntry.toFixed(0)} once each was served through the app (empty cache ${alone.emptyCacheBytes} bytes)`,
    );
    return result;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const e = process.argv.indexOf('--entries');
  const result = await runMemoryBench({ entries: e > 0 ? Number(process.argv[e + 1]) : MEMORY_ENTRIES });
  const j = process.argv.indexOf('--json');
  if (j > 0) writeFileSync(process.argv[j + 1], JSON.stringify(result, null, 2));
  else console.log(JSON.stringify(result, null, 2));
}
