// Runs bench/paced (a Go generator: fixed rate on a nanosecond schedule, latency from each
// request's scheduled send) pinned to CPU 0 like wrk, and reads back the same summary as
// bench/lib/wrk.mjs, plus `lag_us` (how late the generator's own schedule ran: its share of
// every latency), `start_us` (how late requests left: that, plus waiting for a free connection
// while the server held all 50) and `late` (requests that left over 1 ms late). Built with
// `go build` on first use into the bench cache directory, keyed by the source's hash.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REVIEW_PATH } from './review.mjs';
import { cacheDir } from './setup.mjs';
import { LOAD_CPU, runPinned } from './wrk.mjs';

const srcDir = fileURLToPath(new URL('../paced/', import.meta.url));

function hasGo() {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The generator of the fixed-rate scenarios: 'paced' where Go is installed, else 'wrk'
 * (whose delay() is whole milliseconds and whose latency starts at the actual send);
 * BENCH_RATE_GEN=wrk|paced chooses.
 */
export const RATE_GEN = process.env.BENCH_RATE_GEN ?? (hasGo() ? 'paced' : 'wrk');

function binary() {
  const hash = createHash('sha256')
    .update(readFileSync(join(srcDir, 'main.go')))
    .update(readFileSync(join(srcDir, 'go.mod')))
    .digest('hex')
    .slice(0, 12);
  const bin = join(cacheDir, `paced-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(cacheDir, { recursive: true });
    execFileSync('go', ['build', '-o', bin, '.'], {
      cwd: srcDir,
      stdio: 'inherit',
      env: { ...process.env, CGO_ENABLED: '0' },
    });
  }
  return bin;
}

/** { port, tokensFile, ca (file), seconds, rate, connections, expect } → the runWrk summary + late, lag_us. */
export function runPaced({ port, tokensFile, ca, seconds, rate, connections = 50, expect = true }) {
  const args = [
    '-c',
    LOAD_CPU,
    binary(),
    '-url',
    `https://127.0.0.1:${port}${REVIEW_PATH}`,
    '-tokens',
    tokensFile,
    '-rate',
    String(rate),
    '-seconds',
    String(seconds),
    '-connections',
    String(connections),
    '-ca',
    ca,
    '-expect',
    String(expect),
  ];
  return runPinned(args, 'PACEDJSON ', seconds);
}
