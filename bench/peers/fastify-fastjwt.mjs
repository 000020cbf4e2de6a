// Bench stand-in (never shipped): fastify + fast-jwt with its cache, answering TokenReview
// with the same semantics as tokenwarden's cached path: signature, iss, aud, exp.
// Usage: node bench/peers/fastify-fastjwt.mjs --config CONFIG.json --port N
import Fastify from 'fastify';
import { createVerifier } from 'fast-jwt';
import {
  REVIEW_PATH,
  authenticatedReview,
  loadBenchConfig,
  peekHeader,
  rejectedReview,
} from '../lib/review.mjs';

const config = loadBenchConfig();
const audiences = [config.issuer];

// One verifier per key (fast-jwt binds a verifier to one key), each with fast-jwt's own LRU cache.
const verifiers = new Map(
  config.keys.map((k) => [
    k.kid,
    createVerifier({
      key: k.pem,
      algorithms: [k.alg],
      allowedIss: config.issuer,
      allowedAud: config.issuer,
      requiredClaims: ['exp', 'iss', 'aud'],
      cache: config.cacheSize,
      cacheTTL: config.cacheTtlMs,
    }),
  ]),
);

const app = Fastify({ https: { cert: config.cert, key: config.key }, logger: false });

app.post(REVIEW_PATH, async (request, reply) => {
  const token = request.body?.spec?.token;
  if (typeof token !== 'string' || token === '') {
    reply.code(400);
    return { kind: 'Status', status: 'Failure', message: 'token is required', code: 400 };
  }
  const verify = verifiers.get(peekHeader(token)?.kid);
  if (!verify) return rejectedReview('invalid bearer token');
  let claims;
  try {
    claims = verify(token);
  } catch {
    return rejectedReview('invalid bearer token');
  }
  return authenticatedReview(claims, audiences);
});

await app.listen({ port: config.port, host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
