// Runs wrk pinned to CPU 0 (`taskset -c 0`, one thread, HTTPS keep-alive) with
// bench/wrk/tokenreview.lua, and reads back its JSON summary and its CPU time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REVIEW_PATH } from './review.mjs';

const wrkDir = fileURLToPath(new URL('../wrk/', import.meta.url));
export const LOAD_CPU = process.env.BENCH_LOAD_CPU ?? '0';

/**
 * { port, tokensFile, mode: 'cycle'|'once', expect: true|false, seconds, connections, rate }
 * → { requests, ok, bad, exhausted, errors, lat_us, seconds, rps, okRps, wrkCpu }
 */
export function runWrk({ port, tokensFile, mode, expect = true, seconds, connections = 50, rate = 0 }) {
  const script = `${wrkDir}${rate > 0 ? 'tokenreview-rate.lua' : 'tokenreview.lua'}`;
  const args = [
    '-c',
    LOAD_CPU,
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    script,
    `https://127.0.0.1:${port}${REVIEW_PATH}`,
    '--',
    tokensFile,
    mode,
    String(expect),
    String(rate),
  ];
  return runPinned(args, 'WRKJSON ', seconds);
}

/**
 * Runs `taskset ARGS…` (a load generator pinned to LOAD_CPU) and reads its one-line JSON
 * summary after `marker`, with the generator's own CPU share as `wrkCpu`.
 */
export function runPinned(args, marker, seconds) {
  // `times` after the generator prints the CPU time of the shell's children: the generator's own.
  const cmd = `taskset ${args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}; rc=$?; times; exit $rc`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      const line = out.split('\n').find((l) => l.startsWith(marker));
      if (code !== 0 || !line) {
        reject(new Error(`${args[2]} failed (${code}): ${err.slice(0, 2000)} ${out.slice(0, 2000)}`));
        return;
      }
      const r = JSON.parse(line.slice(marker.length));
      const t = out.trim().split('\n').at(-1).trim().split(/\s+/).map(parseBashTime);
      r.seconds = r.duration_us / 1e6;
      r.rps = r.requests / r.seconds;
      r.okRps = r.ok / r.seconds;
      r.wrkCpu = (t[0] + t[1]) / r.seconds;
      resolve(r);
    });
  });
}

function parseBashTime(s) {
  const m = /^(\d+)m([\d.]+)s$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}
