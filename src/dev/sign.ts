import { constants, sign, type KeyObject } from 'node:crypto';
import type { Algorithm } from '../keys/key-source.js';

const HASH: Readonly<Record<Algorithm, string>> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs a compact JWS the way kube-apiserver's token signer does. For the dev issuer
 * and tests: the header is taken as given, so tests can also mint malformed tokens.
 */
export function signJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  privateKey: KeyObject,
): string {
  return signCompact(header.alg as Algorithm, `${b64(header)}.${b64(claims)}`, privateKey);
}

/**
 * Appends the `alg` signature to an already encoded `header.payload`; tests use it to
 * sign segments JSON.stringify cannot produce (duplicate members, odd spacing).
 */
export function signCompact(alg: Algorithm, input: string, privateKey: KeyObject): string {
  const hash = HASH[alg];
  if (!hash) throw new TypeError(`signJwt cannot sign ${String(alg)}`);
  const signature = alg.startsWith('PS')
    ? sign(hash, Buffer.from(input), {
        key: privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      })
    : alg.startsWith('ES')
      ? sign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(hash, Buffer.from(input), privateKey);
  return `${input}.${signature.toString('base64url')}`;
}
