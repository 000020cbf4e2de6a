import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kubeKeyId } from '../../src/keys/kid.js';
import { ecKey, KUBE_KEYID_FIXTURE, KUBE_KEYID_FIXTURE_KID, rsaKey } from '../helpers/keys.js';

describe('kubeKeyId', () => {
  it("derives kube's kid for the RSA key of kubernetes' keyid_test.go", () => {
    const key = createPublicKey(readFileSync(KUBE_KEYID_FIXTURE, 'utf8'));
    expect(kubeKeyId(key)).toBe(KUBE_KEYID_FIXTURE_KID);
  });

  it('gives a private key the kid of its public half', () => {
    for (const k of [rsaKey(), ecKey('P-256'), ecKey('P-521')]) {
      expect(kubeKeyId(createPublicKey(k.privateKey))).toBe(kubeKeyId(k.publicKey));
    }
  });

  it('is unpadded base64url of a SHA-256 digest, not an RFC 7638 thumbprint', () => {
    const kid = kubeKeyId(rsaKey().publicKey);
    expect(kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const jwk = rsaKey().publicKey.export({ format: 'jwk' });
    const thumbprint = createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
      .digest('base64url');
    expect(kid).not.toBe(thumbprint);
  });

  it('gives different keys different kids', () => {
    expect(kubeKeyId(rsaKey('a').publicKey)).not.toBe(kubeKeyId(rsaKey('b').publicKey));
  });
});
