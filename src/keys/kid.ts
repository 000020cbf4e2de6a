import { createHash, type KeyObject } from 'node:crypto';

/**
 * kube-apiserver's `keyIDFromPublicKey`: unpadded base64url of SHA-256 over the DER of
 * the PKIX SubjectPublicKeyInfo. Not an RFC 7638 thumbprint.
 */
export function kubeKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}
