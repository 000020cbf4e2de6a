// Service-account JWTs crafted with the e2e cluster's own signing key, so a test can hand kube-apiserver and
// tokenwarden the same odd token (expired, wrong kid, extra claims, another alg) and compare their answers.
// Everything here is node:crypto, deliberately independent of the JOSE library that src/ uses.
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

/** kube's kid: unpadded base64url of SHA-256 over the DER SubjectPublicKeyInfo (pkg/serviceaccount/jwt.go, `keyIDFromPublicKey`). */
export function kubeKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

export function loadPrivateKey(pemFile: string): KeyObject {
  return createPrivateKey(readFileSync(pemFile));
}

type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

const HASHES: Record<'256' | '384' | '512', { hash: string; bytes: number }> = {
  '256': { hash: 'sha256', bytes: 32 },
  '384': { hash: 'sha384', bytes: 48 },
  '512': { hash: 'sha512', bytes: 64 },
};

function isAlgorithm(alg: unknown): alg is Algorithm {
  return typeof alg === 'string' && /^(RS|PS|ES)(256|384|512)$/.test(alg);
}

function signature(alg: Algorithm, signingInput: Buffer, key: KeyObject): Buffer {
  const { hash, bytes } = HASHES[alg.slice(2) as keyof typeof HASHES];
  switch (alg.slice(0, 2)) {
    case 'PS':
      return sign(hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bytes });
    case 'ES':
      // JWS wants the raw r||s form, not the DER that node produces by default.
      return sign(hash, signingInput, { key, dsaEncoding: 'ieee-p1363' });
    default:
      return sign(hash, signingInput, key);
  }
}

const encodePart = (part: Record<string, unknown> | string): string =>
  Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');

/**
 * A compact JWS signed as `header.alg` says (RS*, PS*, ES*; `none` gives an empty signature). A string payload is
 * used byte for byte, for claims JSON.stringify cannot produce (duplicate keys, odd spacing).
 */
export function signCompactJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: KeyObject,
): string {
  const signingInput = `${encodePart(header)}.${encodePart(payload)}`;
  if (header.alg === 'none') return `${signingInput}.`;
  if (!isAlgorithm(header.alg)) throw new Error(`cannot sign with alg ${JSON.stringify(header.alg)}`);
  return `${signingInput}.${signature(header.alg, Buffer.from(signingInput), key).toString('base64url')}`;
}

/** The algorithm kube-apiserver signs with for this key: RS256, or ES256/384/512 by curve. */
export function kubeAlgorithm(key: KeyObject): Algorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const byCurve: Record<string, Algorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
  const alg = curve === undefined ? undefined : byCurve[curve];
  if (alg === undefined)
    throw new Error(`kube does not sign with a ${key.asymmetricKeyType} ${curve ?? ''} key`);
  return alg;
}

export interface ObjectRef {
  name: string;
  uid: string;
}

export interface ServiceAccountTokenOptions {
  privateKey: KeyObject;
  issuer: string;
  namespace: string;
  serviceAccount: ObjectRef;
  audiences: readonly string[];
  /** Seconds since the epoch for iat and nbf; defaults to now. */
  issuedAt?: number;
  /** exp = issuedAt + lifetime; defaults to one hour. */
  lifetimeSeconds?: number;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  /** Merged over { alg, kid } as kube sets them; a key set to undefined is dropped. */
  header?: Record<string, unknown>;
  /** Merged over the kube claims (top level); a key set to undefined is dropped. */
  claims?: Record<string, unknown>;
}

/** A bound service-account token shaped like the TokenRequest API's (pkg/serviceaccount/claims.go). */
export function craftServiceAccountToken(opts: ServiceAccountTokenOptions): string {
  const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
  const exp = iat + (opts.lifetimeSeconds ?? 3600);
  const binding = {
    ...(opts.node && { node: opts.node }),
    ...(opts.pod && { pod: opts.pod }),
    ...(opts.secret && { secret: opts.secret }),
  };
  // Keys sorted, as in kube's tokens: go-jose merges the claim structs into one map before encoding.
  const claims = {
    aud: [...opts.audiences],
    exp,
    iat,
    iss: opts.issuer,
    jti: randomUUID(),
    'kubernetes.io': { namespace: opts.namespace, ...binding, serviceaccount: opts.serviceAccount },
    nbf: iat,
    sub: `system:serviceaccount:${opts.namespace}:${opts.serviceAccount.name}`,
    ...opts.claims,
  };
  const header = { alg: kubeAlgorithm(opts.privateKey), kid: kubeKeyId(opts.privateKey), ...opts.header };
  return signCompactJws(header, claims, opts.privateKey);
}

/** Header and payload of a compact JWS, unverified: for looking at tokens kube issued, never for trusting them. */
export function decodeUnverified(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  if (header === undefined || payload === undefined) throw new Error('not a compact JWS');
  const part = (b64: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(header), payload: part(payload) };
}
