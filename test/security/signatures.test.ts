import { createHmac, sign } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { signCompact } from '../../src/dev/sign.js';
import type { Algorithm } from '../../src/keys/key-source.js';
import { Attacker, BAD_SIGNATURE, INVALID } from '../helpers/attack.js';
import { ecKey, rsaKey, type TestKey } from '../helpers/keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { b64url, boundClaims, headerJson, mintToken, NOW_MS, segments } from '../helpers/tokens.js';

/**
 * RFC 8725 §3.1–3.2 and jwt_tool's `-X a`, `-X n`, `-X b`,
 * `-X k`: every way to make the signature say yes without the issuer's private key,
 * sent as TokenReviews to the real service.
 */

const rsa = rsaKey();
const p256 = ecKey('P-256');
const p384 = ecKey('P-384');
const p521 = ecKey('P-521');

let server: TestServer;
const attack = new Attacker(() => server);

beforeAll(async () => {
  server = await startTestServer({ clock: manualClock(NOW_MS), keys: [rsa, p256, p384, p521] });
});
afterAll(() => server.close());
afterEach(() => attack.stillServing());

const good = mintToken({ key: rsa });
const [goodHeader, goodPayload, goodSignature] = segments(good);
const input = (header: Record<string, unknown>) => `${b64url(JSON.stringify(header))}.${goodPayload}`;
const withSignature = (token: string, signature: Buffer) =>
  `${segments(token).slice(0, 2).join('.')}.${signature.toString('base64url')}`;

describe('the keys and tokens the attacks start from', () => {
  it.each([
    ['RS256', rsa],
    ['PS256', rsa],
    ['PS512', rsa],
    ['ES256', p256],
    ['ES384', p384],
    ['ES512', p521],
  ] as const)('accepts a %s token signed by its configured key', async (alg, key) => {
    await attack.accepted(mintToken({ key, header: { alg } }));
  });
});

describe('alg none', () => {
  const spellings = ['none', 'None', 'NONE', 'nOnE'];
  it.each(spellings)('refuses alg %s with an empty signature segment', async (alg) => {
    await attack.refused(`${input({ alg, kid: rsa.kid })}.`, BAD_SIGNATURE);
  });
  it.each(spellings)('refuses alg %s carrying the original signature', async (alg) => {
    await attack.refused(`${input({ alg, kid: rsa.kid })}.${goodSignature}`, BAD_SIGNATURE);
  });
  it.each(spellings)('refuses alg %s with the third segment dropped', async (alg) => {
    await attack.refused(input({ alg, kid: rsa.kid }), INVALID);
  });
  it('refuses alg none without a kid', async () => {
    await attack.refused(`${input({ alg: 'none' })}.`, BAD_SIGNATURE);
  });
});

describe('stripped and null signatures', () => {
  it('refuses header.payload. and header.payload', async () => {
    await attack.refused(`${goodHeader}.${goodPayload}.`, BAD_SIGNATURE);
    await attack.refused(`${goodHeader}.${goodPayload}`, INVALID);
  });
  it('refuses a signature of 256 zero bytes', async () => {
    await attack.refused(withSignature(good, Buffer.alloc(256)), BAD_SIGNATURE);
  });
});

describe('RS → HS key confusion and weak HMAC secrets', () => {
  const spki = rsa.publicPem;
  const secrets: [string, Buffer][] = [
    ['SPKI PEM', Buffer.from(spki)],
    ['SPKI PEM without its trailing newline', Buffer.from(spki.trimEnd())],
    ['SPKI PEM after white space', Buffer.from(` \n${spki}`)],
    ['PKCS#1 PEM', Buffer.from(rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string)],
    ['SPKI DER', rsa.publicKey.export({ type: 'spki', format: 'der' })],
    ['the JWK', Buffer.from(JSON.stringify(rsa.publicKey.export({ format: 'jwk' })))],
    ['the modulus bytes', Buffer.from(rsa.publicKey.export({ format: 'jwk' }).n!, 'base64url')],
    ['the empty key', Buffer.alloc(0)],
    ['"secret"', Buffer.from('secret')],
  ];
  const hmac = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;
  for (const [alg, hash] of Object.entries(hmac)) {
    it.each(secrets)(`refuses ${alg} keyed with %s`, async (_name, secret) => {
      const signingInput = input({ alg, kid: rsa.kid });
      const mac = createHmac(hash, secret).update(signingInput).digest('base64url');
      await attack.refused(`${signingInput}.${mac}`, BAD_SIGNATURE);
    });
  }
});

describe('algorithm and key disagree', () => {
  const signedAs = (alg: string, key: TestKey, signAlg: Algorithm) =>
    signCompact(signAlg, input({ alg, kid: key.kid }), key.privateKey);

  it.each([
    ['RS256 over an ECDSA (DER) signature by the P-256 key', signedAs('RS256', p256, 'RS256')],
    ['ES256 by the P-384 key', signedAs('ES256', p384, 'ES256')],
    ['ES384 by the P-256 key', signedAs('ES384', p256, 'ES384')],
    ['ES512 by the P-384 key', signedAs('ES512', p384, 'ES512')],
    [
      'ES256 naming the RSA key, ECDSA-signed by P-256',
      signCompact('ES256', input({ alg: 'ES256', kid: rsa.kid }), p256.privateKey),
    ],
    ['PS256 over a PKCS#1 v1.5 signature', signedAs('PS256', rsa, 'RS256')],
    ['RS256 over a PSS signature', signedAs('RS256', rsa, 'PS256')],
    ['RS384 over an RS256 signature', signedAs('RS384', rsa, 'RS256')],
    ['EdDSA', signedAs('EdDSA', rsa, 'RS256')],
    ['rs256 (case changed)', signedAs('rs256', rsa, 'RS256')],
    ['"RS256 " (space appended)', signedAs('RS256 ', rsa, 'RS256')],
  ])('refuses %s', async (_name, token) => {
    await attack.refused(token, BAD_SIGNATURE);
  });
});

