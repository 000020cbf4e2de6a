import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { VerificationKey } from '../../src/keys/key-source.js';
import { kubeKeyId } from '../../src/keys/kid.js';
import { toVerificationKey } from '../../src/keys/parse.js';
import { StaticKeySource } from '../../src/keys/static.js';

/** A key pair for minting tokens, with the public half as tokenwarden would load it. */
export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** kube-apiserver's kid: base64url(SHA-256(SPKI DER)). */
  readonly kid: string;
  /** SPKI PEM of the public key. */
  readonly publicPem: string;
}

export type Curve = 'P-256' | 'P-384' | 'P-521';

function wrap(privateKey: KeyObject, publicKey: KeyObject): TestKey {
  return {
    privateKey,
    publicKey,
    kid: kubeKeyId(publicKey),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

const memo = new Map<string, TestKey>();

function remembered(id: string, make: () => TestKey): TestKey {
  let key = memo.get(id);
  if (!key) {
    key = make();
    memo.set(id, key);
  }
  return key;
}

/**
 * An RSA key, generated once per test file and label: `rsaKey()` and `rsaKey('other')`
 * are two different keys, `rsaKey()` twice is the same one.
 */
export function rsaKey(label = 'a', modulusLength = 2048): TestKey {
  return remembered(`rsa:${modulusLength}:${label}`, () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
    return wrap(privateKey, publicKey);
  });
}

/** An EC key on a NIST curve (or any curve OpenSSL knows, for refusal tests). */
export function ecKey(curve: Curve | 'secp256k1' = 'P-256', label = 'a'): TestKey {
  return remembered(`ec:${curve}:${label}`, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    return wrap(privateKey, publicKey);
  });
}

export function ed25519Key(): TestKey {
  return remembered('ed25519', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return wrap(privateKey, publicKey);
  });
}

/**
 * An RSA public key with a chosen exponent (e = 1 is WP jwk tcId 9's forgery key):
 * OpenSSL will not generate one, so the modulus of a real key is re-imported as a JWK.
 */
export function rsaPublicKeyWithExponent(exponent: bigint): KeyObject {
  const jwk = rsaKey().publicKey.export({ format: 'jwk' });
  let hex = exponent.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return createPublicKey({
    key: { ...jwk, e: Buffer.from(hex, 'hex').toString('base64url') },
    format: 'jwk',
  });
}

export function verificationKey(key: TestKey, origin = 'test'): VerificationKey {
  return toVerificationKey(key.publicKey, origin);
}

/** The keys as one in-memory source, the way the dev issuer serves its key. */
export function staticSource(...keys: TestKey[]): StaticKeySource {
  return new StaticKeySource(
    'test',
    keys.map((k) => verificationKey(k)),
  );
}

/** kubernetes pkg/serviceaccount/keyid_test.go's RSA key, and the kid kube derives from it. */
export const KUBE_KEYID_FIXTURE = fileURLToPath(
  new URL('../fixtures/keys/kube-keyid-test.pub.pem', import.meta.url),
);
export const KUBE_KEYID_FIXTURE_KID = 'JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU';
