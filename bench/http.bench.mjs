// TokenReview over HTTPS (bench only): tokenwarden against the two peers and the two
// ceilings, in one run, interleaved in short slices. See docs/benchmarks.md.
//   node bench/http.bench.mjs [--quick] [--json FILE]
// Every server is one process on CPU 1; wrk (one thread, 50 keep-alive connections) on
// CPU 0. Scenarios: cached (a pool of 1,000 tokens cycled) and uncached (every token new
// to the server), RS256 and ES256, closed loop; then cached RS256 at a fixed 2,000 req/s,
// and at the same offered load scaled to this machine's speed (see SCALED_RATE_REFERENCE).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALGS, breakSignature, prepare } from './lib/setup.mjs';
import {
  ALT_SERVERS,
  SERVERS,
  checkAnswers,
  machineCpu,
  processCpuSeconds,
  sleep,
  startServer,
} from './lib/servers.mjs';
import { hasGo } from './lib/go-build.mjs';
import { RATE_GEN, runPaced } from './lib/paced.mjs';
import { runWrk } from './lib/wrk.mjs';
import { median } from './lib/median.mjs';

// BENCH_SERVERS=a,b,… picks servers; BENCH_ALT_DIST adds another tokenwarden build.
export const SERVER_ORDER = process.env.BENCH_SERVERS
  ? process.env.BENCH_SERVERS.split(',')
  : [
      'tokenwarden',
      ...ALT_SERVERS,
      'hono-ceiling',
      'node-ceiling',
      'fastify',
      'express',
      'hono-ceiling-req',
      'tokenwarden-v8-defaults',
      ...(hasGo() ? ['go-ceiling'] : []),
    ];
/**
 * Diagnostic servers take part only in these scenarios. The Go ceiling is there for the
 * latency tail: what this machine and the generator allow any server at a fixed rate;
 * tokenwarden with its GC-duration histogram (by BENCH_SERVERS) for what that metric costs
 * the tail; tokenwarden on node's heap defaults for what the image's node flags change.
 */
const cachedRs256 = (id) => id === 'cached RS256' || id.startsWith('cached RS256 @ ');
const ONLY_IN = {
  'hono-ceiling-req': (id) => id === 'cached RS256',
  'tokenwarden-gc-metric': cachedRs256,
  'tokenwarden-v8-defaults': (id) => id.startsWith('cached '),
  'go-ceiling': cachedRs256,
};
const takesPart = (name, id) => !ONLY_IN[name] || ONLY_IN[name](id);

/**
 * Servers not being measured are stopped (SIGSTOP) and each is resumed RESUME_LEAD_MS
 * before its own slice, so its idle work (V8's memory-reducer GCs, timers) does not land
 * on the shared core during another server's slice, and the timers it missed fire before
 * its slice starts. BENCH_PAUSE_IDLE=0 keeps every server running, as before.
 */
const PAUSE_IDLE = process.env.BENCH_PAUSE_IDLE !== '0';
const RESUME_LEAD_MS = 1000;

/**
 * A saturated slice starts after LEAD_IN_SECONDS of the same closed-loop load whose
 * figures are not kept (the paced generator's -lead-in does the same at a fixed rate). A
 * server resumed after a minute stopped sizes its young generation at the first GC for the
 * quiet spell it saw (V8 shrinks it after ~14 s without allocation), and the first seconds of
 * load then pay scavenges and mark-compacts that steady load does not: the slice measures
 * saturation, and tail.mjs --idle the burst after a quiet spell. An uncached slice leads in
 * on the cached pool, so that no token of its round is seen before it. BENCH_LEAD_IN=0 turns
 * it off (whole seconds, as wrk takes them).
 */
const LEAD_IN_SECONDS = Math.max(0, Math.round(Number(process.env.BENCH_LEAD_IN ?? 1)));

export function httpPlan(quick) {
  const plan = quick
    ? {
        rounds: 1,
        cachedSeconds: 2,
        uncachedSeconds: 2,
        rateSeconds: 3,
        warmSeconds: 1,
        uncachedPerRound: 24_000,
        uncachedWarm: 4_000,
        rate: 2000,
      }
    : {
        rounds: 3,
        cachedSeconds: 4,
        uncachedSeconds: 3,
        rateSeconds: 4,
        warmSeconds: 2,
        uncachedPerRound: 36_000,
        uncachedWarm: 6_000,
        rate: 2000,
      };
  // BENCH_ROUNDS overrides the rounds (the uncached pool is sized for them).
  if (process.env.BENCH_ROUNDS) plan.rounds = Math.max(1, Math.min(9, Number(process.env.BENCH_ROUNDS)));
  return plan;
}

/**
 * The p99 target (< 2 ms at 2,000/s) was set on a machine where the hono ceiling answered
 * 15,700 cached RS256 reviews per second; machines here have measured 2–3 × slower, where
 * 2,000/s is a far larger share of a core and no server, the ceilings included, keeps its
 * p99 under 2 ms. The scaled scenario offers the same share of the hono ceiling's rate
 * measured in this run (2,000 / 15,700 of it), so the tail can be judged on any machine.
 */
