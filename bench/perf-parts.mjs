// Where a Node server's CPU went, from a `perf record -g` of it (bench only): every sample
// charged to one part, scaled to µs per answer.
//   node bench/perf-parts.mjs FILE.data US_PER_ANSWER [--functions 30]
// US_PER_ANSWER is the server's CPU µs per answer over the recorded slice (as
// bench/uncached-ab.mjs prints it): each part gets its share of the samples times that.
// Samples on other threads than the busiest (V8's GC helpers, the compiler, libuv) are
// GC or "other threads". On the main thread, the first rule that matches, in this order:
// GC anywhere in the stack; an RSA bignum routine at the leaf (OpenSSL's assembly has no
// frame pointers, so no stack above it: on a server with keep-alive TLS and no handshakes
// only the signature verification does RSA); node's Sign/Verify native code in the stack
// (the rest of crypto.verify: hashing, EVP set-up, the key); the HMAC native; TLS ciphers and
// TLS record code; the kernel; JSON.parse and JSON.stringify natives; llhttp; libc's
// allocator and copies; else the nearest JavaScript frame (JIT code named by
// --perf-basic-prof): the server's own code, npm packages, or node's internals.
// Then the main thread again by the nearest JavaScript file, and by function.
import { execFileSync } from 'node:child_process';

const [file, usArg] = process.argv.slice(2);
const usPerAnswer = Number(usArg);
if (!file || !(usPerAnswer > 0)) {
  console.error('usage: node bench/perf-parts.mjs FILE.data US_PER_ANSWER [--functions 30]');
  process.exit(2);
}
const i = process.argv.indexOf('--functions');
const topFunctions = i > 0 ? Number(process.argv[i + 1]) : 30;

const script = execFileSync('perf', ['script', '-i', file, '-F', 'tid,ip,sym,dso'], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'ignore'],
});
const samples = script
  .split('\n\n')
  .filter((b) => b.trim())
  .map((b) => {
    const lines = b.trim().split('\n');
    return { tid: lines[0].trim(), frames: lines.slice(1).map((l) => l.trim()) };
  });

const GC =
  /v8::internal::(Heap::|Heap\b|Scavenger|ScavengerCollector|MarkCompact|MinorMarkCompact|Sweeper|Marking|ConcurrentMarking|IncrementalMarking|GCTracer|MemoryAllocator|Evacuat|PagedSpace|MarkingVisitor|LocalHeap::Safepoint)/;
const JS_FRAME = /JS:[*~^]?(\S*) (file:\/\/\S+|node:\S+)/;

/** `tw:` the server's dist, `npm:` a package, `bench:` a bench script, else node's own name. */
function place(url) {
  return url
    .replace(/^file:\/\/\/.*?\/node_modules\/((@[^/]+\/)?[^/]+)\/.*/, 'npm:$1')
    .replace(/^file:\/\/\/\S*?\/dist\//, 'tw:')
    .replace(/^file:\/\/\/\S*?\/bench\//, 'bench:')
    .replace(/:\d+:\d+$/, '');
}
function nearestJs(frames) {
  for (const f of frames) {
    const m = JS_FRAME.exec(f);
    if (m) return { file: place(m[2]), fn: `${m[1] || '(anonymous)'} ${place(m[2])}` };
  }
  return undefined;
}

function mainPart(frames) {
  const leaf = frames[0] ?? '';
  const top = frames.slice(0, 8);
  if (frames.some((f) => GC.test(f))) return 'GC (main thread)';
  if (/ (__)?(bn_|BN_|rsa|RSA|ossl_rsa|ossl_bn)/.test(leaf)) return 'RSA bignum';
  if (frames.some((f) => /node::crypto::(Verify|Sign|SignBase)/.test(f)))
    return 'crypto.verify, the rest (hash, EVP set-up, key)';
  if (frames.some((f) => f.includes('node::crypto::Hmac'))) return 'HMAC (native)';
  if (/ (aesni|_aesni|gcm|aes_|ghash|ChaCha|Poly1305)/.test(leaf)) return 'TLS cipher';
  if (leaf.includes('[kernel')) return 'kernel';
  if (top.some((f) => /node::crypto::TLSWrap|SSL_|ssl3_|tls1_|ssl_/.test(f))) return 'TLS (node, OpenSSL)';
  if (frames.slice(0, 6).some((f) => f.includes('JsonParser'))) return 'JSON.parse';
  if (frames.slice(0, 6).some((f) => f.includes('JsonStringifier'))) return 'JSON.stringify';
  if (leaf.includes('llhttp')) return 'HTTP parse (llhttp)';
  if (/ (malloc|_int_malloc|cfree|free|_int_free|__memmove|__memcpy|__memset|__strcmp)/.test(leaf))
    return 'libc (allocator, copies)';
  const js = nearestJs(frames);
  if (!js) return 'native, no JavaScript caller';
  return js.file.startsWith('node:') ? 'JavaScript: node internals' : 'JavaScript: the server (own, npm)';
}

const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
const byTid = new Map();
for (const s of samples) count(byTid, s.tid);
const mainTid = [...byTid].sort((a, b) => b[1] - a[1])[0]?.[0];
const parts = new Map();
const files = new Map();
const functions = new Map();
for (const { tid, frames } of samples) {
  if (tid !== mainTid) {
    count(parts, frames.some((f) => GC.test(f)) ? 'GC (helper threads)' : 'other threads');
    continue;
  }
  const part = mainPart(frames);
  count(parts, part);
  if (part === 'GC (main thread)') continue;
  const js = nearestJs(frames);
  count(files, js?.file ?? '(no JavaScript caller)');
  count(functions, js?.fn ?? '(no JavaScript caller)');
}
const us = (n) => ((n / samples.length) * usPerAnswer).toFixed(1).padStart(7);
const table = (map, limit = Infinity) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, n]) => `${us(n)} µs  ${k}`)
    .join('\n');
console.log(
  `${samples.length} samples (${byTid.get(mainTid)} on the main thread), ${usPerAnswer} µs per answer\n` +
    `${table(parts)}\n-- main thread, GC aside, by the nearest JavaScript file --\n${table(files, 25)}\n` +
    `-- main thread, GC aside, by the nearest JavaScript function --\n${table(functions, topFunctions)}`,
);
