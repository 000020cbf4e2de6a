// CPU profile of one server under one load (bench only): where the time of a request goes.
//   node bench/profile.mjs [--server tokenwarden] [--scenario cached|uncached] [--alg RS256] [--seconds 8]
// Starts the server with `node --cpu-prof` (pinned to CPU 1), warms it, runs wrk for the
// given time, stops it (the profile is written at exit) and prints self time by place and
// by function, excluding the start-up and warm-up share only approximately (they are short).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './lib/cpuprofile.mjs';
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
  try {
    await runWrk({ port: srv.port, tokensFile: cachedFile, mode: 'cycle', seconds: 2 });
    const c0 = processCpuSeconds(srv.pid);
    r =
      scenario === 'uncached'
        ? await runWrk({ port: srv.port, tokensFile: uncachedFile, mode: 'once', seconds })
        : await runWrk({ port: srv.port, tokensFile: cachedFile, mode: 'cycle', seconds });
    cpu = processCpuSeconds(srv.pid) - c0;
  } finally {
    await srv.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  const s = summarize(join(profDir, file), 40);
  console.log(
    `${server}, ${scenario} ${alg}: ${Math.round(r.okRps)} correct answers/s (${r.bad} wrong, ${r.exhausted} beyond the pool), ` +
      `${((cpu * 1e6) / r.ok).toFixed(1)} µs of server CPU per answer\n` +
      `profile: ${s.totalMs.toFixed(0)} ms sampled (whole process life)\n\n-- self time by place --\n${s.places.join('\n')}\n\n-- self time by function --\n${s.functions.join('\n')}`,
  );
} finally {
  if (!process.env.BENCH_KEEP_WORKDIR) rmSync(workDir, { recursive: true, force: true });
}
