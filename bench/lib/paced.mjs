// Runs bench/paced (a Go generator: fixed rate on a nanosecond schedule, latency from each
// request's scheduled send) pinned to CPU 0 like wrk, and reads back the same summary as
// bench/lib/wrk.mjs, plus `lag_us` (how late the generator's own schedule ran: its share of
// every latency), `start_us` (how late requests left: that, plus waiting for a free connection
// while the server held all 50) and `late` (requests that left over 1 ms late). Built on
// first use (bench/lib/go-build.mjs).
import { goBinary, hasGo } from './go-build.mjs';
import { REVIEW_PATH } from './review.mjs';
import { LOAD_CPU, runPinned } from './wrk.mjs';

/**
 * The generator of the fixed-rate scenarios: 'paced' where Go is installed, else 'wrk'
 * (whose delay() is whole milliseconds and whose latency starts at the actual send);
 * BENCH_RATE_GEN=wrk|paced chooses.
 */
export const RATE_GEN = process.env.BENCH_RATE_GEN ?? (hasGo() ? 'paced' : 'wrk');

/** { port, tokensFile, ca (file), seconds, rate, connections, expect } → the runWrk summary + late, lag_us. */
export function runPaced({ port, tokensFile, ca, seconds, rate, connections = 50, expect = true }) {
  const args = [
    '-c',
    LOAD_CPU,
    goBinary('paced'),
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