export const SCALED_RATE_REFERENCE = { rate: 2000, honoCeilingRate: 15_700 };
export const SCALED_RATE_ID = 'cached RS256 @ scaled rate';

/** Tokens needed per algorithm for the uncached pool (the memory bench reuses RS256's). */
export const uncachedNeeded = (plan) => plan.uncachedWarm + plan.rounds * plan.uncachedPerRound;

/** One timed slice against one server, with the CPU it and everybody else used meanwhile. */
async function slice(server, opts) {
  const cpu0 = processCpuSeconds(server.pid);
  const m0 = machineCpu();
  const r =
    opts.rate > 0 && RATE_GEN === 'paced'
      ? await runPaced({ port: server.port, ca: server.caFile, ...opts })
      : await runWrk({ port: server.port, ...opts });
  const cpu1 = processCpuSeconds(server.pid);
  const m1 = machineCpu();
  const serverCpu = cpu1 - cpu0;
  const wall = m1.total - m0.total; // CPU-seconds available on all CPUs during the slice
  return {
    okRps: r.okRps,
    rps: r.rps,
    ok: r.ok,
    bad: r.bad,
    exhausted: r.exhausted,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
    p50ms: r.lat_us.p50 / 1000,
    p99ms: r.lat_us.p99 / 1000,
    p999ms: r.lat_us.p999 / 1000,
    // The paced generator's own lateness (its share of every latency it reports).
    ...(r.lag_us ? { sendLagP99ms: r.lag_us.p99 / 1000 } : {}),
    serverCpu: serverCpu / r.seconds,
    cpuUsPerReq: r.ok > 0 ? (serverCpu * 1e6) / r.ok : NaN,
    wrkCpu: r.wrkCpu,
    // Share of the machine's CPU used by processes other than this server and wrk.
    otherCpu: Math.max(0, (m1.busy - m0.busy - serverCpu - r.wrkCpu * r.seconds) / wall),
  };
}

