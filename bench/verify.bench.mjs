// In-process uncached verification (no HTTP), bench only:
//   node bench/verify.bench.mjs [--quick] [--json FILE]
// tokenwarden's ServiceAccountAuthenticator.authenticateTokenNow (StaticKeySource, no cache)
// against a bare crypto.verify loop with the key imported once, jose's jwtVerify and
// fast-jwt without its cache, RS256 and ES256, as ratios to the bare loop. Methods take
// turns in rounds (order rotated each round); medians over the rounds. Rates are per
// second of the process's CPU time (run it pinned: `taskset -c 1`).
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier } from 'fast-jwt';
import { jwtVerify } from 'jose';
import { importDist } from './lib/dist.mjs';
import { ALGS, breakSignature, prepare } from './lib/setup.mjs';
import { median } from './lib/median.mjs';

const { ServiceAccountAuthenticator } = await importDist('authn/serviceaccount/authenticator.js');
const { StaticKeySource } = await importDist('keys/static.js');
const { toVerificationKey } = await importDist('keys/parse.js');
const { systemClock } = await importDist('clock.js');

function methodsFor(setup, alg) {
  const k = setup.keys.find((x) => x.alg === alg);
  const publicKey = createPublicKey(k.publicPem);
  const tokens = setup.pools[alg].cached;
  const issuer = setup.issuer;
  const audiences = [issuer];

  const vk = toVerificationKey(publicKey, 'bench');
  const sa = new ServiceAccountAuthenticator({
    issuers: new Map([[issuer, new StaticKeySource('bench', [vk])]]),
    legacy: 'reject',
    implicitAudiences: [issuer],
    clock: systemClock,
  });
  // The bare loop: signing input and signature decoded ahead, key and options made once.
  const pre = tokens.map((t) => {
    const dot = t.lastIndexOf('.');
    return { data: Buffer.from(t.slice(0, dot), 'latin1'), sig: Buffer.from(t.slice(dot + 1), 'base64url') };
  });
  const keyArg = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey;
  const fast = createVerifier({
    key: k.publicPem,
    algorithms: [alg],
    allowedIss: issuer,
    allowedAud: issuer,
    cache: false,
  });
  const joseOptions = { issuer, audience: issuer, algorithms: [alg] };

  return {
    tokens,
    methods: {
      'crypto.verify (bare)': { sync: true, run: (i) => verify('sha256', pre[i].data, keyArg, pre[i].sig) },
      // As the review path asks it: at once, since these keys are always at hand.
      tokenwarden: {
        sync: true,
        run: (i) => {
          const r = sa.authenticateTokenNow(tokens[i], audiences);
          if (r instanceof Promise) throw new Error('a token with its keys at hand waited');
          return r.outcome === 'authenticated';
        },
        check: async (t) => (await sa.authenticateToken(t, audiences)).outcome === 'authenticated',
      },
      'jose jwtVerify': {
        run: async (i) => !!(await jwtVerify(tokens[i], publicKey, joseOptions)).payload,
        check: (t) =>
          jwtVerify(t, publicKey, joseOptions).then(
            () => true,
            () => false,
          ),
      },
      'fast-jwt (no cache)': {
        sync: true,
        run: (i) => !!fast(tokens[i]),
        check: (t) => {
          try {
            return !!fast(t);
          } catch {
            return false;
          }
        },
      },
    },
  };
}

/**
 * Calls per second of one method over `ms` milliseconds (the token list cycled), per
 * second of this process's CPU time: on a shared machine the wall clock also counts the
 * time other processes held the core, the CPU time does not.
 */
async function timed(method, n, ms) {
  let ops = 0;
  let i = 0;
  let ok = true;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let j = 0; j < 32; j++) {
      const r = method.sync ? method.run(i) : await method.run(i);
      ok &&= r;
      i = i + 1 === n ? 0 : i + 1;
    }
    ops += 32;
    now = performance.now();
  }
  if (!ok) throw new Error('a valid token was refused');
  const cpu = process.cpuUsage(cpu0);
  return (ops * 1e6) / (cpu.user + cpu.system);
}

export async function runVerifyBench({ quick = false, log = console.error } = {}) {
  const rounds = quick ? 3 : 7;
  const ms = quick ? 300 : 700;
  const workDir = mkdtempSync(join(tmpdir(), 'tokenwarden-verify-'));
  try {
    const setup = await prepare({ workDir, uncachedCount: 0, log });
    const out = {};
    for (const alg of ALGS) {
      const { tokens, methods } = methodsFor(setup, alg);
      for (const [name, m] of Object.entries(methods)) {
        if (!m.check) continue;
        if (!(await m.check(tokens[0]))) throw new Error(`${name} refuses a valid ${alg} token`);
        if (await m.check(breakSignature(tokens[0])))
          throw new Error(`${name} accepts a broken ${alg} signature`);
      }
      const names = Object.keys(methods);
      const samples = Object.fromEntries(names.map((n) => [n, []]));
      for (const n of names) await timed(methods[n], tokens.length, ms / 2); // warm-up
      for (let r = 0; r < rounds; r++) {
        const order = names.map((_, j) => names[(j + r) % names.length]);
        for (const n of order) samples[n].push(await timed(methods[n], tokens.length, ms));
      }
      const bare = median(samples['crypto.verify (bare)']);
      out[alg] = Object.fromEntries(
        names.map((n) => {
          const perRound = samples[n].map((v, r) => v / samples['crypto.verify (bare)'][r]);
          return [
            n,
            {
              opsPerSec: median(samples[n]),
              usPerOp: 1e6 / median(samples[n]),
              ratio: median(samples[n]) / bare,
              ratioRange: [Math.min(...perRound), Math.max(...perRound)],
            },
          ];
        }),
      );
      log(
        `${alg}: ` +
          names
            .map(
              (n) => `${n} ${Math.round(out[alg][n].opsPerSec)}/s (${(out[alg][n].ratio * 100).toFixed(0)}%)`,
            )
            .join(', '),
      );
    }
    return { rounds, msPerSample: ms, results: out };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runVerifyBench({
    quick: process.argv.includes('--quick') || process.env.BENCH_QUICK === '1',
  });
  const j = process.argv.indexOf('--json');
  if (j > 0) writeFileSync(process.argv[j + 1], JSON.stringify(results, null, 2));
  else console.log(JSON.stringify(results, null, 2));
}
