// Service-account tokens as kube mints them, for the in-process verification benches (bench only).
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';

export const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * `count` distinct bound tokens (RS256 on RSA-2048 or ES256 on P-256), each for one pod, signed
 * with a fresh key by the build's own dev signer (`load(rel)` imports from a dist directory).
 */
export async function saTokens(load, alg = 'RS256', count = 1000) {
  const { signJwt } = await load('dev/sign.js');
  const { kubeKeyId } = await load('keys/kid.js');
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const kid = kubeKeyId(publicKey);
  const now = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: count }, (_, n) =>
    signJwt(
      { alg, kid },
      {
        aud: [SA_ISSUER],
        exp: now + 3600,
        iat: now,
        nbf: now,
        iss: SA_ISSUER,
        jti: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        sub: 'system:serviceaccount:team-1:app',
        'kubernetes.io': {
          namespace: 'team-1',
          serviceaccount: { name: 'app', uid: '5c67e9c7-0b12-44ae-a97e-f2ee4cd061b0' },
          pod: { name: `app-${n}`, uid: '1b3d5f7a-0000-4111-8222-333344445555' },
        },
      },
      key,
    ),
  );
  return { tokens, publicKey, issuer: SA_ISSUER };
}
