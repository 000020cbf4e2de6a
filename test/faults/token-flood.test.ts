import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ecKey } from '../helpers/keys.js';
import { b64url, boundClaims, headerJson, mintToken } from '../helpers/tokens.js';
import { allCorrect, describeLoad, runLoad, type Probe } from './harness/load.js';
import { metric, servePool } from './harness/serve-process.js';

const pool = servePool('faults-flood');

const CACHE_SIZE = 300;
const FLOOD = 1500;
const MiB = 1024 * 1024;

describe('a flood of distinct tokens (tokenwarden serve as a child process)', () => {
  it('keeps the caches within --cache-size and the working set cached through a flood of garbage', async () => {
    const key = ecKey('P-256', 'flood');
    const now = Math.floor(Date.now() / 1000);
    const serve = await pool.withKeys(key.publicPem, ['--cache-size', String(CACHE_SIZE)]);
    // Each token is distinct (its own jti) and validly signed: every one is a cache entry.
    const valid = (i: number, ns: string): Probe => ({
      name: `valid ${ns}`,
      token: mintToken({ key, claims: boundClaims({ jti: `${ns}-${i}` }, now) }),
      user: 'system:serviceaccount:ns1:app',
    });
    // Garbage that passes the format gate (our issuer, canonical base64url) and fails the signature.
    const garbage = (i: number): Probe => ({
      name: 'forged',
      token: `${b64url(headerJson(key))}.${b64url(JSON.stringify(boundClaims({ jti: `g-${i}` }, now)))}.${randomBytes(64).toString('base64url')}`,
      user: null,
    });
    const load = (probes: Probe[]) =>
      runLoad({
        port: serve.port,
        ca: pool.tls.ca,
        probes,
        concurrency: 8,
        maxRequests: probes.length,
        maxMs: 60_000,
      });

    const before = await serve.metrics();
    const validFlood = await load(Array.from({ length: FLOOD }, (_, i) => valid(i, 'flood')));
    const workingSet = Array.from({ length: 50 }, (_, i) => valid(i, 'steady'));
    await load(workingSet);
    const afterValid = await serve.metrics();
    const garbageFlood = await load(Array.from({ length: FLOOD }, (_, i) => garbage(i)));
    const afterGarbage = await serve.metrics();
    const steady = await load(workingSet);
    const end = await serve.metrics();
    console.log(describeLoad(`${FLOOD} distinct valid tokens`, validFlood));
    console.log(describeLoad(`${FLOOD} distinct forged tokens`, garbageFlood));
    const rss = (m: Map<string, number>) => metric(m, 'tokenwarden_process_resident_memory_bytes') / MiB;
    const heap = (m: Map<string, number>) => metric(m, 'tokenwarden_nodejs_heap_size_used_bytes') / MiB;
    console.log(
      `[faults] token flood: cache ${metric(end, 'tokenwarden_token_cache_entries')}/${CACHE_SIZE}, negative ${metric(end, 'tokenwarden_token_cache_negative_entries')}/${CACHE_SIZE / 10}; RSS ${rss(before).toFixed(1)} → ${rss(afterValid).toFixed(1)} → ${rss(afterGarbage).toFixed(1)} MiB; heap used ${heap(before).toFixed(1)} → ${heap(afterValid).toFixed(1)} → ${heap(afterGarbage).toFixed(1)} MiB`,
    );

    for (const r of [validFlood, garbageFlood, steady]) {
      expect(allCorrect(r)).toEqual({ wrong: 0, samples: [], errors: {}, fiveXX: 0 });
      expect(r.byStatus[200]).toBe(r.sent);
    }
    // Memory is bounded by entry counts, whatever the flood: 6000 distinct tokens, 500 + 50 entries.
    expect(metric(afterValid, 'tokenwarden_token_cache_entries')).toBe(CACHE_SIZE);
    expect(metric(afterGarbage, 'tokenwarden_token_cache_negative_entries')).toBe(CACHE_SIZE / 10);
    expect(metric(end, 'tokenwarden_token_cache_entries')).toBe(CACHE_SIZE);
    // The forged flood went to the negative cache: all 50 working-set tokens are still hits.
    const hits = (m: Map<string, number>) => metric(m, 'tokenwarden_token_cache_hits_total');
    expect(hits(end) - hits(afterGarbage)).toBe(workingSet.length);
    // A generous bound, far from the noise: 3000 tokens of ~700 bytes held at once would be well past it too.
    expect(rss(end) - rss(before)).toBeLessThan(128);
  }, 120_000);
});
