import { generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:https';
import { promisify } from 'node:util';
import { cachedAuthenticator } from '../authn/cached.js';
import { withAuthenticatedGroup } from '../authn/group-adder.js';
import { MAX_SIGNATURE_BYTES } from '../authn/jwt/gate.js';
import { verifySignature } from '../authn/jwt/verify.js';
import { ServiceAccountAuthenticator } from '../authn/serviceaccount/authenticator.js';
import type { Clock } from '../clock.js';
import { signJwt } from '../dev/sign.js';
import { createListener } from '../http/app.js';
import { startServer, type TlsFiles, type TlsMaterial } from '../http/server.js';
import type { Algorithm, KeySource } from '../keys/key-source.js';
import { kubeKeyId } from '../keys/kid.js';
import { toVerificationKey } from '../keys/parse.js';
import { StaticKeySource } from '../keys/static.js';
import { Metrics } from '../observe/metrics.js';
import { createLogger } from '../observe/log.js';

/** An issuer no real token can name: `.invalid` is reserved (RFC 2606). */
const WARM_UP_ISSUER = 'https://warm-up.tokenwarden.invalid';
/** Distinct throwaway tokens per algorithm: the first request of each is a full verification, the rest cache hits. */
const TOKENS_PER_ALG = 32;
/** Connections the warm-up client keeps open, as a webhook client does. */
const CONNECTIONS = 4;

export interface WarmUpOptions {
  /** Reviews sent, in total; a bounded count, never a duration. */
  readonly requests: number;
  /** The serving pair of the real listener: the throwaway one serves it too, so the same TLS code warms. */
  readonly tls: TlsFiles | TlsMaterial;
  /** The real key sources: each key does its first (always failing) verification now. */
  readonly keySources: readonly KeySource[];
  readonly maxRequestBytes: number;
  readonly logLevel: string;
  readonly clock: Clock;
}

export interface WarmUpReport {
  readonly requests: number;
  /** Answers that came back authenticated: the whole path ran, not an early refusal. */
  readonly authenticated: number;
  readonly ms: number;
}

const keyPair = promisify(generateKeyPair);

const ECDSA_SIGNATURE_BYTES: Partial<Record<Algorithm, number>> = { ES256: 64, ES384: 96, ES512: 132 };

function throwawayTokens(alg: Algorithm, privateKey: KeyObject, kid: string, nowS: number): string[] {
  return Array.from({ length: TOKENS_PER_ALG }, (_, i) =>
    signJwt(
      { alg, kid },
      {
        aud: [WARM_UP_ISSUER],
        exp: nowS + 600,
        iat: nowS,
        nbf: nowS,
        iss: WARM_UP_ISSUER,
        jti: randomUUID(),
        sub: `system:serviceaccount:warm-up:sa-${i}`,
        'kubernetes.io': {
          namespace: 'warm-up',
          serviceaccount: { name: `sa-${i}`, uid: randomUUID() },
          pod: { name: `pod-${i}`, uid: randomUUID() },
        },
      },
      privateKey,
    ),
  );
}

/**
 * OpenSSL builds a key's Montgomery context on its first use: pay that now with a
 * signature that cannot verify (all zero bytes), so the first real token does not.
 */
function firstUseOfRealKeys(sources: readonly KeySource[]): void {
  const data = Buffer.from('tokenwarden warm-up');
  for (const source of sources) {
    for (const key of source.snapshot()?.keys ?? []) {
      const details = key.key.asymmetricKeyDetails;
      // A signature of the wrong length is refused before any arithmetic: use the key's own length.
      const rsaBytes = details?.modulusLength === undefined ? 0 : Math.ceil(details.modulusLength / 8);
      for (const alg of key.algorithms) {
        const length = alg.startsWith('ES') ? ECDSA_SIGNATURE_BYTES[alg] : rsaBytes;
        if (length === undefined || length === 0 || length > MAX_SIGNATURE_BYTES) continue;
        verifySignature(alg, data, Buffer.alloc(length), key);
      }
    }
  }
}

/**
 * A fresh process answers slowly until V8 has optimised the request path (body read,
 * JSON, the gate, the signature check, the cache, encoding, logging, metrics) and TLS has
 * warmed. Before the real listener opens, this sends `requests` TokenReviews over real
 * HTTPS connections to a throwaway listener on 127.0.0.1, serving an app built by the same
 * code with throwaway keys for an issuer no real token can name, its own metrics and a
 * discarding logger: the same functions run hot, and nothing of it is accepted, counted or
 * logged as real. Resolves with what it did.
 *
 * What warms (bench/warm-up.bench.mjs): the JIT of the request path, and each key's first
 * verification; TLS session set-up is per connection and cannot be done ahead.
 */
export async function warmUp(options: WarmUpOptions): Promise<WarmUpReport> {
  const started = performance.now();
  firstUseOfRealKeys(options.keySources);
  const [rsa, ec] = await Promise.all([
    keyPair('rsa', { modulusLength: 2048 }),
    keyPair('ec', { namedCurve: 'P-256' }),
  ]);
  const nowS = Math.floor(options.clock.now() / 1000);
  const tokens = [
    ...throwawayTokens('RS256', rsa.privateKey, kubeKeyId(rsa.publicKey), nowS),
    ...throwawayTokens('ES256', ec.privateKey, kubeKeyId(ec.publicKey), nowS),
  ];
  const keys = new StaticKeySource('warm-up', [
    toVerificationKey(rsa.publicKey, 'warm-up'),
    toVerificationKey(ec.publicKey, 'warm-up'),
  ]);
  const authenticator = cachedAuthenticator(
    withAuthenticatedGroup(
      new ServiceAccountAuthenticator({
        issuers: new Map([[WARM_UP_ISSUER, keys]]),
        legacy: 'reject',
        implicitAudiences: [WARM_UP_ISSUER],
        clock: options.clock,
      }),
    ),
    { ttlMs: 600_000, negativeTtlMs: 10_000, max: tokens.length, clock: options.clock },
  );
  const discard = createLogger(options.logLevel, { write: () => undefined });
  const listener = createListener({
    authenticator,
    apiAudiences: [WARM_UP_ISSUER],
    metrics: new Metrics({ processMetrics: false }),
    logger: discard,
    readiness: () => [],
    maxRequestBytes: options.maxRequestBytes,
  });
  const server = await startServer({
    listener: { request: listener },
    host: '127.0.0.1',
    port: 0,
    tls: options.tls,
    logger: discard,
    exclusive: true,
  });
  // Our own listener, just opened on loopback: nothing secret travels, so its name is not checked.
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, rejectUnauthorized: false });
  let sent = 0;
  let authenticated = 0;
  try {
    const lane = async () => {
      while (sent < options.requests)
        if (await postTokenReview(agent, server.port, tokens[sent++ % tokens.length]!)) authenticated++;
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  } finally {
    agent.destroy();
    await server.close(1_000);
  }
  return { requests: sent, authenticated, ms: Math.round(performance.now() - started) };
}

/**
 * One TokenReview over `agent` to 127.0.0.1:`port`; resolves with whether the answer was
 * 200 and authenticated, false on any failure (bench/warm-up.bench.mjs sends its own with it).
 */
export function postTokenReview(agent: Agent, port: number, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const body = JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/tokenreviews',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve(res.statusCode === 200 && text.includes('"authenticated":true')));
        res.on('error', () => resolve(false));
      },
    );
    req.on('error', () => resolve(false));
    req.end(body);
  });
}
