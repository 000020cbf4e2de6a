import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signJwt } from '../src/dev/sign.js';
import { createTokenVerifier, StaticKeySource } from '../src/index.js';
import { toVerificationKey } from '../src/keys/parse.js';

const ISSUER = 'https://issuer.example';

function setup() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = toVerificationKey(createPublicKey(privateKey), 'test');
  const verifier = createTokenVerifier({
    issuers: [ISSUER],
    issuerKeys: new Map([[ISSUER, new StaticKeySource('test', [key])]]),
  });
  const now = Math.floor(Date.now() / 1000);
  const mint = (aud: string[]) =>
    signJwt(
      { alg: 'ES256', kid: key.kid },
      {
        iss: ISSUER,
        aud,
        exp: now + 600,
        iat: now,
        sub: 'system:serviceaccount:ns1:app',
        'kubernetes.io': { namespace: 'ns1', serviceaccount: { name: 'app', uid: 'sa-uid' } },
      },
      privateKey,
    );
  return { verifier, mint };
}

describe('createTokenVerifier (library entry)', () => {
  it('answers a TokenReview status for a valid token of an in-memory key', async () => {
    const { verifier, mint } = setup();
    const status = await verifier.review(mint(['vault']), ['vault']);
    expect(status).toEqual({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:ns1:app',
        uid: 'sa-uid',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
      },
      audiences: ['vault'],
    });
    verifier.close();
  });

  it('rejects a token whose audience is not requested, with kube-apiserver wording', async () => {
    const { verifier, mint } = setup();
    const status = await verifier.review(mint(['vault']), ['api']);
    expect(status.authenticated).toBe(false);
    expect(status.error).toBe(
      '[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ["api"]]',
    );
    verifier.close();
  });

  it('uses the issuers as implicit audiences when none are requested', async () => {
    const { verifier, mint } = setup();
    expect((await verifier.review(mint([ISSUER]))).audiences).toEqual([ISSUER]);
    verifier.close();
  });
});

describe('createTokenVerifier options', () => {
  it('refuses options that could never verify a token, naming the option', () => {
    const keys = new Map([[ISSUER, new StaticKeySource('test', [])]]);
    expect(() => createTokenVerifier({ issuers: [], issuerKeys: keys })).toThrow(/issuers: at least one/);
    expect(() => createTokenVerifier({ issuers: [ISSUER, ISSUER], issuerKeys: keys })).toThrow(
      /issuers: must be unique/,
    );
    expect(() => createTokenVerifier({ issuers: [ISSUER] })).toThrow(/no keys/);
    expect(() =>
      createTokenVerifier({ issuers: [ISSUER], jwksUrls: [{ url: 'http://idp.example/jwks' }] }),
    ).toThrow(/jwksUrls: "http:\/\/idp.example\/jwks" is not an https URL/);
    expect(() => createTokenVerifier({ issuers: [ISSUER], issuerKeys: keys, cacheSize: 0 })).toThrow(
      /cacheSize/,
    );
  });
});

describe('createTokenVerifier composition', () => {
  it('refuses a key file that cannot be read when it is made, not at its first token', () => {
    expect(() =>
      createTokenVerifier({ issuers: [ISSUER], keyFiles: ['/nonexistent/tokenwarden/sa.pub'] }),
    ).toThrow(/sa\.pub/);
  });
});
