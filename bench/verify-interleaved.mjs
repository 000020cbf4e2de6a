// In-process uncached verification, tightly interleaved (bench only):
//   taskset -c 1 node bench/verify-interleaved.mjs [--alg RS256|ES256] [--rounds 300]
// ServiceAccountAuthenticator.authenticateTokenNow of this build (and of BENCH_ALT_DIST='label=/path/dist,…')
// against a bare crypto.verify (key imported once, signing input and signature decoded ahead),
// fast-jwt without cache, and a "minimal" verifier that only splits, decodes and parses the
// payload before the same crypto.verify (no check at all: what any JWT verifier pays). Each
// takes 100 tokens in turn, order reversed every round, so other processes on the machine
// weigh on all alike; CPU µs per token of this process and the ratio to the bare loop.
import { verify } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createVerifier } from 'fast-jwt';
import { distDir } from './lib/dist.mjs';
import { interleavedCpu } from './lib/interleave.mjs';
import { saTokens } from './lib/sa-tokens.mjs';

const { values } = parseArgs({
  options: { alg: { type: 'string', default: 'RS256' }, rounds: { type: 'string', default: '300' } },
});
const alg = values.alg;
const builds = [['tokenwarden', distDir]];
for (const spec of (process.env.BENCH_ALT_DIST ?? '').split(',').filter(Boolean)) {
  const [label, dir] = spec.split('=');
  builds.push([`tokenwarden (${label})`, resolve(dir)]);
}
const loader = (dir) => (rel) => import(pathToFileURL(resolve(dir, rel)).href);
const { tokens, publicKey, issuer } = await saTokens(loader(distDir), alg);
const audiences = [issuer];

const subjects = {};
for (const [label, dir] of builds) {
  const load = loader(dir);
  const { ServiceAccountAuthenticator } = await load('authn/serviceaccount/authenticator.js');
  const { StaticKeySource } = await load('keys/static.js');
  const { toVerificationKey } = await load('keys/parse.js');
  const { systemClock } = await load('clock.js');
  const sa = new ServiceAccountAuthenticator({
    issuers: new Map([[issuer, new StaticKeySource('bench', [toVerificationKey(publicKey, 'bench')])]]),
    legacy: 'reject',
    implicitAudiences: [issuer],
    clock: systemClock,
  });
  // As the review path asks it: the answer at once when the keys are at hand (a build without
  // authenticateTokenNow is awaited).
  subjects[label] = sa.authenticateTokenNow
    ? async (i) => {
        const r = sa.authenticateTokenNow(tokens[i], audiences);
        return (r instanceof Promise ? await r : r).outcome === 'authenticated';
      }
    : async (i) => (await sa.authenticateToken(tokens[i], audiences)).outcome === 'authenticated';
}
const keyArg = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey;
const pre = tokens.map((t) => {
  const dot = t.lastIndexOf('.');
  return { data: Buffer.from(t.slice(0, dot), 'latin1'), sig: Buffer.from(t.slice(dot + 1), 'base64url') };
});
subjects['crypto.verify (bare)'] = async (i) => verify('sha256', pre[i].data, keyArg, pre[i].sig);
const fast = createVerifier({
  key: publicKey.export({ type: 'spki', format: 'pem' }),
  algorithms: [alg],
  allowedIss: issuer,
  allowedAud: issuer,
  cache: false,
});
subjects['fast-jwt (no cache)'] = async (i) => !!fast(tokens[i]);
subjects['minimal (split, decode, parse)'] = async (i) => {
  const t = tokens[i];
  const a = t.indexOf('.');
  const b = t.indexOf('.', a + 1);
  const claims = JSON.parse(Buffer.from(t.slice(a + 1, b), 'base64url').toString('utf8'));
  const sig = Buffer.from(t.slice(b + 1), 'base64url');
  return verify('sha256', Buffer.from(t.slice(0, b), 'latin1'), keyArg, sig) && claims.iss === issuer;
};

const names = Object.keys(subjects);
for (const n of names) if (!(await subjects[n](0))) throw new Error(`${n} refuses a valid ${alg} token`);
const BATCH = 100;
const rounds = Number(values.rounds);
const cpu = await interleavedCpu(names, rounds, async (n, round) => {
  const base = (round * BATCH) % tokens.length;
  for (let k = 0; k < BATCH; k++) await subjects[n]((base + k) % tokens.length);
});
const per = (n) => cpu[n] / (rounds * BATCH);
const bare = per('crypto.verify (bare)');
console.log(`${alg}, ${rounds} rounds of ${BATCH} tokens each, CPU µs per token:`);
for (const n of names)
  console.log(
    `${n.padEnd(34)} ${per(n).toFixed(2).padStart(8)} µs  ${((100 * bare) / per(n)).toFixed(1).padStart(5)} %`,
  );
