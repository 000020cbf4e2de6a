// Shared by the bench peers and ceilings (never shipped): reading the bench config and
// building the TokenReview answer that tokenwarden gives for a bound service-account token.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';

/**
 * `--config FILE --port N` → { issuer, cert, key, keys: [{ kid, alg, pem, key }], cacheSize, cacheTtlMs, port }.
 * The config is written by bench/lib/setup.mjs.
 */
export function loadBenchConfig(argv = process.argv.slice(2)) {
  const arg = (name) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= argv.length) throw new Error(`missing --${name}`);
    return argv[i + 1];
  };
  const config = JSON.parse(readFileSync(arg('config'), 'utf8'));
  return {
    ...config,
    port: Number(arg('port')),
    cert: readFileSync(config.certFile, 'utf8'),
    key: readFileSync(config.keyFile, 'utf8'),
    keys: config.keys.map((k) => ({ ...k, key: createPublicKey(k.pem) })),
  };
}

const ALL_SERVICE_ACCOUNTS = 'system:serviceaccounts';

/**
 * What tokenwarden answers for a valid bound token (claims already verified): username,
 * uid, groups with system:authenticated, the pod and credential-id extras, audiences.
 */
export function authenticatedReview(claims, audiences) {
  const k8s = claims['kubernetes.io'] ?? {};
  const ns = k8s.namespace;
  const extra = {};
  if (k8s.pod?.name && k8s.pod?.uid) {
    extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
  }
  if (typeof claims.jti === 'string' && claims.jti)
    extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
  return {
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: {},
    status: {
      authenticated: true,
      user: {
        username: `system:serviceaccount:${ns}:${k8s.serviceaccount?.name}`,
        uid: k8s.serviceaccount?.uid,
        groups: [ALL_SERVICE_ACCOUNTS, `${ALL_SERVICE_ACCOUNTS}:${ns}`, 'system:authenticated'],
        extra,
      },
      audiences: [...audiences],
    },
  };
}

export function rejectedReview(message) {
  return {
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: {},
    status: { authenticated: false, user: {}, error: message },
  };
}

/** The header of a compact JWS, decoded (unverified), or undefined. */
export function peekHeader(token) {
  const dot = typeof token === 'string' ? token.indexOf('.') : -1;
  if (dot <= 0) return undefined;
  try {
    return JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
