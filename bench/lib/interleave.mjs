/**
 * CPU µs spent by each of `names` in interleaved batches (bench only): every round runs one
 * batch of each, in turn, in an order reversed every other round, so that a slow stretch of a
 * shared machine falls on all of them alike. The first `warmRounds` rounds warm every subject
 * and are not counted. `runBatch(name, round)` runs one batch (round counts from 0 with the
 * warm-up rounds); it may return a promise.
 */
export async function interleavedCpu(names, rounds, runBatch, warmRounds = 20) {
  const cpu = Object.fromEntries(names.map((n) => [n, 0]));
  for (let r = -warmRounds; r < rounds; r++) {
    for (const n of r % 2 ? names : [...names].reverse()) {
      const t0 = process.cpuUsage();
      await runBatch(n, r + warmRounds);
      const t = process.cpuUsage(t0);
      if (r >= 0) cpu[n] += t.user + t.system;
    }
  }
  return cpu;
}
