// What the bare crypto.verify loop has that a verifier must make per token, in one loop (bench only):
//   taskset -c 1 node bench/verify-forms.mjs [--alg RS256|ES256] [--rounds 200]
// The bare loop of verify.bench.mjs verifies a signing input and a signature decoded ahead of
// time. Each row here is that loop plus one conversion a verifier makes per token (the signing
// input to bytes, the signature from base64url, the payload decoded and parsed), or another
// spelling of the same crypto.verify call; "+ µs" is its cost next to the RSA or ECDSA work,
// which is more than the same step costs in a loop of its own. Rows take 100 tokens in turn,
// order reversed every round; CPU µs per token of this process.
import { createVerify, verify } from 'node:crypto';
import { parseArgs } from 'node:util';
import { importDist } from './lib/dist.mjs';
import { interleavedCpu } from './lib/interleave.mjs';
import { saTokens } from './lib/sa-tokens.mjs';

const { values } = parseArgs({
  options: { alg: { type: 'string', default: 'RS256' }, rounds: { type: 'string', default: '200' } },
});
const alg = values.alg;
const { tokens, publicKey } = await saTokens(importDist, alg);
const keyArg = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey;
const pre = tokens.map((t) => {
  const a = t.indexOf('.');
  const b = t.lastIndexOf('.');
  return {
    input: t.slice(0, b),
    data: Buffer.from(t.slice(0, b), 'latin1'),
    sigText: t.slice(b + 1),
    sig: Buffer.from(t.slice(b + 1), 'base64url'),
    payload: t.slice(a + 1, b),
    text: Buffer.from(t.slice(a + 1, b), 'base64url').toString('utf8'),
  };
});
const scratch = Buffer.allocUnsafe(16 * 1024);
const sigScratch = Buffer.allocUnsafe(1024);
let sink;
const bare = (p, data = p.data, sig = p.sig) => verify('sha256', data, keyArg, sig);

const rows = {
  'bare (all decoded ahead)': (p) => bare(p),
  'input → new Buffer (latin1)': (p) => bare(p, Buffer.from(p.input, 'latin1')),
  'input → reused buffer (latin1)': (p) => bare(p, scratch.subarray(0, scratch.write(p.input, 0, 'latin1'))),
  'input as a string': (p) => bare(p, p.input),
  'signature → new Buffer': (p) => bare(p, p.data, Buffer.from(p.sigText, 'base64url')),
  'signature → reused buffer': (p) =>
    bare(p, p.data, sigScratch.subarray(0, sigScratch.write(p.sigText, 0, 'base64url'))),
  'payload → text (reused buffer)': (p) => {
    sink = scratch.toString('utf8', 0, scratch.write(p.payload, 0, 'base64url'));
    return bare(p);
  },
  'JSON.parse of the payload': (p) => {
    sink = JSON.parse(p.text);
    return bare(p);
  },
  'algorithm SHA256': (p) => verify('SHA256', p.data, keyArg, p.sig),
  'algorithm null': (p) => verify(null, p.data, keyArg, p.sig),
  'createVerify().update().verify()': (p) => createVerify('sha256').update(p.data).verify(keyArg, p.sig),
  ...(alg === 'ES256'
    ? {}
    : { 'key as { key }': (p) => verify('sha256', p.data, { key: publicKey }, p.sig) }),
};

const names = Object.keys(rows);
for (const n of names) if (!rows[n](pre[0])) throw new Error(`${n} refuses a valid ${alg} token`);
const BATCH = 100;
const rounds = Number(values.rounds);
const cpu = await interleavedCpu(names, rounds, (n, round) => {
  const row = rows[n];
  const base = (round * BATCH) % tokens.length;
  for (let k = 0; k < BATCH; k++) row(pre[(base + k) % tokens.length]);
});
if (sink === undefined) throw new Error('nothing decoded');
const per = (n) => cpu[n] / (rounds * BATCH);
console.log(`${alg}, ${rounds} rounds of ${BATCH} tokens each, CPU µs per token:`);
for (const n of names)
  console.log(
    `${n.padEnd(34)} ${per(n).toFixed(2).padStart(8)} µs  + ${(per(n) - per(names[0])).toFixed(2).padStart(5)}`,
  );
