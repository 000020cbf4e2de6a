import { constants, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gateToken, type UnverifiedToken } from '../../../src/authn/jwt/gate.js';
import {
  CRYPTO_FAILURE,
  NO_KEYS_FOUND,
  verifySignature,
  verifyWithSnapshot,
  verifyWithSnapshotInTurns,
  KEYS_PER_TURN,
  type KeyVerdict,
} from '../../../src/authn/jwt/verify.js';
import type { Algorithm, VerificationKey } from '../../../src/keys/key-source.js';
import { makeSnapshot, type KeySnapshot } from '../../../src/keys/key-source.js';
import { parseJwks, toVerificationKey } from '../../../src/keys/parse.js';
import { ecKey, rsaKey, verificationKey, type Curve, type TestKey } from '../../helpers/keys.js';
import { b64url, boundClaims, mintToken, segments } from '../../helpers/tokens.js';

/** The gate's view of a token (every issuer counts as ours here). */
function unverified(token: string): UnverifiedToken {
  const result = gateToken(token, () => true);
  if (result.kind !== 'token') throw new Error(`gate refused the test token: ${JSON.stringify(result)}`);
  return result.token;
}

/** Verifies a token's own signature with one key, as verifyWithSnapshot would. */
function verifies(token: string, key: VerificationKey): boolean {
  const t = unverified(token);
  return t.alg !== undefined && verifySignature(t.alg, Buffer.from(t.signingInput), t.signature, key);
}

/** A token whose signature is replaced by `signature`, header alg kept. */
function withSignature(token: string, signature: Buffer): string {
  const [h, p] = segments(token);
  return `${h}.${p}.${b64url(signature)}`;
}

/** Signs `header.payload` with any hash and encoding node:crypto allows, bypassing signJwt's alg table. */
function rawEcdsa(
  key: TestKey,
  alg: Algorithm,
  hash: string,
  encoding: 'ieee-p1363' | 'der' = 'ieee-p1363',
): string {
  const [h, p] = segments(mintToken({ key, header: { alg } }));
  return `${h}.${p}.${b64url(sign(hash, Buffer.from(`${h}.${p}`), { key: key.privateKey, dsaEncoding: encoding }))}`;
}

const RSA_ALGS: Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS: [Algorithm, Curve][] = [
  ['ES256', 'P-256'],
  ['ES384', 'P-384'],
  ['ES512', 'P-521'],
];

