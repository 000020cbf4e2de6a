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

/**
 * `sinceUs` (the monotonic clock in µs, as `process.hrtime.bigint() / 1000n` reads it in any
 * process on the machine: V8 stamps samples with the same clock) leaves out the samples
 * taken before it, e.g. a server's start-up and warm-up.
 */
export function summarize(file, top = 25, sinceUs = 0) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  let total = 0;
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const us = dt[i] ?? 0;
    at += us;
    if (at < sinceUs) continue;
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

/**
 * Where a cached answer's CPU goes, part by part: each sample is charged to the first frame,
 * from the leaf up, whose code belongs to a part (V8 natives, events and microtask plumbing
 * are charged to whoever called them). Only samples inside [fromUs, toUs] (the profile's
 * monotonic clock, CLOCK_MONOTONIC on Linux, as process.hrtime) count: the timed load alone,
 * without start-up and warm-up.
 */
const PARTS = [
  ['GC', (name) => name === '(garbage collector)'],
  ['idle', (name) => name === '(idle)'],
  ['HMAC cache key', (_n, url) => url === 'node:internal/crypto/hash'],
  ['cache lookup', (_n, url) => /node_modules\/lru-cache\/|\/authn\/cached\.js$/.test(url)],
  [
    'access log (pino, redact, write)',
    (_n, url) =>
      /node_modules\/(pino|@pinojs|sonic-boom|fast-redact|quick-format|atomic-sleep|on-exit)/.test(url),
  ],
  ['metrics (prom-client)', (_n, url) => /node_modules\/prom-client\/|\/observe\/metrics\.js$/.test(url)],
  ['JSON depth scan', (_n, url) => /\/http\/json-depth\.js$/.test(url)],
  [
    'decode (TokenReview, bearer)',
    (_n, url) => /\/api\/tokenreview\.js$|\/authn\/(bearer|audiences)\.js$/.test(url),
  ],
  ['encode (cached bytes)', (_n, url) => /\/http\/review-bytes\.js$/.test(url)],
  [
    'request id, caller',
    (_n, url) => /\/http\/(middleware\/request-identity|request-identity|request-id)\.js$/.test(url),
  ],
  [
    'review listener (path, dispatch, write)',
    (_n, url) => /\/http\/(review-listener|review-routes|unhandled)\.js$/.test(url),
  ],
  [
    'review route (reviews.js, use case)',
    (_n, url) => /\/http\/reviews\.js$|\/review\/token\.js$|\/http\/respond\.js$/.test(url),
  ],
  [
    'body read',
    (_n, url) => /\/http\/body\.js$|node:internal\/streams\/readable|node:_http_incoming/.test(url),
  ],
  ['app middleware (app.js)', (_n, url) => /\/http\/app\.js$|\/ceilings\//.test(url)],
  ['hono (router, context)', (_n, url) => /node_modules\/hono\//.test(url)],
  ['@hono/node-server (Request, Response)', (_n, url) => /node_modules\/@hono\/node-server\//.test(url)],
  [
    'response write (http, TLS, socket)',
    (_n, url) =>
      /node:_http_outgoing|node:_http_server|node:internal\/stream_base_commons|node:net|node:_tls|node:internal\/streams\/writable/.test(
        url,
      ),
  ],
  ['HTTP parse (node)', (_n, url) => /node:_http_common/.test(url)],
  ['URL', (_n, url) => /node:internal\/url/.test(url)],
];
const TRANSPARENT = (url) =>
  !url || /^node:(events|internal\/process\/task_queues|internal\/timers|timers)$/.test(url);

export function parts(file, fromUs = -Infinity, toUs = Infinity) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map();
  const classify = (id) => {
    if (partOf.has(id)) return partOf.get(id);
    const n = byId.get(id);
    const { functionName: name, url } = n.callFrame;
    let part;
    for (const [label, test] of PARTS) {
      if (test(name, url)) {
        part = label;
        break;
      }
    }
    if (!part) {
      const up = parent.get(id);
      const root = up === undefined || byId.get(up).callFrame.functionName === '(root)';
      part =
        TRANSPARENT(url) && !root
          ? classify(up)
          : root
            ? 'other (native, no JS caller)'
            : `other: ${where(url)}`;
    }
    partOf.set(id, part);
    return part;
  };
  const totals = new Map();
  let t = p.startTime;
  let counted = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const us = p.timeDeltas[i + 1] ?? 0;
    const part = classify(p.samples[i]);
    totals.set(part, (totals.get(part) ?? 0) + us);
    counted += us;
  }
  return { totals, counted };
}
