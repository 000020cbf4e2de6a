// The listener behind the in-process benches (handler.bench.mjs, warm-up.bench.mjs): the real
// chain (service-account authenticator, group adder, cache), default access log to
// /dev/null and metrics; requests handed over as Node's server hands them.
import { getRequestListener } from '@hono/node-server';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { openSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Frozen, as the server's configuration hands the API audiences over (defaultApiAudiences). */
const API_AUDIENCES = Object.freeze([ISSUER]);

export async function build(dir) {
  const load = (rel) => import(pathToFileURL(resolve(dir, rel)).href);
  const { ServiceAccountAuthenticator } = await load('authn/serviceaccount/authenticator.js');
  const { withAuthenticatedGroup } = await load('authn/group-adder.js');
  const { cachedAuthenticator } = await load('authn/cached.js');
  const { StaticKeySource } = await load('keys/static.js');
  const { toVerificationKey } = await load('keys/parse.js');
  const { kubeKeyId } = await load('keys/kid.js');
  const { systemClock } = await load('clock.js');
  const { createApp, createListener } = await load('http/app.js');
  const { Metrics } = await load('observe/metrics.js');
  const { createLogger, batchedDestination } = await load('observe/log.js');
  const { signJwt } = await load('dev/sign.js');
  const pino = (await import('pino')).default;
  // The build's own stdout destination, on /dev/null; builds before batchedDestination
  // batched lines in a stock sonic-boom with these settings.
  const devNull = () =>
    batchedDestination
      ? batchedDestination(openSync('/dev/null', 'w'))
      : pino.destination({ dest: '/dev/null', sync: false, minLength: 3072, periodicFlush: 250 });
  return {
    load,
    /**
     * `options` adds to createListener's (e.g. an authorizer, to serve SubjectAccessReviews).
     * `tokens`: the tokens to serve, minted ahead (1,000 are minted here otherwise); `cacheMax`:
     * the token cache's bound (smaller than the pool cycled, every review is a miss).
     */
    make(privatePem, publicPem, options = {}, { tokens: minted, cacheMax = 10_000 } = {}) {
      const pub = createPublicKey(publicPem);
      const keySource = new StaticKeySource('bench', [toVerificationKey(pub, 'bench')]);
      const authenticator = cachedAuthenticator(
        withAuthenticatedGroup(
          new ServiceAccountAuthenticator({
            issuers: new Map([[ISSUER, keySource]]),
            legacy: 'reject',
            implicitAudiences: API_AUDIENCES,
            clock: systemClock,
          }),
        ),
        { ttlMs: 600_000, negativeTtlMs: 10_000, max: cacheMax, clock: systemClock },
      );
      const components = {
        authenticator,
        apiAudiences: API_AUDIENCES,
        metrics: new Metrics({ cacheStats: () => authenticator.stats() }),
        logger: createLogger('info', devNull()),
        readiness: () => [],
        maxRequestBytes: 1 << 20,
        ...options,
      };
      // A build from before the review listener served everything from its hono app.
      const listener = createListener
        ? createListener(components)
        : getRequestListener(createApp(components).fetch);
      const kid = kubeKeyId(pub);
      const key = createPrivateKey(privatePem);
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const tokens =
        minted ??
        Array.from({ length: 1000 }, (_, i) =>
          signJwt(
            { alg: 'RS256', kid },
            {
              aud: [ISSUER],
              exp,
              iat: exp - 3600,
              nbf: exp - 3600,
              iss: ISSUER,
              jti: randomUUID(),
              sub: `system:serviceaccount:team-${i % 97}:sa-${i}`,
              'kubernetes.io': {
                namespace: `team-${i % 97}`,
                serviceaccount: { name: `sa-${i}`, uid: randomUUID() },
                pod: { name: `pod-${i}`, uid: randomUUID() },
              },
            },
            key,
          ),
        );
      return { listener, tokens, keySource };
    },
  };
}

/** The kept-alive connection every request arrives on (the access line's caller is its address). */
const socket = { remoteAddress: '127.0.0.1', encrypted: true };

/**
 * One POST of `body` to `path` through a node request listener, in process: a stand-in for
 * IncomingMessage (a Readable of the body, with the headers and socket a listener reads)
 * and for ServerResponse (what a listener writes). Resolves with the status and body text.
 */
export function post(listener, path, body) {
  return new Promise((resolve) => {
    const req = new Readable({ read() {} });
    req.push(body);
    req.push(null);
    req.method = 'POST';
    req.url = path;
    req.headers = {
      host: '127.0.0.1',
      'content-type': 'application/json',
      'content-length': String(body.length),
    };
    req.rawHeaders = Object.entries(req.headers).flat();
    req.socket = socket;
    req.complete = false;
    req.once('end', () => (req.complete = true));
    const res = {
      statusCode: 200,
      headersSent: false,
      writableFinished: false,
      setHeader() {},
      writeHead(status) {
        this.statusCode = status;
        this.headersSent = true;
        return this;
      },
      end(chunk) {
        this.writableFinished = true;
        resolve({ status: this.statusCode, text: chunk === undefined ? '' : Buffer.from(chunk).toString() });
        return this;
      },
      on() {
        return this;
      },
      once() {
        return this;
      },
      destroy() {},
    };
    listener(req, res);
  });
}

/** `review(i)`: a TokenReview of the i-th token (cycled) through `listener`, in process. */
export function tokenReviews(listener, tokens) {
  const bodies = tokens.map((t) =>
    Buffer.from(
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t } }),
    ),
  );
  return (i) => post(listener, '/apis/authentication.k8s.io/v1/tokenreviews', bodies[i % bodies.length]);
}

/**
 * CPU µs per answer of each subject ({ label, review(i) }), 50 requests in flight as the HTTP
 * bench's connections, in interleaved rounds (order reversed every other round); each label's
 * per-round figures, for a median.
 */
export async function cpuPerAnswer(subjects, { seconds, rounds }) {
  const results = new Map(subjects.map((s) => [s.label, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? subjects : [...subjects].reverse();
    for (const s of order) {
      const cpu0 = process.cpuUsage();
      const end = performance.now() + seconds * 1000;
      let n = 0;
      while (performance.now() < end) {
        const batch = [];
        for (let j = 0; j < 50; j++) batch.push(s.review(n + j));
        await Promise.all(batch);
        n += 50;
      }
      const cpu = process.cpuUsage(cpu0);
      results.get(s.label).push((cpu.user + cpu.system) / n);
    }
  }
  return results;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A signing key pair for the bench's tokens, as PEM. */
export function benchKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

/** The builds to compare: this one, plus BENCH_ALT_DIST='label=/path/dist,…'. */
export function benchBuilds(distDir) {
  const builds = [['tokenwarden', distDir]];
  for (const spec of (process.env.BENCH_ALT_DIST ?? '').split(',').filter(Boolean)) {
    const [label, dir] = spec.split('=');
    builds.push([label, resolve(dir)]);
  }
  return builds;
}

/**
 * What the handler benches share: `--seconds` and `--rounds`, a signing key pair, and the
 * builds to compare (this one, plus BENCH_ALT_DIST='label=/path/dist,…').
 */
export function handlerBenchSetup(distDir) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' } },
  });
  return { values, ...benchKeys(), builds: benchBuilds(distDir) };
}