describe('verifySignature', () => {
  it.each(RSA_ALGS)('verifies %s with an RSA key', (alg) => {
    expect(verifies(mintToken({ header: { alg } }), verificationKey(rsaKey()))).toBe(true);
  });

  it.each(EC_ALGS)('verifies %s with a %s key', (alg, curve) => {
    expect(verifies(mintToken({ key: ecKey(curve), header: { alg } }), verificationKey(ecKey(curve)))).toBe(
      true,
    );
  });

  it.each(RSA_ALGS)('refuses %s signed by another RSA key', (alg) => {
    expect(verifies(mintToken({ header: { alg } }), verificationKey(rsaKey('other')))).toBe(false);
  });

  it('refuses an RSA signature checked under the other padding family', () => {
    for (const [signedAs, claimedAs] of [
      ['RS256', 'PS256'],
      ['PS256', 'RS256'],
      ['RS256', 'RS384'],
    ] as const) {
      const t = unverified(mintToken({ header: { alg: signedAs } }));
      expect(
        verifySignature(claimedAs, Buffer.from(t.signingInput), t.signature, verificationKey(rsaKey())),
      ).toBe(false);
    }
  });

  it('refuses RS256 on an EC key and ES256 on an RSA key', () => {
    const t = unverified(mintToken());
    expect(
      verifySignature('RS256', Buffer.from(t.signingInput), t.signature, verificationKey(ecKey('P-256'))),
    ).toBe(false);
    const e = unverified(mintToken({ key: ecKey('P-256') }));
    expect(
      verifySignature('ES256', Buffer.from(e.signingInput), e.signature, verificationKey(rsaKey())),
    ).toBe(false);
  });

  it.each([
    ['ES256', 'P-384', 'sha256'],
    ['ES256', 'P-521', 'sha256'],
    ['ES384', 'P-256', 'sha384'],
    ['ES384', 'P-521', 'sha384'],
    ['ES512', 'P-256', 'sha512'],
    ['ES512', 'P-384', 'sha512'],
  ] as const)('refuses %s made by a %s key with its hash: the curve must match', (alg, curve, hash) => {
    const key = ecKey(curve);
    expect(verifies(rawEcdsa(key, alg, hash), verificationKey(key))).toBe(false);
  });

  it('refuses a PS256 signature whose salt is not the hash length (RFC 7518 §3.5)', () => {
    const [h, p] = segments(mintToken({ header: { alg: 'PS256' } }));
    for (const saltLength of [0, 20, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
      const sig = sign('sha256', Buffer.from(`${h}.${p}`), {
        key: rsaKey().privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength,
      });
      expect(verifies(`${h}.${p}.${b64url(sig)}`, verificationKey(rsaKey()))).toBe(false);
    }
  });

  it('uses a key only for the algorithms it is bound to, even when the math would pass', () => {
    const psOnly = toVerificationKey(rsaKey().publicKey, 'jwks', { alg: 'PS384' });
    expect(verifies(mintToken({ header: { alg: 'PS384' } }), psOnly)).toBe(true);
    expect(verifies(mintToken({ header: { alg: 'RS256' } }), psOnly)).toBe(false);
  });

  it('refuses a DER-encoded ECDSA signature', () => {
    const key = ecKey('P-256');
    const der = rawEcdsa(key, 'ES256', 'sha256', 'der');
    expect(verifies(der, verificationKey(key))).toBe(false);
  });

  it('refuses ECDSA signatures with r = s = 0 or of the wrong length', () => {
    const key = ecKey('P-256');
    const token = mintToken({ key });
    const sig = unverified(token).signature;
    for (const bad of [
      Buffer.alloc(64),
      sig.subarray(0, 63),
      Buffer.concat([sig, Buffer.alloc(1)]),
      Buffer.concat([Buffer.alloc(1), sig]),
    ]) {
      expect(verifies(withSignature(token, bad), verificationKey(key))).toBe(false);
    }
  });

  it('accepts a high-s ES256 signature, which is valid by spec', () => {
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const key = ecKey('P-256');
    const token = mintToken({ key });
    const sig = unverified(token).signature;
    const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const flipped = Buffer.concat([
      sig.subarray(0, 32),
      Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'),
    ]);
    expect(flipped.equals(sig)).toBe(false);
    expect(verifies(withSignature(token, flipped), verificationKey(key))).toBe(true);
  });

  it('refuses mutated RSA signatures without throwing', () => {
    const token = mintToken();
    const sig = unverified(token).signature;
    const flipped = Buffer.from(sig);
    flipped[100]! ^= 0x01;
    for (const bad of [
      flipped,
      sig.subarray(1),
      Buffer.concat([sig, Buffer.alloc(1)]),
      Buffer.alloc(256),
      Buffer.alloc(256, 0xff),
      Buffer.alloc(1),
    ]) {
      expect(verifies(withSignature(token, bad), verificationKey(rsaKey()))).toBe(false);
    }
  });

  it('refuses a payload changed after signing', () => {
    const [h, , s] = segments(mintToken());
    const forged = `${h}.${b64url(JSON.stringify(boundClaims({ sub: 'system:serviceaccount:kube-system:admin' })))}.${s}`;
    expect(verifies(forged, verificationKey(rsaKey()))).toBe(false);
  });
});

describe('verifyWithSnapshot', () => {
  const a = rsaKey('a');
  const b = rsaKey('b');
  const c = ecKey('P-256');
  const snapshot = makeSnapshot(
    [a, b, c].map((k) => verificationKey(k)),
    1,
  );

  /** The kid of the key that verified the token, or `CODE: message`. */
  function outcome(token: string, snap: KeySnapshot = snapshot): string {
    const verdict = verifyWithSnapshot(unverified(token), snap);
    return verdict.ok ? verdict.key.kid : `${verdict.error.code}: ${verdict.error.message}`;
  }

  it('picks the key named by kid', () => {
    expect(outcome(mintToken({ key: b }))).toBe(b.kid);
  });

  it("answers an unknown kid with kube's 'invalid signature, no keys found'", () => {
    expect(NO_KEYS_FOUND).toBe('invalid signature, no keys found');
    expect(outcome(mintToken({ key: rsaKey('stranger') }))).toBe(`ERR_TOKEN_NO_KEY: ${NO_KEYS_FOUND}`);
  });

  it('never falls back to the other keys when the kid names one that does not verify', () => {
    expect(CRYPTO_FAILURE).toBe('go-jose/go-jose: error in cryptographic primitive');
    // Signed by b, but claiming a's kid: b is in the set, yet only a is tried.
    expect(outcome(mintToken({ key: b, header: { kid: a.kid } }))).toBe(
      `ERR_TOKEN_SIGNATURE: ${CRYPTO_FAILURE}`,
    );
  });

  it('tries every key, in order, when the token has no kid', () => {
    for (const key of [a, b, c])
      expect(outcome(mintToken({ key, header: { kid: undefined } }))).toBe(key.kid);
    expect(outcome(mintToken({ key: c, header: { kid: '' } }))).toBe(c.kid);
  });

  it('fails a kid-less token that no key verifies with the crypto error', () => {
    expect(outcome(mintToken({ key: rsaKey('stranger'), header: { kid: undefined } }))).toBe(
      `ERR_TOKEN_SIGNATURE: ${CRYPTO_FAILURE}`,
    );
  });

  it('finds no keys for a kid-less token when the set is empty', () => {
    expect(outcome(mintToken({ header: { kid: undefined } }), makeSnapshot([], 1))).toBe(
      `ERR_TOKEN_NO_KEY: ${NO_KEYS_FOUND}`,
    );
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'finds no key for the prototype-named kid %s, and does not throw',
    (kid) => {
      expect(outcome(mintToken({ header: { kid } }))).toBe(`ERR_TOKEN_NO_KEY: ${NO_KEYS_FOUND}`);
    },
  );

  it('tries every key that shares a kid', () => {
    const doc = JSON.stringify({
      keys: [a, b].map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: 'shared' })),
    });
    const shared = makeSnapshot(parseJwks(doc, 'jwks').keys, 1);
    const verdict = verifyWithSnapshot(unverified(mintToken({ key: b, header: { kid: 'shared' } })), shared);
    expect(verdict.ok && verdict.key.key.equals(b.publicKey)).toBe(true);
  });
});

