// CPU profile of one server under one load (bench only): where the time of a request goes.
//   node bench/profile.mjs [--server tokenwarden] [--scenario cached|uncached] [--alg RS256] [--seconds 8]
//                          [--rate 2000]
// Starts the server with `node --cpu-prof` (pinned to CPU 1), warms it, runs wrk for the
// given time (closed loop, or paced at --rate requests/s), stops it (the profile is written
// at exit) and prints self time by place and by function (whole process life), then the
// server's CPU µs per answer part by part, counting only samples taken during the timed run.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parts, summarize } from './lib/cpuprofile.mjs';
import { processCpuSeconds, startServer } from './lib/servers.mjs';
import { prepare } from './lib/setup.mjs';
import { runWrk } from './lib/wrk.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const server = arg('server', 'tokenwarden');
const scenario = arg('scenario', 'cached');
const alg = arg('alg', 'RS256');
const seconds = Number(arg('seconds', '8'));
const rate = Number(arg('rate', '0'));

const workDir = join(tmpdir(), `tokenwarden-profile-${process.pid}`);
const profDir = join(workDir, 'prof');
mkdirSync(profDir, { recursive: true });
try {
  const setup = await prepare({
    workDir,
    uncachedCount: scenario === 'uncached' ? 60_000 : 0,
    cacheTtlMs: 600_000,
  });
  const cachedFile = join(workDir, 'cached.txt');
  writeFileSync(cachedFile, setup.pools[alg].cached.join('\n'));
  const uncachedFile = join(workDir, 'uncached.txt');
  if (scenario === 'uncached')
    writeFileSync(uncachedFile, setup.pools[alg].uncached.slice(0, 60_000).join('\n'));
  const srv = await startServer(server, setup, {
    token: setup.pools[alg].cached[0],
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  let r;
  let cpu;
  let window;
  try {
    await runWrk({ port: srv.port, tokensFile: cachedFile, mode: 'cycle', seconds: 2 });
    const c0 = processCpuSeconds(srv.pid);
    // The profile's clock is CLOCK_MONOTONIC in µs, as process.hrtime's in ns.
    const t0 = Number(process.hrtime.bigint() / 1000n);
    r =
      scenario === 'uncached'
        ? await runWrk({ port: srv.port, tokensFile: uncachedFile, mode: 'once', seconds })
        : await runWrk({ port: srv.port, tokensFile: cachedFile, mode: 'cycle', seconds, rate });
    window = [t0, Number(process.hrtime.bigint() / 1000n)];
    cpu = processCpuSeconds(srv.pid) - c0;
  } finally {
    await srv.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  const s = summarize(join(profDir, file), 40);
  const perAnswer = parts(join(profDir, file), window[0], window[1]);
  const busy = [...perAnswer.totals].filter(([k]) => k !== 'idle').reduce((a, [, us]) => a + us, 0);
  const partLines = [...perAnswer.totals]
    .filter(([k]) => k !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .map(([k, us]) => `${(us / r.ok).toFixed(1).padStart(7)} µs  ${k}`);
  console.log(
    `${server}, ${scenario} ${alg}${rate > 0 ? ` at ${rate}/s` : ''}: ${Math.round(r.okRps)} correct answers/s (${r.bad} wrong, ${r.exhausted} beyond the pool), ` +
      `${((cpu * 1e6) / r.ok).toFixed(1)} µs of server CPU per answer, p50 ${(r.lat_us.p50 / 1000).toFixed(2)} ms, p99 ${(r.lat_us.p99 / 1000).toFixed(2)} ms\n` +
      `profile: ${s.totalMs.toFixed(0)} ms sampled (whole process life)\n\n-- self time by place --\n${s.places.join('\n')}\n\n-- self time by function --\n${s.functions.join('\n')}` +
      `\n\n-- main thread µs per answer during the timed run, by part (${(busy / r.ok).toFixed(1)} µs busy, ` +
      `${((perAnswer.totals.get('idle') ?? 0) / r.ok).toFixed(1)} µs idle) --\n${partLines.join('\n')}`,
  );
} finally {
  if (!process.env.BENCH_KEEP_WORKDIR) rmSync(workDir, { recursive: true, force: true });
}
