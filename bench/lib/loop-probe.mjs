// Preloaded into a server under test (bench only): `node --import bench/lib/loop-probe.mjs …`
// with BENCH_PROBE_OUT=/path.json. Watches the server's event loop from inside and, on
// SIGUSR2, writes what it saw since the last SIGUSR2 (or start) to that file:
//  - every stall: a 1 ms interval timer that fired more than STALL_MS late, with when it
//    happened, the process's CPU time over the gap (all threads) and its involuntary
//    context switches (the kernel took the core away), and the GC pauses inside it;
//  - every GC pause (perf_hooks 'gc' entries), by kind;
//  - CPU time per thread of the process (/proc/self/task), to see V8's and libuv's helper
//    threads, which share the server's pinned core.
// The timer itself costs ~1,000 wake-ups a second: compare probed runs with probed runs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';

const out = process.env.BENCH_PROBE_OUT;
const STALL_MS = 1.5;
const TICK_MS = 1;

if (out) {
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
  };
  let gcs = [];
  let stalls = [];
  let ticks = 0;
  const at = () => performance.timeOrigin + performance.now();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      gcs.push({
        at: performance.timeOrigin + e.startTime,
        ms: e.duration,
        kind: kinds[e.detail?.kind] ?? String(e.detail?.kind),
      });
  }).observe({ entryTypes: ['gc'] });

  const threads = () => {
    const m = {};
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        const key = tid === String(process.pid) ? 'main' : name;
        const cpu = (Number(f[11]) + Number(f[12])) * 10;
        m[key] = (m[key] ?? 0) + cpu;
      } catch {
        /* thread gone */
      }
    }
    return m;
  };
  let threads0 = threads();
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let lastRu = process.resourceUsage();
  // The main thread's schedstat: ns on the CPU, ns runnable but waiting for it.
  const schedFile = `/proc/self/task/${process.pid}/schedstat`;
  const sched = () => readFileSync(schedFile, 'utf8').split(' ').map(Number);
  let lastSched = sched();
  let windowStart = at();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK_MS;
    const sc = sched();
    ticks++;
    if (late > STALL_MS) {
      const cpu = process.cpuUsage(lastCpu);
      const ru = process.resourceUsage();
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const mainMs = (sc[0] - lastSched[0]) / 1e6;
      stalls.push({
        at: performance.timeOrigin + last,
        gapMs: now - last,
        cpuMs,
        mainMs,
        waitMs: (sc[1] - lastSched[1]) / 1e6,
        helpersMs: Math.max(0, cpuMs - mainMs),
        invol: ru.involuntaryContextSwitches - lastRu.involuntaryContextSwitches,
      });
      lastRu = ru;
    } else if (ticks % 256 === 0) lastRu = process.resourceUsage();
    lastCpu = process.cpuUsage();
    lastSched = sc;
    last = now;
  }, TICK_MS).unref();

  process.on('SIGUSR2', () => {
    const t1 = threads();
    const threadMs = {};
    for (const [k, v] of Object.entries(t1)) threadMs[k] = v - (threads0[k] ?? 0);
    for (const s of stalls)
      s.gc = gcs
        .filter((g) => g.at + g.ms >= s.at && g.at <= s.at + s.gapMs)
        .map((g) => `${g.kind} ${g.ms.toFixed(2)}`);
    writeFileSync(out, JSON.stringify({ from: windowStart, to: at(), ticks, stalls, gcs, threadMs }));
    gcs = [];
    stalls = [];
    ticks = 0;
    threads0 = t1;
    windowStart = at();
  });
}