describe('mutated RSA signatures', () => {
  const signature = Buffer.from(goodSignature, 'base64url');
  const n = BigInt(
    `0x${Buffer.from(rsa.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`,
  );
  const fixed = (v: bigint, bytes = 256) => Buffer.from(v.toString(16).padStart(bytes * 2, '0'), 'hex');
  const s = BigInt(`0x${signature.toString('hex')}`);
  const flipped = Buffer.from(signature);
  flipped[100]! ^= 0x01;

  it.each([
    ['one bit flipped', flipped],
    ['truncated by one byte', signature.subarray(0, 255)],
    ['with a zero byte prepended', Buffer.concat([Buffer.alloc(1), signature])],
    ['with a zero byte appended', Buffer.concat([signature, Buffer.alloc(1)])],
    ['equal to 0', fixed(0n)],
    ['equal to 1', fixed(1n)],
    ['equal to n − 1', fixed(n - 1n)],
    ['equal to n', fixed(n)],
    ['not reduced mod n (s + n)', fixed(s + n, 257)],
    ['of all one bits', Buffer.alloc(256, 0xff)],
  ])('refuses an RS256 signature %s', async (_name, sig) => {
    await attack.refused(withSignature(good, sig), BAD_SIGNATURE);
  });

  it('refuses a signature of another token of the same key (swapped)', async () => {
    const other = mintToken({
      key: rsa,
      claims: boundClaims({ sub: 'system:serviceaccount:kube-system:admin' }),
    });
    await attack.refused(`${goodHeader}.${segments(other)[1]}.${goodSignature}`, BAD_SIGNATURE);
  });

  it('refuses a signature 1 KiB long and one of 22 KB', async () => {
    await attack.refused(withSignature(good, Buffer.alloc(1025, 1)), BAD_SIGNATURE);
    await attack.refused(withSignature(good, Buffer.alloc(12_000, 1)), INVALID);
  });
});

/** The order of each NIST curve's base point (`openssl ecparam -param_enc explicit -text`). */
const ORDER: Readonly<Record<'ES256' | 'ES384' | 'ES512', { n: bigint; bytes: number; key: TestKey }>> = {
  ES256: { n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, bytes: 32, key: p256 },
  ES384: {
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bytes: 48,
    key: p384,
  },
  ES512: {
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    bytes: 66,
    key: p521,
  },
};

describe('ECDSA special values (CVE-2022-21449) and encodings', () => {
  for (const [alg, { n, bytes, key }] of Object.entries(ORDER)) {
    const token = mintToken({ key, header: { alg } });
    const sig = Buffer.from(segments(token)[2], 'base64url');
    const r = BigInt(`0x${sig.subarray(0, bytes).toString('hex')}`);
    const s = BigInt(`0x${sig.subarray(bytes).toString('hex')}`);
    const int = (v: bigint) => Buffer.from(v.toString(16).padStart(bytes * 2, '0'), 'hex');
    const rs = (a: bigint, b: bigint) => Buffer.concat([int(a), int(b)]);
    const max = (1n << BigInt(bytes * 8)) - 1n;

    it.each([
      ['r = s = 0', rs(0n, 0n)],
      ['r = 0', rs(0n, s)],
      ['s = 0', rs(r, 0n)],
      ['r = s = 1', rs(1n, 1n)],
      ['r = n', rs(n, s)],
      ['s = n', rs(r, n)],
      ['r = s = n', rs(n, n)],
      ['r = n − 1', rs(n - 1n, s)],
      ['s = n − 1', rs(r, n - 1n)],
      ['r = n + 1', rs(n + 1n, s)],
      ['r of all one bits (≥ n)', rs(max, s)],
      ['s of all one bits (≥ n)', rs(r, max)],
    ])(`refuses ${alg} with %s`, async (_name, forged) => {
      await attack.refused(withSignature(token, forged), BAD_SIGNATURE);
    });

    it(`refuses ${alg} signatures of the wrong length, with trailing zeros, or DER-encoded`, async () => {
      const der = sign(`sha${alg.slice(2)}`, Buffer.from(segments(token).slice(0, 2).join('.')), {
        key: key.privateKey,
        dsaEncoding: 'der',
      });
      for (const forged of [
        sig.subarray(1),
        Buffer.concat([sig, Buffer.alloc(1)]),
        Buffer.concat([Buffer.alloc(1), sig]),
        der,
      ]) {
        await attack.refused(withSignature(token, forged), BAD_SIGNATURE);
      }
    });

    it(`accepts the high-s twin (r, n − s) of a valid ${alg} signature: valid by the spec`, async () => {
      const twin = withSignature(token, rs(r, n - s));
      await attack.accepted(twin);
    });
  }
});

it('refuses a token signed by a key the issuer never published, under a real kid', async () => {
  const stranger = rsaKey('stranger');
  await attack.refused(
    signCompact('RS256', `${b64url(headerJson(rsa))}.${goodPayload}`, stranger.privateKey),
    BAD_SIGNATURE,
  );
});