describe('verifyWithSnapshotInTurns', () => {
  const keys = Array.from({ length: 20 }, (_, i) => ecKey('P-256', `turns-${i}`));
  const snapshot = makeSnapshot(
    keys.map((k) => verificationKey(k)),
    1,
  );

  /** The verdict, and how many event-loop turns other work got while it was reached. */
  async function withTurns(token: string): Promise<{ verdict: KeyVerdict; turns: number }> {
    let turns = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const verdict = await verifyWithSnapshotInTurns(unverified(token), snapshot);
    done = true;
    return { verdict, turns };
  }

  it('gives the event loop back between keys while a kid-less token is tried against many', async () => {
    const last = keys.at(-1)!;
    const { verdict, turns } = await withTurns(mintToken({ key: last, header: { kid: undefined } }));
    expect(verdict.ok && verdict.key.kid).toBe(last.kid);
    // 20 keys, KEYS_PER_TURN at a time: other work ran between every group.
    expect(turns).toBeGreaterThanOrEqual(20 / KEYS_PER_TURN - 1);
  });

  it('answers as verifyWithSnapshot does, for a key named by kid and for no key at all', async () => {
    for (const token of [
      mintToken({ key: keys[3]! }),
      mintToken({ key: ecKey('P-256', 'stranger'), header: { kid: undefined } }),
      mintToken({ key: ecKey('P-256', 'stranger') }),
    ]) {
      const { verdict } = await withTurns(token);
      expect(verdict).toEqual(verifyWithSnapshot(unverified(token), snapshot));
    }
  });
});
