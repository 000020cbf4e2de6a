// Uncached RS256 over HTTPS, servers in alternating slices (bench only): server CPU µs per
// correct answer, the measure least disturbed by other processes on a shared machine.
//   BENCH_ALT_DIST='before=/a/dist,after=/b/dist' node bench/uncached-ab.mjs
//     [--servers tokenwarden-alt1,tokenwarden-alt2,hono-ceiling] [--rounds 6] [--seconds 4]
//     [--perf DIR]
// Each server is started once (pinned to CPU 1), warmed (2 s on the cached pool, 4 s of new
// tokens), then gets one slice per round in the order A B … B A (reversed every other round).
// Every slice sends 60,000 distinct tokens round-robin: each server's token cache holds
// 10,000, so every request is a miss, as in the full run's uncached slices (the pool never
// runs out, whatever the rate). --perf DIR records each slice with
// `perf record -F 999 -g -p PID` (servers started with --perf-basic-prof, so JIT-compiled
// JavaScript is named) into DIR/<server>-<round>.data, to read with bench/perf-parts.mjs.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineCpu, processCpuSeconds, startServer } from './lib/servers.mjs';
import { prepare } from './lib/setup.mjs';
import { runWrk } from './lib/wrk.mjs';
import { median } from './lib/median.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const names = arg('servers', 'tokenwarden-alt1,tokenwarden-alt2').split(',');
const rounds = Number(arg('rounds', '6'));
const seconds = Number(arg('seconds', '4'));
const perfDir = arg('perf', undefined);
if (perfDir) mkdirSync(perfDir, { recursive: true });

/** `perf record` of one process until `seconds` have passed; resolves once perf has written its file. */
function perfRecord(pid, file) {
  const child = spawn(
    'perf',
    ['record', '-F', '999', '-g', '-p', String(pid), '-o', file, '--', 'sleep', String(seconds)],
    { stdio: 'ignore' },
  );
  return new Promise((resolve) => child.once('exit', resolve));
}

const workDir = join(tmpdir(), `tokenwarden-uncached-ab-${process.pid}`);
try {
  const setup = await prepare({ workDir, uncachedCount: 60_000, cacheTtlMs: 600_000 });
  const poolFile = join(workDir, 'uncached.txt');
  writeFileSync(poolFile, setup.pools.RS256.uncached.slice(0, 60_000).join('\n'));
  const cachedFile = join(workDir, 'cached.txt');
  writeFileSync(cachedFile, setup.pools.RS256.cached.join('\n'));
  const servers = [];
  try {
    for (const name of names) {
      servers.push(
        await startServer(name, setup, {
          token: setup.pools.RS256.cached[0],
          nodeFlags: perfDir ? ['--perf-basic-prof'] : [],
        }),
      );
    }
    for (const s of servers) {
      await runWrk({ port: s.port, tokensFile: cachedFile, mode: 'cycle', seconds: 2 });
      await runWrk({ port: s.port, tokensFile: poolFile, mode: 'cycle', seconds: 4 });
    }
    const perAnswer = new Map(servers.map((s) => [s.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
        const c0 = processCpuSeconds(s.pid);
        const m0 = machineCpu();
        const recorded = perfDir ? perfRecord(s.pid, join(perfDir, `${s.name}-${r}.data`)) : undefined;
        const w = await runWrk({ port: s.port, tokensFile: poolFile, mode: 'cycle', seconds });
        const cpu = processCpuSeconds(s.pid) - c0;
        const m1 = machineCpu();
        await recorded;
        const us = w.ok > 0 ? (cpu * 1e6) / w.ok : NaN;
        perAnswer.get(s.name).push(us);
        // Other processes' share: the machine's busy time less this server's and wrk's.
        const others = (m1.busy - m0.busy - cpu - w.wrkCpu * w.seconds) / (m1.total - m0.total);
        console.log(
          `${new Date().toISOString().slice(11, 19)} ${s.label.padEnd(36)} ${String(Math.round(w.okRps)).padStart(5)}/s ` +
            `${us.toFixed(1).padStart(6)} µs per answer (${w.bad} wrong), others ${Math.max(0, others * 100).toFixed(0)} % of the machine`,
        );
      }
    }
    for (const s of servers) {
      const v = perAnswer.get(s.name);
      console.log(
        `${s.label.padEnd(36)} median ${median(v).toFixed(1)} µs  [${v.map((x) => x.toFixed(1)).join(', ')}]`,
      );
    }
  } finally {
    for (const s of servers) await s.stop();
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
