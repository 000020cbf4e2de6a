// Bench material, made outside any timing: signing keys, a serving certificate, the
// config the peers and ceilings read, and pools of pre-minted tokens. Keys and tokens are
// kept in a cache directory between runs (RS256 minting costs ~0.4 ms a token) and
// re-minted when fewer than MIN_HOURS_LEFT hours remain before they expire.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { importDist } from './dist.mjs';

const { createCertificateAuthority, issueCertificate } = await importDist('dev/certs.js');
const { kubeKeyId } = await importDist('keys/kid.js');

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const ALGS = ['RS256', 'ES256'];
const LIFETIME_S = 24 * 3600;
const MIN_HOURS_LEFT = 3;
/** The uncached pool is minted at least this big, so every mode and bench shares one pool. */
const UNCACHED_POOL_MIN = 120_000;

export const cacheDir = process.env.BENCH_CACHE_DIR ?? join(tmpdir(), 'tokenwarden-bench-cache');

function signingKey(alg) {
  const file = join(cacheDir, `${alg}.key.pem`);
  if (!existsSync(file)) {
    const { privateKey } =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const pem = readFileSync(file, 'utf8');
  const pub = createPublicKey(pem);
  return { alg, pem, kid: kubeKeyId(pub), publicPem: pub.export({ type: 'spki', format: 'pem' }) };
}

async function mint(key, count, start, exp, workers) {
  const per = Math.ceil(count / workers);
  const parts = [];
  for (let w = 0; w < workers && w * per < count; w++) {
    const n = Math.min(per, count - w * per);
    parts.push(
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL('./mint-worker.mjs', import.meta.url), {
          workerData: {
            pem: key.pem,
            alg: key.alg,
            kid: key.kid,
            issuer: ISSUER,
            count: n,
            start: start + w * per,
            exp,
          },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
    );
  }
  return (await Promise.all(parts)).join('\n').split('\n');
}

/** `count` distinct tokens of `alg` named `pool`, from the cache when still fresh enough. */
async function tokenPool(key, pool, count, log) {
  const file = join(cacheDir, `${key.alg}.${pool}.tokens`);
  const meta = join(cacheDir, `${key.alg}.${pool}.json`);
  if (existsSync(file) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.kid === key.kid && m.count >= count && m.exp * 1000 - Date.now() > MIN_HOURS_LEFT * 3600_000) {
      return readFileSync(file, 'utf8').split('\n').slice(0, count);
    }
  }
  const wanted = count;
  if (pool === 'uncached') count = Math.max(count, UNCACHED_POOL_MIN);
  const started = Date.now();
  const exp = Math.floor(Date.now() / 1000) + LIFETIME_S;
  // Pools never share a token: each has its own offset in the subjects and fresh jti/pod uids.
  const tokens = await mint(
    key,
    count,
    pool === 'cached' ? 0 : 1_000_000,
    exp,
    Math.max(1, availableParallelism()),
  );
  writeFileSync(file, tokens.join('\n'));
  writeFileSync(meta, JSON.stringify({ kid: key.kid, count, exp }));
  log(
    `minted ${count} ${key.alg} tokens for the ${pool} pool in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return tokens.slice(0, wanted);
}

/**
 * Everything a run needs. `uncachedCount` distinct tokens per algorithm (plus the
 * 1,000-token cached pool); the work directory gets the certificate, key files and config.
 */
export async function prepare({
  workDir,
  uncachedCount,
  cachedCount = 1000,
  cacheSize = 10_000,
  cacheTtlMs = 120_000,
  log = console.error,
}) {
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  mkdirSync(workDir, { recursive: true });
  const keys = ALGS.map(signingKey);

  const ca = await createCertificateAuthority('tokenwarden-bench-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'tokenwarden-bench',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const certFile = join(workDir, 'tls.crt');
  const keyFile = join(workDir, 'tls.key');
  writeFileSync(certFile, `${leaf.cert}${ca.cert}`);
  writeFileSync(keyFile, leaf.key, { mode: 0o600 });
  const publicKeysFile = join(workDir, 'sa.pub.pem');
  writeFileSync(publicKeysFile, keys.map((k) => k.publicPem).join(''));

  const configFile = join(workDir, 'peer-config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      issuer: ISSUER,
      certFile,
      keyFile,
      cacheSize,
      cacheTtlMs,
      keys: keys.map((k) => ({ kid: k.kid, alg: k.alg, pem: k.publicPem })),
    }),
  );

  const pools = {};
  for (const key of keys) {
    pools[key.alg] = {
      cached: await tokenPool(key, 'cached', cachedCount, log),
      uncached: uncachedCount > 0 ? await tokenPool(key, 'uncached', uncachedCount, log) : [],
    };
  }
  return {
    issuer: ISSUER,
    certFile,
    keyFile,
    caFile: certFile,
    publicKeysFile,
    configFile,
    keys,
    pools,
    cacheSize,
    cacheTtlMs,
  };
}

/** A copy of `token` whose signature no longer verifies (one signature byte flipped). */
export function breakSignature(token) {
  const dot = token.lastIndexOf('.');
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return `${token.slice(0, dot + 1)}${sig.toString('base64url')}`;
}
