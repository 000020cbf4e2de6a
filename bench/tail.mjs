// The latency tail at a fixed offered load, servers in alternating slices (bench only):
//   node bench/tail.mjs [--servers tokenwarden,node-ceiling] [--rate 2000] [--seconds 10]
//                       [--rounds 3] [--alg RS256] [--probe] [--gen wrk|paced] [--preload]
//                       [--trace-gc] [--idle SECONDS]
// Each server is started once (pinned to CPU 1, as in the full run), warmed with 2 s of
// closed-loop load on the cached pool, then gets one slice per round in the order
// A B … B A (reversed every other round). No CPU profiler. Prints per slice: achieved
// rate, p50/p99/p99.9/max, server CPU µs per answer, how busy the server's core was and
// how much of the machine other processes used; then medians per server.
// --probe preloads bench/lib/loop-probe.mjs into every server: event-loop stalls with the
// CPU the process used over each, GC pauses, CPU per thread.
// --preload gives every server the history a full run's 2,000/s slices come after
// (bench/http.bench.mjs): its warm-up (cached pool, a burst of new tokens, cached pool,
// for RS256 and ES256), then 3 rounds of 4 s at saturation on the cached RS256 pool and 3
// on the cached ES256 pool, servers alternating as there.
// --trace-gc runs every server with --trace-gc --trace-gc-nvp and its stdout (tokenwarden's
// access log too) in a file, and prints per slice what V8 said about each GC: kind, pause,
// bytes promoted to the old generation (also per answer), and the old generation's size.
// --idle S leaves every server idle for S seconds before each round (a burst after a quiet
// spell: V8 shrinks the young generation at the first GC after about 14 s without allocation).
import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineCpu, processCpuSeconds, sleep, startServer } from './lib/servers.mjs';
import { prepare } from './lib/setup.mjs';
import { runWrk } from './lib/wrk.mjs';
import { runPaced } from './lib/paced.mjs';
import { median } from './lib/median.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const servers = arg('servers', 'tokenwarden,node-ceiling').split(',');
const rate = Number(arg('rate', '2000'));
const seconds = Number(arg('seconds', '10'));
const rounds = Number(arg('rounds', '3'));
const alg = arg('alg', 'RS256');
const probe = process.argv.includes('--probe');
// --fresh: a new server process for every slice, timed from its first request (warm-up).
const fresh = process.argv.includes('--fresh');
const gen = arg('gen', 'paced');
const connections = Number(arg('connections', '50'));
const nodeFlags = arg('node-flags', '').split(' ').filter(Boolean);
const preload = process.argv.includes('--preload');
const traceGc = process.argv.includes('--trace-gc');
const idleSeconds = Number(arg('idle', '0'));

const workDir = join(tmpdir(), `tokenwarden-tail-${process.pid}`);
mkdirSync(workDir, { recursive: true });
const probeFile = fileURLToPath(new URL('./lib/loop-probe.mjs', import.meta.url));
const ms = (us) => (us / 1000).toFixed(2);
const VOID_LAG_US = 2000;

/** The --trace-gc-nvp lines written to `file` since byte `from`, as {kind, pause, promoted, old}. */
function gcLines(file, from) {
  const fd = openSync(file, 'r');
  const size = statSync(file).size;
  const buf = Buffer.alloc(size - from);
  readSync(fd, buf, 0, buf.length, from);
  closeSync(fd);
  const out = [];
  for (const line of buf.toString('latin1').split('\n')) {
    if (!line.includes('pause=')) continue;
    const f = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    out.push({
      kind: f.gc,
      pause: Number(f.pause),
      promoted: Number(f.promoted),
      oldBefore: Number(f.total_size_before),
      oldAfter: Number(f.total_size_after),
      reduceMemory: f.reduce_memory,
    });
  }
  return out;
}

function gcSummary(gcs) {
  const byKind = {};
  for (const g of gcs) {
    const k = (byKind[g.kind] ??= { n: 0, ms: 0, max: 0, promoted: 0 });
    k.n++;
    k.ms += g.pause;
    k.max = Math.max(k.max, g.pause);
    k.promoted += g.promoted || 0;
  }
  const last = gcs.at(-1);
  return (
    Object.entries(byKind)
      .map(
        ([k, v]) =>
          `${k} ${v.n}× ${v.ms.toFixed(1)} ms (max ${v.max.toFixed(1)}), promoted ${(v.promoted / 1e6).toFixed(2)} MB`,
      )
      .join(', ') + (last ? `; heap after the last GC ${(last.oldAfter / 1e6).toFixed(1)} MB` : '')
  );
}

