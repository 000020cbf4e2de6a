import type { Hono } from 'hono';
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { toJwks, toVerificationKey } from '../keys/parse.js';
import { StaticKeySource } from '../keys/static.js';
import { signJwt } from './sign.js';

export interface DevIssuer {
  readonly issuer: string;
  readonly keySource: StaticKeySource;
  /** A projected-style token for `system:serviceaccount:<namespace>:<name>`, bound to a pod. */
  mintToken(options?: {
    namespace?: string;
    name?: string;
    audiences?: readonly string[];
    lifetimeSeconds?: number;
  }): string;
  /** `/.well-known/openid-configuration` and `/openid/v1/jwks`, as kube-apiserver serves them. */
  routes(app: Hono): void;
}

/** An ephemeral issuer with a fresh RSA key: what `npm start` runs on, and the tests' issuer. */
export function createDevIssuer(issuer: string): DevIssuer {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKey: KeyObject = createPublicKey(privateKey);
  const key = toVerificationKey(publicKey, 'dev issuer');
  const keySource = new StaticKeySource('dev-issuer', [key]);
  const saUid = randomUUID();
  return {
    issuer,
    keySource,
    mintToken({ namespace = 'default', name = 'demo', audiences = [issuer], lifetimeSeconds = 3600 } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        { alg: 'RS256', kid: key.kid },
        {
          aud: [...audiences],
          exp: now + lifetimeSeconds,
          iat: now,
          nbf: now,
          iss: issuer,
          jti: randomUUID(),
          sub: `system:serviceaccount:${namespace}:${name}`,
          'kubernetes.io': {
            namespace,
            serviceaccount: { name, uid: saUid },
            pod: { name: `${name}-pod`, uid: randomUUID() },
          },
        },
        privateKey,
      );
    },
    routes(app) {
      app.get('/.well-known/openid-configuration', (c) =>
        c.json({
          issuer,
          jwks_uri: `${issuer}/openid/v1/jwks`,
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      app.get('/openid/v1/jwks', (c) => c.json(toJwks([key])));
    },
  };
}
