import { createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { TokenwardenError } from '../errors.js';
import { isObject } from '../json.js';
import { kubeKeyId } from './kid.js';
import { ALGORITHMS, type Algorithm, type VerificationKey } from './key-source.js';

/** One key may not cost more than this to verify with: an 8192-bit RSA check already takes milliseconds. */
const MAX_RSA_BITS = 8192;
const MIN_RSA_BITS = 2048;
/** Bounds the work of a kid-less token: every key of the issuer is tried. */
export const MAX_KEYS_PER_SOURCE = 100;

const RSA_ALGORITHMS: ReadonlySet<Algorithm> = new Set(ALGORITHMS.filter((a) => !a.startsWith('ES')));
const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, Algorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

function keyError(origin: string, message: string): TokenwardenError {
  return new TokenwardenError('ERR_KEY_FILE', `${origin}: ${message}`);
}

/**
 * Binds a public key to the algorithms it may verify and refuses weak or unusual keys:
 * RSA 2048–8192 bits with an odd exponent ≥ 3 (WP jwk tcId 9 forges with e = 1), EC on
 * P-256/P-384/P-521 only, nothing else.
 */
export function toVerificationKey(
  publicKey: KeyObject,
  origin: string,
  options: { kid?: string; alg?: string } = {},
): VerificationKey {
  let algorithms: ReadonlySet<Algorithm>;
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (publicKey.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    const e = details.publicExponent ?? 0n;
    if (bits < MIN_RSA_BITS)
      throw keyError(origin, `RSA key of ${bits} bits is too weak (minimum ${MIN_RSA_BITS})`);
    if (bits > MAX_RSA_BITS)
      throw keyError(origin, `RSA key of ${bits} bits is too large (maximum ${MAX_RSA_BITS})`);
    if (e < 3n || e % 2n === 0n) throw keyError(origin, `RSA key has an invalid public exponent ${e}`);
    algorithms = RSA_ALGORITHMS;
  } else if (publicKey.asymmetricKeyType === 'ec') {
    const alg = EC_ALGORITHM_BY_CURVE[details.namedCurve ?? ''];
    if (!alg)
      throw keyError(
        origin,
        `EC curve ${details.namedCurve ?? 'unknown'} is not supported (P-256, P-384, P-521)`,
      );
    algorithms = new Set([alg]);
  } else {
    throw keyError(
      origin,
      `${publicKey.asymmetricKeyType ?? 'unknown'} keys are not supported (RSA and EC only)`,
    );
  }
  if (options.alg !== undefined) {
    if (!algorithms.has(options.alg as Algorithm)) {
      throw keyError(origin, `key declares alg ${options.alg}, which does not fit a key of its type`);
    }
    algorithms = new Set([options.alg as Algorithm]);
  }
  return Object.freeze({ kid: options.kid ?? kubeKeyId(publicKey), key: publicKey, algorithms, origin });
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/**
 * Every PEM block is tried whatever its label, as kube's keyutil does: public keys
 * (PKIX or PKCS#1), certificates, and RSA/EC private keys, whose public half is used.
 * Unlike kube, a block that is not a usable key is an error rather than skipped, so a
 * typo never silently shrinks the key set.
 */
export function parsePemKeys(text: string, origin: string): VerificationKey[] {
  const keys: VerificationKey[] = [];
  let index = 0;
  for (const match of text.matchAll(PEM_BLOCK)) {
    index++;
    const block = match[0];
    const label = match[1]!;
    if (label === 'ENCRYPTED PRIVATE KEY')
      throw keyError(origin, `PEM block ${index}: encrypted private keys are not supported`);
    let publicKey: KeyObject;
    try {
      publicKey = label === 'CERTIFICATE' ? new X509Certificate(block).publicKey : createPublicKey(block);
    } catch {
      throw keyError(origin, `PEM block ${index} (${label}) is not a valid key or certificate`);
    }
    keys.push(toVerificationKey(publicKey, origin));
  }
  if (keys.length === 0) throw keyError(origin, 'data does not contain any valid RSA or ECDSA public keys');
  return keys;
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
};

export interface JwksParseResult {
  readonly keys: VerificationKey[];
  /** Keys left out on purpose (symmetric, encryption-only); worth a log line, not an error. */
  readonly skipped: string[];
}

/**
 * A JWKS document: `{"keys":[...]}`. Symmetric and encryption-only keys are skipped
 * (RFC 7517 §4.2 `use`, §4.3 `key_ops`); private members are ignored, only the public part is imported; a
 * key that is present but broken or weak fails the whole document, so a bad publish
 * never silently changes the set. A JWK's own `kid` is kept; without one, kube's kid.
 */
export function parseJwks(text: string, origin: string): JwksParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw keyError(origin, 'not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw keyError(origin, 'a JWKS must be an object with a "keys" array');
  }
  const entries = (doc as { keys: unknown[] }).keys;
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  entries.forEach((entry, i) => {
    const where = `keys[${i}]`;
    if (!isObject(entry)) throw keyError(origin, `${where} is not an object`);
    const jwk = entry as Record<string, unknown>;
    const kty = jwk.kty;
    if (kty === 'oct') {
      skipped.push(`${where}: symmetric key ignored`);
      return;
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') {
      if (typeof jwk.use !== 'string') throw keyError(origin, `${where}.use must be a string`);
      skipped.push(`${where}: key with use "${jwk.use}" ignored`);
      return;
    }
    if (jwk.key_ops !== undefined) {
      if (!Array.isArray(jwk.key_ops)) throw keyError(origin, `${where}.key_ops must be an array`);
      if (!jwk.key_ops.includes('verify')) {
        skipped.push(`${where}: key without the verify operation ignored`);
        return;
      }
    }
    // Object.hasOwn: a kty such as `constructor` must not find a prototype member.
    if (typeof kty !== 'string' || !Object.hasOwn(PUBLIC_MEMBERS, kty))
      throw keyError(origin, `${where}.kty must be RSA or EC`);
    if (
      jwk.kid !== undefined &&
      (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > 1024)
    ) {
      throw keyError(origin, `${where}.kid must be a non-empty string of at most 1024 characters`);
    }
    if (jwk.alg !== undefined && typeof jwk.alg !== 'string')
      throw keyError(origin, `${where}.alg must be a string`);
    const publicJwk: Record<string, unknown> = {};
    for (const member of PUBLIC_MEMBERS[kty]!) {
      if (typeof jwk[member] !== 'string') throw keyError(origin, `${where}.${member} must be a string`);
      publicJwk[member] = jwk[member];
    }
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw keyError(origin, `${where} is not a valid ${kty} public key`);
    }
    keys.push(
      toVerificationKey(publicKey, `${origin} ${where}`, {
        ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}),
        ...(typeof jwk.alg === 'string' ? { alg: jwk.alg } : {}),
      }),
    );
  });
  return { keys, skipped };
}

/** A key file holds PEM blocks or a JWKS document; the first non-blank character tells which. */
export function parseKeyFile(text: string, origin: string): JwksParseResult {
  if (text.trimStart().startsWith('{')) {
    const result = parseJwks(text, origin);
    if (result.keys.length === 0) throw keyError(origin, 'the JWKS holds no usable signing keys');
    return result;
  }
  return { keys: parsePemKeys(text, origin), skipped: [] };
}

/** The kube-apiserver-style JWKS of a key set (`tokenwarden jwks`, dev issuer). */
export function toJwks(keys: readonly VerificationKey[]): { keys: Record<string, unknown>[] } {
  return {
    keys: keys.map((k) => {
      const jwk = k.key.export({ format: 'jwk' }) as Record<string, unknown>;
      const alg = k.key.asymmetricKeyType === 'rsa' ? 'RS256' : [...k.algorithms][0];
      return { use: 'sig', kty: jwk.kty, kid: k.kid, alg, ...jwk };
    }),
  };
}