/** What a full run's servers have been through before its 2,000/s slices (bench/http.bench.mjs). */
async function preloadAll(servers, preloadFiles) {
  for (const srv of servers)
    for (const a of ['RS256', 'ES256']) {
      const f = preloadFiles[a];
      await runWrk({ port: srv.port, tokensFile: f.cached, mode: 'cycle', seconds: 2 });
      await runWrk({ port: srv.port, tokensFile: f.uncached, mode: 'once', seconds: 1 });
      await runWrk({ port: srv.port, tokensFile: f.cached, mode: 'cycle', seconds: 1 });
    }
  for (const a of ['RS256', 'ES256'])
    for (let round = 0; round < 3; round++)
      for (const srv of round % 2 ? [...servers].reverse() : servers) {
        const r = await runWrk({
          port: srv.port,
          tokensFile: preloadFiles[a].cached,
          mode: 'cycle',
          seconds: 4,
        });
        console.log(`preload: cached ${a} r${round} ${srv.name} ${Math.round(r.okRps)}/s at saturation`);
        await sleep(200);
      }
}

try {
  const setup = await prepare({ workDir, uncachedCount: preload ? 6000 : 0, cacheTtlMs: 600_000 });
  const cachedFile = join(workDir, 'cached.txt');
  writeFileSync(cachedFile, setup.pools[alg].cached.join('\n'));
  const poolFile = (a, pool) => {
    const f = join(workDir, `${a}.${pool}.txt`);
    writeFileSync(f, setup.pools[a][pool].join('\n'));
    return f;
  };
  const preloadFiles = preload
    ? Object.fromEntries(
        ['RS256', 'ES256'].map((a) => [
          a,
          { cached: poolFile(a, 'cached'), uncached: poolFile(a, 'uncached') },
        ]),
      )
    : {};
  const load = (port, opts) =>
    gen === 'wrk' || opts.rate === 0
      ? runWrk({ port, tokensFile: cachedFile, mode: 'cycle', connections, ...opts })
      : runPaced({ port, tokensFile: cachedFile, connections, ca: setup.caFile, ...opts });
  // A server is `name` or `name@flag+flag`: the same server with extra node flags of its own.
  const start = async (spec) => {
    const [name, own = ''] = spec.split('@');
    const out = join(workDir, `${started.length}.probe.json`);
    process.env.BENCH_PROBE_OUT = out;
    // Every server here is one Node process; only tokenwarden writes to stdout (its access log).
    const gcLog = traceGc ? join(workDir, `${started.length}.stdout`) : undefined;
    const srv = await startServer(name, setup, {
      token: setup.pools[alg].cached[0],
      nodeFlags: [
        ...nodeFlags,
        ...own.split('+').filter(Boolean),
        ...(probe ? ['--import', probeFile] : []),
        ...(gcLog ? ['--trace-gc', '--trace-gc-nvp'] : []),
      ],
      stdoutFile: gcLog,
    });
    srv.name = spec;
    srv.probeOut = out;
    srv.gcLog = gcLog;
    started.push(srv);
    if (!fresh) await runWrk({ port: srv.port, tokensFile: cachedFile, mode: 'cycle', seconds: 2 });
    return srv;
  };
  const started = [];
  try {
    const names = fresh ? servers : [];
    for (const name of servers) if (!fresh) names.push((await start(name)).name);
    if (preload && !fresh) await preloadAll(started, preloadFiles);
    const rows = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...names].reverse() : names;
      if (idleSeconds > 0) await sleep(idleSeconds * 1000);
      for (const name of order) {
        const srv = fresh ? await start(name) : started.find((x) => x.name === name);
        if (probe) process.kill(srv.pid, 'SIGUSR2');
        await sleep(200);
        const gc0 = srv.gcLog ? statSync(srv.gcLog).size : 0;
        const c0 = processCpuSeconds(srv.pid);
        const m0 = machineCpu();
        const r = await load(srv.port, { seconds, rate });
        const cpu = processCpuSeconds(srv.pid) - c0;
        const m1 = machineCpu();
        const wall = r.seconds;
        const machineBusy = (m1.busy - m0.busy) / (m1.total - m0.total);
        const others = Math.max(0, (m1.busy - m0.busy - cpu - r.wrkCpu * wall) / (m1.total - m0.total));
        const row = {
          server: srv.name,
          round,
          okRps: r.okRps,
          bad: r.bad,
          p50: r.lat_us.p50,
          p99: r.lat_us.p99,
          p999: r.lat_us.p999,
          max: r.lat_us.max,
          cpuUs: (cpu * 1e6) / r.ok,
          serverBusy: cpu / wall,
          machineBusy,
          others,
          late: r.late,
          lagP99: r.lag_us?.p99,
        };
        if (srv.gcLog) row.gc = gcLines(srv.gcLog, gc0);
        if (probe) {
          process.kill(srv.pid, 'SIGUSR2');
          await sleep(300);
          const p = JSON.parse(readFileSync(srv.probeOut, 'utf8'));
          const stalls = p.stalls;
          const gcMs = p.gcs.reduce((a, g) => a + g.ms, 0);
          const byKind = {};
          for (const g of p.gcs) {
            const k = (byKind[g.kind] ??= { n: 0, ms: 0, max: 0 });
            k.n++;
            k.ms += g.ms;
            k.max = Math.max(k.max, g.ms);
          }
          row.probe = {
            stalls: stalls.length,
            stallMs: stalls.reduce((a, s) => a + s.gapMs, 0),
            // Over all stalls: the main thread running, runnable but kept off the core
            // (by another process or the server's own helper threads), and the rest asleep.
            mainMs: stalls.reduce((a, s) => a + s.mainMs, 0),
            waitMs: stalls.reduce((a, s) => a + s.waitMs, 0),
            helpersMs: stalls.reduce((a, s) => a + s.helpersMs, 0),
            over3: stalls.filter((s) => s.gapMs > 3).length,
            longest: stalls.sort((a, b) => b.gapMs - a.gapMs).slice(0, 8),
            gcMs,
            byKind,
            threadMs: p.threadMs,
          };
        }
        rows.push(row);
        if (fresh) {
          await srv.stop();
          started.splice(started.indexOf(srv), 1);
        }
        console.log(
          `round ${round + 1} ${srv.name.padEnd(14)} ${Math.round(r.okRps)}/s ok (${r.bad} bad) p50 ${ms(r.lat_us.p50)} p99 ${ms(r.lat_us.p99)} ` +
            `p99.9 ${ms(r.lat_us.p999)} max ${ms(r.lat_us.max)} ms; ${row.cpuUs.toFixed(0)} µs CPU/answer, server ${(row.serverBusy * 100).toFixed(0)} % of a core, ` +
            `machine ${(machineBusy * 100).toFixed(0)} % busy, others ${(others * 100).toFixed(0)} %` +
            (r.late === undefined
              ? ''
              : `; sends late > 1 ms: ${r.late}, send lag p50 ${ms(r.lag_us.p50)} p99 ${ms(r.lag_us.p99)} max ${ms(r.lag_us.max)}`),
        );
        if (r.p99_by_second_us)
          console.log(
            `   p99 by second of the slice (ms): ${r.p99_by_second_us.map((us) => ms(us)).join(' ')}`,
          );
        if (r.worst)
          console.log(
            `   slowest requests (ms into the slice: latency ms): ${r.worst.map(([at, us]) => `${at}: ${ms(us)}`).join(', ')}`,
          );
        if (row.gc) {
          row.promotedPerAnswer = row.gc.reduce((a, g) => a + (g.promoted || 0), 0) / r.ok;
          console.log(
            `   V8 GC: ${gcSummary(row.gc)}; promoted per answer ${row.promotedPerAnswer.toFixed(1)} B`,
          );
        }
        if (row.probe) {
          const p = row.probe;
          console.log(
            `   stalls > 1.5 ms: ${p.stalls} (${p.over3} > 3 ms, ${p.stallMs.toFixed(0)} ms in all: main thread running ${p.mainMs.toFixed(0)}, waiting for the core ${p.waitMs.toFixed(0)}, asleep ${(p.stallMs - p.mainMs - p.waitMs).toFixed(0)}; helper threads ran ${p.helpersMs.toFixed(0)}); GC ${p.gcMs.toFixed(0)} ms: ` +
              Object.entries(p.byKind)
                .map(([k, v]) => `${k} ${v.n}× ${v.ms.toFixed(0)} ms (max ${v.max.toFixed(1)})`)
                .join(', ') +
              `; thread CPU ms: ${Object.entries(p.threadMs)
                .filter(([, v]) => v > 0)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}`,
          );
          for (const s of p.longest)
            console.log(
              `     ${s.gapMs.toFixed(1)} ms gap: main ran ${s.mainMs.toFixed(1)}, waited ${s.waitMs.toFixed(1)}, helpers ${s.helpersMs.toFixed(1)} ms, involuntary switches ${s.invol}${s.gc.length ? `, GC: ${s.gc.join('; ')}` : ''}`,
            );
        }
      }
    }
    console.log('\nmedians over rounds:');
    // A slice whose own sends left over 2 ms late (the target's scale) measured the generator, not the server.
    for (const name of servers) {
      const all = rows.filter((r) => r.server === name);
      const mine = all.filter((r) => !(r.lagP99 > VOID_LAG_US));
      if (mine.length < all.length)
        console.log(`${name}: ${all.length - mine.length} slice(s) void (send lag p99 > 2 ms)`);
      if (mine.length === 0) continue;
      const med = (k) => median(mine.map((r) => r[k]));
      console.log(
        `${name.padEnd(14)} ${Math.round(med('okRps'))}/s p50 ${ms(med('p50'))} p99 ${ms(med('p99'))} (rounds: ${mine.map((r) => ms(r.p99)).join(', ')}) ` +
          `p99.9 ${ms(med('p999'))} max ${ms(med('max'))} ms; ${med('cpuUs').toFixed(0)} µs CPU/answer; others ${(med('others') * 100).toFixed(0)} %` +
          (traceGc
            ? `; promoted ${med('promotedPerAnswer').toFixed(1)} B/answer, mark-compacts ${mine.map((r) => r.gc.filter((g) => g.kind !== 's').length).join(', ')}`
            : ''),
      );
    }
    if (process.env.BENCH_TAIL_JSON)
      writeFileSync(process.env.BENCH_TAIL_JSON, JSON.stringify(rows, null, 1));
  } finally {
    for (const s of started) await s.stop();
  }
} finally {
  if (!process.env.BENCH_KEEP_WORKDIR) rmSync(workDir, { recursive: true, force: true });
}
