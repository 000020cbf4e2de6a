// What a cached TokenReview leaves in V8's old generation, in process at a fixed rate (bench only):
//   node bench/promoted.mjs [--rate 2000] [--seconds 15] [--rounds 2] [--sample FILE]
// Each slice is a fresh child process pinned to CPU 1 (`node --trace-gc --trace-gc-nvp`): the
// listener bench/lib/handler-app.mjs builds (default access log to /dev/null, metrics), 20,000
// warm-up answers, then the slice, requests started on a millisecond schedule. Prints per slice
// the bytes scavenges promoted per answer, the scavenges, their mean pause and the
// mark-compacts. No TLS, no sockets, no load generator: far less disturbed by other processes
// than bench/tail.mjs, and a closed loop would keep lines and answers waiting long enough to be
// promoted (it measures the backlog, not the server). TOKENWARDEN_DIST / BENCH_ALT_DIST as in
// handler.bench.mjs; builds alternate A B B A.
// --sample FILE writes, per slice, V8's sampling heap profile of the objects no scavenge
// collected (FILE.<label>.<round>.heapprofile) and prints the functions that allocated most
// of them: what is promoted, and by whom (inlined functions count as their caller).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { distDir } from './lib/dist.mjs';
import { benchBuilds, benchKeys, build, median, tokenReviews } from './lib/handler-app.mjs';
import { SERVER_CPU } from './lib/servers.mjs';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    sample: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    child: { type: 'string' },
    out: { type: 'string' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);

/** The child: one build, warmed, then one paced slice between two marks on stdout. */
async function slice(dir, sampleFile) {
  const { privatePem, publicPem } = benchKeys();
  const { listener, tokens } = (await build(dir)).make(privatePem, publicPem);
  const review = tokenReviews(listener, tokens);
  for (let i = 0; i < 20_000; i++) await review(i);
  const session = new Session();
  session.connect();
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  if (sampleFile)
    await call('HeapProfiler.startSampling', {
      samplingInterval: 2048,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    });
  const oldGeneration = () =>
    v8
      .getHeapSpaceStatistics()
      .filter((sp) => ['old_space', 'map_space', 'code_space', 'large_object_space'].includes(sp.space_name))
      .reduce((a, sp) => a + sp.space_used_size, 0);
  const old0 = oldGeneration();
  console.log('MARK start');
  const t0 = performance.now();
  let n = 0;
  await new Promise((done) => {
    const tick = () => {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      while (n < due) void review(n++);
      if (performance.now() - t0 < seconds * 1000) setTimeout(tick, 1);
      else done();
    };
    tick();
  });
  console.log(`MARK end ${n} ${oldGeneration() - old0}`);
  if (sampleFile) {
    // What is still young at the end was not collected by a scavenge either: two scavenges
    // first, so that only what outlives them stays in the profile.
    globalThis.gc({ type: 'minor' });
    globalThis.gc({ type: 'minor' });
    const { profile } = await call('HeapProfiler.stopSampling');
    writeFileSync(sampleFile, JSON.stringify(profile));
  }
}

/** The --trace-gc-nvp lines between the marks: promoted bytes, scavenges, pauses, mark-compacts. */
function gcBetweenMarks(stdout) {
  let on = false;
  let answers = 0;
  const g = { scavenges: 0, pauseMs: 0, promoted: 0, marks: 0, oldGrowth: 0 };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('MARK start')) on = true;
    else if (line.startsWith('MARK end')) {
      [answers, g.oldGrowth] = line.split(' ').slice(2).map(Number);
      on = false;
    } else if (on && line.includes('pause=')) {
      const f = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
      if (f.gc === 's') {
        g.scavenges++;
        g.pauseMs += Number(f.pause);
        g.promoted += Number(f.promoted);
      } else g.marks++;
    }
  }
  return { ...g, answers };
}

/** The allocating functions of the sampled objects, largest first. */
function topAllocators(file, count = 8) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const frames = new Map();
  const walk = (node) => {
    const f = node.callFrame;
    frames.set(
      node.id,
      `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`,
    );
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  const bytes = new Map();
  for (const s of profile.samples) {
    const k = frames.get(s.nodeId) ?? '(unknown)';
    bytes.set(k, (bytes.get(k) ?? 0) + s.size);
  }
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, count);
}

if (values.child) {
  await slice(values.child, values.out);
  process.exit(0);
}

const builds = benchBuilds(distDir);
const self = fileURLToPath(import.meta.url);
const rows = new Map(builds.map(([label]) => [label, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [label, dir] of round % 2 ? [...builds].reverse() : builds) {
    const sampleFile = values.sample ? `${values.sample}.${label}.${round}.heapprofile` : undefined;
    const args = [
      '-c',
      SERVER_CPU,
      process.execPath,
      '--expose-gc',
      '--trace-gc',
      '--trace-gc-nvp',
      self,
      '--child',
      dir,
    ];
    args.push(
      '--rate',
      String(rate),
      '--seconds',
      String(seconds),
      ...(sampleFile ? ['--out', sampleFile] : []),
    );
    const r = spawnSync('taskset', args, { encoding: 'latin1', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`${label}: child exited ${r.status}: ${r.stderr}`);
    const g = gcBetweenMarks(r.stdout);
    const perAnswer = g.promoted / g.answers;
    rows.get(label).push(perAnswer);
    console.log(
      `round ${round + 1} ${label.padEnd(14)} ${g.answers} answers: promoted ${perAnswer.toFixed(1)} B/answer, ` +
        `${g.scavenges} scavenges (mean pause ${(g.pauseMs / g.scavenges).toFixed(2)} ms), ${g.marks} mark-compacts` +
        // With no mark-compact in the slice, the old generation's growth is what was promoted plus
        // what was allocated there directly (maps, pretenured objects).
        (g.marks === 0 ? `; old generation grew ${(g.oldGrowth / g.answers).toFixed(1)} B/answer` : ''),
    );
    if (sampleFile)
      for (const [fn, b] of topAllocators(sampleFile))
        console.log(`   ${(b / 1024).toFixed(1).padStart(8)} KB ${fn}`);
  }
}
for (const [label, xs] of rows)
  console.log(
    `${label.padEnd(14)} promoted ${median(xs).toFixed(1)} B/answer (rounds: ${xs.map((x) => x.toFixed(1)).join(', ')})`,
  );
