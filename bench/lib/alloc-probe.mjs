// Preloaded into a server under test (bench only): `node --import bench/lib/alloc-probe.mjs …`
// with BENCH_ALLOC_OUT=/path.jsonl. On each SIGUSR2 (bench/tail.mjs --probe sends one before
// and one after every slice) it appends one JSON line for the time since the last one: heap
// bytes allocated (garbage included: the heap's growth plus what every GC freed, from
// v8.GCProfiler), the scavenges with their pauses and the bytes they promoted to the old
// generation, and each mark-compact with its pause and the old generation before and after.
// Divide `allocated` by the slice's correct answers for the garbage per answer.
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.BENCH_ALLOC_OUT;

if (out) {
  const oldSpace = (h) => h.heapSpaceStatistics.find((s) => s.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  let profiler = new v8.GCProfiler();
  profiler.start();
  let used = v8.getHeapStatistics().used_heap_size;
  process.on('SIGUSR2', () => {
    const now = v8.getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    let freed = 0;
    const scavenges = { n: 0, ms: 0, maxMs: 0, promoted: 0 };
    const majors = [];
    for (const s of statistics) {
      const before = s.beforeGC.heapStatistics.usedHeapSize;
      freed += before - s.afterGC.heapStatistics.usedHeapSize;
      const ms = s.cost / 1000;
      if (s.gcType === 'Scavenge') {
        scavenges.n++;
        scavenges.ms += ms;
        scavenges.maxMs = Math.max(scavenges.maxMs, ms);
        scavenges.promoted += oldSpace(s.afterGC) - oldSpace(s.beforeGC);
      } else
        majors.push({ kind: s.gcType, ms, oldBefore: oldSpace(s.beforeGC), oldAfter: oldSpace(s.afterGC) });
    }
    appendFileSync(
      out,
      `${JSON.stringify({ pid: process.pid, at: Date.now(), allocated: now - used + freed, scavenges, majors })}\n`,
    );
    profiler = new v8.GCProfiler();
    profiler.start();
    used = v8.getHeapStatistics().used_heap_size;
  });
}
