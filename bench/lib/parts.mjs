// Part-by-part costs in process (bench/verify-parts.mjs, bench/sar-parts.mjs): CPU µs per
// operation timed here, on the default heap as a server runs, and heap bytes per operation
// counted in a child whose young generation is too large to collect while counting.
import { execFileSync } from 'node:child_process';

const counting = process.argv.includes('--count-bytes');

/**
 * Each part's CPU µs and heap bytes per operation: `parts` maps a name to `run(i)` (may
 * return a promise), called with `i` cycling over `pool` inputs. In the counting child it
 * prints the bytes and exits the process instead of returning.
 */
export async function measureParts(parts, { ops, countingOps, warmUp, pool }) {
  const child = counting
    ? undefined
    : execFileSync(
        process.execPath,
        [
          '--expose-gc',
          '--min-semi-space-size=64',
          '--max-semi-space-size=64',
          ...process.argv.slice(1),
          '--count-bytes',
        ],
        { encoding: 'utf8' },
      );
  const measure = async (run) => {
    const n = counting ? countingOps : ops;
    for (let i = 0; i < warmUp; i++) await run(i % pool);
    if (counting) globalThis.gc();
    const heap0 = process.memoryUsage().heapUsed;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await run(i % pool);
    const cpu = process.cpuUsage(cpu0);
    const heap1 = process.memoryUsage().heapUsed;
    return counting ? (heap1 - heap0) / n : (cpu.user + cpu.system) / n;
  };
  // The loop's own `await` costs a little of both; it is measured and shown, not subtracted.
  const rows = { 'loop (await only)': await measure(async (i) => i) };
  for (const [name, run] of Object.entries(parts)) rows[name] = await measure(run);
  if (counting) {
    console.log(JSON.stringify(rows));
    process.exit(0);
  }
  const bytes = JSON.parse(child);
  return Object.entries(rows).map(([name, us]) => ({ name, us, bytes: bytes[name] }));
}
