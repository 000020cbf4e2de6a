import type { Algorithm } from '../../src/keys/key-source.js';
import { signCompact, signJwt } from '../../src/dev/sign.js';
import { rsaKey, type TestKey } from './keys.js';

/** The cluster every token test pretends to be: kube's default issuer and API audience. */
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const OTHER_ISSUER = 'https://other.example';
export const LEGACY_ISS = 'kubernetes/serviceaccount';

/** A fixed "now" for manual clocks: 2026-01-15T12:00:00Z. */
export const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
export const NOW = NOW_MS / 1000;

export const SA_UID = '5c67e9c7-0b12-44ae-a97e-f2ee4cd061b0';
export const POD_UID = 'd71c5599-fa47-4d3c-ba2c-35f66017cd6b';
export const NODE_UID = '8b6b0c3c-5f4e-4b0e-9a8a-3b1c2d4e5f60';
export const JTI = '2e4f6a8c-1b3d-4f5a-8c7e-9d0b1a2c3e4f';

export type Claims = Record<string, unknown>;

/**
 * The claims of a pod-bound projected token as kube-apiserver issues it (pkg/serviceaccount/claims.go,
 * `Claims()`), valid from `now` for an hour. Overrides replace top-level members; an
 * override of `undefined` removes the member.
 */
export function boundClaims(overrides: Claims = {}, now = NOW): Claims {
  return {
    aud: [ISSUER],
    exp: now + 3600,
    iat: now,
    iss: ISSUER,
    jti: JTI,
    'kubernetes.io': {
      namespace: 'ns1',
      node: { name: 'node-a', uid: NODE_UID },
      pod: { name: 'app-7d9', uid: POD_UID },
      serviceaccount: { name: 'app', uid: SA_UID },
      warnafter: now + 3607,
    },
    nbf: now,
    sub: 'system:serviceaccount:ns1:app',
    ...overrides,
  };
}

/** A secret-based token's claims (legacy.go): flat private claims, no aud, no exp. */
export function legacyClaims(overrides: Claims = {}): Claims {
  return {
    iss: LEGACY_ISS,
    'kubernetes.io/serviceaccount/namespace': 'ns1',
    'kubernetes.io/serviceaccount/secret.name': 'app-token-42nbt',
    'kubernetes.io/serviceaccount/service-account.name': 'app',
    'kubernetes.io/serviceaccount/service-account.uid': SA_UID,
    sub: 'system:serviceaccount:ns1:app',
    ...overrides,
  };
}

/** The `kubernetes.io` private claim of boundClaims() with some members replaced. */
export function withPrivate(overrides: Claims, now = NOW): Claims {
  const base = boundClaims({}, now)['kubernetes.io'] as Claims;
  return boundClaims({ 'kubernetes.io': { ...base, ...overrides } }, now);
}

function defaultAlg(key: TestKey): Algorithm {
  if (key.publicKey.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.publicKey.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256';
}

export interface MintOptions {
  /** Replaces the default header `{alg, kid}` members; `kid: undefined` drops the kid. */
  readonly header?: Record<string, unknown>;
  readonly claims?: Claims;
  readonly key?: TestKey;
}

/** A signed compact JWS, by src/dev/sign.ts, with kube's default header for the key. */
export function mintToken({ header = {}, claims = boundClaims(), key = rsaKey() }: MintOptions = {}): string {
  return signJwt({ alg: defaultAlg(key), kid: key.kid, ...header }, claims, key.privateKey);
}

export const b64url = (text: string | Buffer): string => Buffer.from(text).toString('base64url');

/**
 * A token from raw JSON texts, so header and payload may hold what JSON.stringify never
 * writes (duplicate members, escapes, deep nesting). Signed when a key is given, else
 * given a canonical dummy signature.
 */
export function rawToken(
  headerJson: string,
  payloadJson: string,
  key?: TestKey,
  alg: Algorithm = 'RS256',
): string {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  return key ? signCompact(alg, input, key.privateKey) : `${input}.${b64url('not a real signature')}`;
}

/** The three segments of a compact token. */
export function segments(token: string): [string, string, string] {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`expected three segments, got ${parts.length}`);
  return parts as [string, string, string];
}

/**
 * JSON text of `obj` with some members written as raw literals that JSON.stringify
 * cannot produce: `jsonWithRaw(claims, { exp: '1e400' })`.
 */
export function jsonWithRaw(obj: Claims, raw: Record<string, string>): string {
  const marked = { ...obj, ...Object.fromEntries(Object.keys(raw).map((k) => [k, `@@RAW:${k}@@`])) };
  return JSON.stringify(marked).replace(/"@@RAW:([^@]+)@@"/g, (_, k: string) => raw[k]!);
}

/** A kube-style header text for `key` (what mintToken would put first), as JSON. */
export function headerJson(key: TestKey = rsaKey(), extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ alg: defaultAlg(key), kid: key.kid, ...extra });
}
