// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by
// where the code lives (bench only).
import { readFileSync } from 'node:fs';

function where(url) {
  if (!url) return 'native/V8';
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const d = /\/dist\/(.*)$/.exec(url);
  if (d) return `tokenwarden ${d[1]}`;
  const b = /\/bench\/(.*)$/.exec(url);
  if (b) return `bench ${b[1]}`;
  return url;
}

export function summarize(file, top = 25) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const us = dt[i] ?? 0;
    total += us;
    self.set(n.id, (self.get(n.id) ?? 0) + us);
  }
  const byFn = new Map();
  const byPlace = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const name = cf.functionName || '(anonymous)';
    const place = where(cf.url);
    const key = `${name} ${place}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const pk = ['(idle)', '(garbage collector)', '(program)'].includes(name) ? name : place;
    byPlace.set(pk, (byPlace.get(pk) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
  const sort = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    functions: sort(byFn)
      .slice(0, top)
      .map(([k, us]) => `${pct(us).padStart(6)}  ${k}`),
    places: sort(byPlace)
      .slice(0, top)
      .map(([k, us]) => `${pct(us).padStart(6)}  ${k}`),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarize(process.argv[2], Number(process.argv[3] ?? 30));
  console.log(
    `total ${s.totalMs.toFixed(0)} ms\n-- by place --\n${s.places.join('\n')}\n-- by function (self) --\n${s.functions.join('\n')}`,
  );
}
