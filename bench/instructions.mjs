// Instructions per TokenReview in process, counted by valgrind's cachegrind (bench only): a
// measure no other process on a shared machine can move, for before/after comparisons of
// small changes that timing cannot resolve here (docs/benchmarks.md).
//   node bench/instructions.mjs [--scenario uncached|cached] [--from 8000] [--to 11000] [--functions 0]
// Each build (this one; TOKENWARDEN_DIST, BENCH_ALT_DIST='label=/path/dist,…' as the handler
// benches) serves reviews through the listener of bench/lib/handler-app.mjs, the real chain,
// access log and metrics, under `valgrind --tool=cachegrind` with `node --predictable` (no
// background compiler or GC threads; two invocations of one build agreed to within 300
// instructions per review). Each build runs twice, for --from and for --to reviews; the
// difference divided by the reviews between is one review's cost once start-up and most of
// V8's compiling are over. uncached: 1,000 tokens cycled through a cache of 300, every review
// a miss; cached: a cache of 10,000, every review a hit.
// Compiling and full garbage collections land in one window or another as they fall (a few
// thousand instructions per review either way), so each build is also shown without them:
// 'steady' leaves out V8's compilers and mark-compact, and is the figure to compare.
// --functions K prints the K functions whose count moved most between the two runs.
// Read with care: valgrind hides SHA-NI, so SHA-256 is counted as its AVX2 code (about four
// times what it costs natively), and an instruction count sees no cache miss. Compare builds,
// not unlike parts; needs valgrind (Debian package).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { distDir } from './lib/dist.mjs';
import { benchBuilds, benchKeys, build, tokenReviews } from './lib/handler-app.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'uncached' },
    from: { type: 'string', default: '8000' },
    to: { type: 'string', default: '11000' },
    functions: { type: 'string', default: '0' },
    child: { type: 'boolean', default: false },
    dist: { type: 'string' },
    input: { type: 'string' },
    count: { type: 'string' },
  },
});
const CACHE_MAX = { uncached: 300, cached: 10_000 };
/** V8's compilers and its mark-compact collector: work that falls in one window or another. */
const UNSTEADY =
  /v8::internal::(compiler|maglev|baseline)::|Compiler::|Runtime_Compile|MarkCompact|Marking|Sweeper/;

if (values.child) {
  // Under valgrind: `count` reviews of the tokens in `input`, 50 in flight, each checked.
  const { privatePem, publicPem, tokens } = JSON.parse(readFileSync(values.input, 'utf8'));
  const { listener } = (await build(values.dist)).make(
    privatePem,
    publicPem,
    {},
    { tokens, cacheMax: CACHE_MAX[values.scenario] },
  );
  const review = tokenReviews(listener, tokens);
  const count = Number(values.count);
  for (let n = 0; n < count; n += 50) {
    const batch = [];
    for (let j = 0; j < 50; j++) batch.push(review(n + j));
    for (const { text } of await Promise.all(batch))
      if (!text.includes('"authenticated":true')) throw new Error(`not authenticated: ${text}`);
  }
} else {
  if (!(values.scenario in CACHE_MAX)) throw new Error('--scenario is uncached or cached');
  const from = Number(values.from);
  const to = Number(values.to);
  const work = mkdtempSync(join(tmpdir(), 'tokenwarden-instructions-'));
  try {
    const input = join(work, 'tokens.json');
    const { privatePem, publicPem } = benchKeys();
    const { tokens } = (await build(distDir)).make(privatePem, publicPem);
    writeFileSync(input, JSON.stringify({ privatePem, publicPem, tokens }));
    const self = fileURLToPath(import.meta.url);
    const counted = (dist, count, out) =>
      new Promise((resolve, reject) => {
        const args = ['--tool=cachegrind', '--cache-sim=no', `--cachegrind-out-file=${out}`];
        const node = ['--predictable', self, '--child', '--dist', dist, '--input', input];
        const child = spawn(
          'valgrind',
          [...args, process.execPath, ...node, '--scenario', values.scenario, '--count', String(count)],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`valgrind exited ${code}: ${stderr.slice(-2000)}`)),
        );
      });
    console.log(
      `${values.scenario} TokenReview, instructions per review between ${from} and ${to} reviews:` +
        ' total, steady (without compiling and mark-compact)',
    );
    for (const [label, dir] of benchBuilds(distDir)) {
      const [a, b] = [join(work, `${label}.a`), join(work, `${label}.b`)];
      // The two runs of a build side by side: on a 2-CPU machine, one each.
      await Promise.all([counted(dir, from, a), counted(dir, to, b)]);
      const rows = functionRows(a, b, join(work, `${label}.diff`), to - from);
      const total = rows.reduce((sum, [n]) => sum + n, 0);
      const steady = rows.reduce((sum, [n, name]) => (UNSTEADY.test(name) ? sum : sum + n), 0);
      console.log(`${label.padEnd(14)} ${Math.round(total)} ${Math.round(steady)}`);
      rows.sort((x, y) => Math.abs(y[0]) - Math.abs(x[0]));
      for (const [n, name] of rows.slice(0, Number(values.functions)))
        console.log(`  ${String(Math.round(n)).padStart(8)}  ${name.slice(0, 140)}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** [instructions per review, function] for every function whose count moved from run `a` to run `b`. */
function functionRows(a, b, diff, reviews) {
  writeFileSync(diff, execFileSync('cg_diff', [a, b], { maxBuffer: 1 << 28 }));
  const text = execFileSync('cg_annotate', ['--threshold=0', '--auto=no', diff], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(-?[\d,]+)\s+\(\s*-?[\d.]+%\)\s+(.+)$/.exec(line);
    if (m && !m[2].includes('PROGRAM TOTALS')) rows.push([Number(m[1].replaceAll(',', '')) / reviews, m[2]]);
  }
  return rows;
}