export async function runHttpBench({
  quick = false,
  log = console.error,
  servers = SERVER_ORDER,
  workDir,
} = {}) {
  const plan = {
    ...httpPlan(quick),
    rateGen: RATE_GEN,
    pauseIdle: PAUSE_IDLE,
    leadInSeconds: LEAD_IN_SECONDS,
  };
  workDir ??= join(tmpdir(), `tokenwarden-bench-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  const setup = await prepare({ workDir, uncachedCount: uncachedNeeded(plan), cacheTtlMs: 600_000, log });
  const files = {};
  for (const alg of ALGS) {
    const { cached, uncached } = setup.pools[alg];
    files[alg] = {
      cached: join(workDir, `${alg}.cached.txt`),
      warm: join(workDir, `${alg}.uncached-warm.txt`),
      rounds: [],
    };
    writeFileSync(files[alg].cached, cached.join('\n'));
    writeFileSync(files[alg].warm, uncached.slice(0, plan.uncachedWarm).join('\n'));
    for (let r = 0; r < plan.rounds; r++) {
      const from = plan.uncachedWarm + r * plan.uncachedPerRound;
      files[alg].rounds.push(join(workDir, `${alg}.uncached-${r}.txt`));
      writeFileSync(files[alg].rounds[r], uncached.slice(from, from + plan.uncachedPerRound).join('\n'));
    }
  }

  const running = [];
  const results = { plan, servers: {}, checks: {}, slices: [] };
  try {
    for (const name of servers) {
      const srv = await startServer(name, setup, { token: setup.pools.RS256.cached[0] });
      running.push(srv);
      const problems = [];
      for (const alg of ALGS) {
        const t = setup.pools[alg].cached[1];
        const sub = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).sub;
        problems.push(...(await checkAnswers(srv, t, breakSignature(t), sub)).map((p) => `${alg}: ${p}`));
      }
      results.checks[name] = problems;
      if (problems.length > 0) throw new Error(`${name} answers wrongly: ${problems.join('; ')}`);
      log(
        `${SERVERS[name].label}: started (pid ${srv.pid}), valid tokens accepted, broken signatures refused`,
      );
    }
    // Warm-up, untimed: the JIT, and every cached-pool token into every cache.
    for (const srv of running) {
      for (const alg of ALGS) {
        if (!takesPart(srv.name, `cached ${alg}`)) continue;
        await runWrk({
          port: srv.port,
          tokensFile: files[alg].cached,
          mode: 'cycle',
          seconds: plan.warmSeconds,
        });
        await runWrk({
          port: srv.port,
          tokensFile: files[alg].warm,
          mode: 'once',
          seconds: Math.max(1, plan.warmSeconds / 2),
        });
        await runWrk({ port: srv.port, tokensFile: files[alg].cached, mode: 'cycle', seconds: 1 });
      }
    }
    if (PAUSE_IDLE) for (const srv of running) srv.pause();
    log(`warm-up done${PAUSE_IDLE ? '; servers not being measured are paused' : ''}`);

    // BENCH_SCENARIOS=id,id picks scenarios (e.g. "cached RS256,uncached RS256").
    const picked = process.env.BENCH_SCENARIOS?.split(',');
    const scenarios = [
      ...ALGS.map((alg) => ({ id: `cached ${alg}`, alg, kind: 'cached', seconds: plan.cachedSeconds })),
      { id: `cached RS256 @ ${plan.rate}/s`, alg: 'RS256', kind: 'rate', seconds: plan.rateSeconds },
      { id: SCALED_RATE_ID, alg: 'RS256', kind: 'scaled', seconds: plan.rateSeconds },
      ...ALGS.map((alg) => ({ id: `uncached ${alg}`, alg, kind: 'uncached', seconds: plan.uncachedSeconds })),
    ].filter((sc) => !picked || picked.includes(sc.id));
    for (const sc of scenarios) {
      if (sc.kind === 'scaled') {
        const ceiling = results.servers['hono-ceiling']?.scenarios['cached RS256']?.okRps;
        if (!Number.isFinite(ceiling)) continue;
        plan.scaledRate = Math.round(
          (SCALED_RATE_REFERENCE.rate * ceiling) / SCALED_RATE_REFERENCE.honoCeilingRate,
        );
      }
      for (let round = 0; round < plan.rounds; round++) {
        // A B C … then … C B A: each server's slices are spread evenly over the phase.
        const order = (round % 2 === 0 ? running : [...running].reverse()).filter((x) =>
          takesPart(x.name, sc.id),
        );
        for (const srv of order) {
          const opts =
            sc.kind === 'uncached'
              ? { tokensFile: files[sc.alg].rounds[round], mode: 'once', seconds: sc.seconds }
              : {
                  tokensFile: files[sc.alg].cached,
                  mode: 'cycle',
                  seconds: sc.seconds,
                  rate: sc.kind === 'rate' ? plan.rate : sc.kind === 'scaled' ? plan.scaledRate : 0,
                };
          if (PAUSE_IDLE) {
            srv.resume();
            await sleep(RESUME_LEAD_MS);
          }
          if (LEAD_IN_SECONDS > 0 && !opts.rate) {
            await runWrk({
              port: srv.port,
              tokensFile: files[sc.alg].cached,
              mode: 'cycle',
              seconds: LEAD_IN_SECONDS,
            });
          }
          const s = await slice(srv, opts);
          if (PAUSE_IDLE) srv.pause();
          results.slices.push({ scenario: sc.id, server: srv.name, round, ...s });
          log(
            `${sc.id.padEnd(22)} r${round} ${srv.label.padEnd(24)} ${Math.round(s.okRps).toString().padStart(6)} ok/s` +
              `  p50 ${s.p50ms.toFixed(2)} p99 ${s.p99ms.toFixed(2)} ms  ${s.cpuUsPerReq.toFixed(1)} µs CPU/req` +
              `  server ${(s.serverCpu * 100).toFixed(0)}%  wrk ${(s.wrkCpu * 100).toFixed(0)}%  others ${(s.otherCpu * 100).toFixed(0)}%` +
              (s.sendLagP99ms === undefined ? '' : `  send lag p99 ${s.sendLagP99ms.toFixed(2)} ms`) +
              (s.bad || s.errors || s.exhausted
                ? `  bad ${s.bad} errors ${s.errors} exhausted ${s.exhausted}`
                : ''),
          );
          await sleep(200);
        }
      }
      // Per server: medians over the rounds.
      for (const srv of running.filter((x) => takesPart(x.name, sc.id))) {
        const mine = results.slices.filter((x) => x.scenario === sc.id && x.server === srv.name);
        (results.servers[srv.name] ??= { label: srv.label, scenarios: {} }).scenarios[sc.id] = {
          okRps: median(mine.map((x) => x.okRps)),
          p50ms: median(mine.map((x) => x.p50ms)),
          p99ms: median(mine.map((x) => x.p99ms)),
          cpuUsPerReq: median(mine.map((x) => x.cpuUsPerReq)),
          serverCpu: median(mine.map((x) => x.serverCpu)),
          otherCpu: median(mine.map((x) => x.otherCpu)),
          wrkCpu: median(mine.map((x) => x.wrkCpu)),
          bad: mine.reduce((a, x) => a + x.bad + x.errors, 0),
          exhausted: mine.reduce((a, x) => a + x.exhausted, 0),
          rounds: mine.map((x) => Math.round(x.okRps)),
        };
      }
    }
    results.scenarios = scenarios.map((s) => s.id).filter((id) => id !== SCALED_RATE_ID || plan.scaledRate);
  } finally {
    for (const srv of running) await srv.stop();
    if (!process.env.BENCH_KEEP_WORKDIR) rmSync(workDir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const results = await runHttpBench({ quick });
  const j = process.argv.indexOf('--json');
  if (j > 0) writeFileSync(process.argv[j + 1], JSON.stringify(results, null, 2));
  else console.log(JSON.stringify(results.servers, null, 2));
}
