import {
  constants,
  createHash,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyPkcs1v15, type Sha2Hash } from '../../../src/authn/jwt/pkcs1.js';
import { ecKey, rsaKey, type TestKey } from '../../helpers/keys.js';

const HASHES: Sha2Hash[] = ['sha256', 'sha384', 'sha512'];
const DIGEST_INFO: Record<Sha2Hash, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

const modulusBytes = (key: TestKey): number =>
  Math.ceil(key.publicKey.asymmetricKeyDetails!.modulusLength! / 8);

/** The modulus n as k big-endian bytes. */
function modulus(key: TestKey): Buffer {
  const n = Buffer.from(key.publicKey.export({ format: 'jwk' }).n!, 'base64url');
  return Buffer.concat([Buffer.alloc(modulusBytes(key) - n.length), n]);
}

/** A "signature" whose public operation gives exactly `em` (k bytes, below n): the private operation on it. */
function signatureOf(key: TestKey, em: Buffer): Buffer {
  return privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, em);
}

/** 00 01 FF…FF 00 ‖ DigestInfo ‖ H(data) ‖ tail, padded with FF to k bytes. */
function encoding(
  data: Buffer,
  hashName: Sha2Hash,
  k: number,
  parts: { digestInfo?: Buffer; tail?: Buffer } = {},
): Buffer {
  const t = Buffer.concat([
    parts.digestInfo ?? Buffer.from(DIGEST_INFO[hashName], 'hex'),
    createHash(hashName).update(data).digest(),
    parts.tail ?? Buffer.alloc(0),
  ]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]);
}

/** Both verifiers' answers, which must agree. */
function both(key: TestKey, hashName: Sha2Hash, data: Buffer, signature: Buffer): [boolean, boolean] {
  let openssl: boolean;
  try {
    openssl = verify(hashName, data, key.publicKey, signature);
  } catch {
    openssl = false;
  }
  return [verifyPkcs1v15(hashName, data, key.publicKey, signature), openssl];
}

const data = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0');

describe('verifyPkcs1v15', () => {
  it.each(HASHES)(
    'accepts a %s signature made by node:crypto, and what crypto.verify accepts',
    (hashName) => {
      for (const key of [rsaKey(), rsaKey('pkcs1', 3072)]) {
        const signature = sign(hashName, data, key.privateKey);
        expect(both(key, hashName, data, signature)).toEqual([true, true]);
      }
    },
  );

  it('accepts a key whose modulus is not a whole number of bytes (2052 bits: 257-byte signatures)', () => {
    const key = rsaKey('odd', 2052);
    const signature = sign('sha256', data, key.privateKey);
    expect(signature.length).toBe(257);
    expect(both(key, 'sha256', data, signature)).toEqual([true, true]);
  });

  it('refuses the signature of other data, or checked with another hash', () => {
    const key = rsaKey();
    const signature = sign('sha256', data, key.privateKey);
    expect(both(key, 'sha256', Buffer.from(`${data}x`), signature)).toEqual([false, false]);
    expect(both(key, 'sha384', data, signature)).toEqual([false, false]);
    expect(both(key, 'sha512', data, signature)).toEqual([false, false]);
  });

  it('refuses a valid signature written one byte shorter or longer than the modulus, as Go does', () => {
    const key = rsaKey();
    // PKCS #1 v1.5 is deterministic: vary the data until a signature starts with a zero byte.
    let signed: { message: Buffer; signature: Buffer } | undefined;
    for (let i = 0; !signed && i < 4096; i++) {
      const message = Buffer.from(`${data}.${i}`);
      const signature = sign('sha256', message, key.privateKey);
      if (signature[0] === 0) signed = { message, signature };
    }
    if (!signed) throw new Error('no signature with a leading zero byte in 4,096 tries');
    const { message, signature } = signed;
    expect(both(key, 'sha256', message, signature)).toEqual([true, true]);
    expect(both(key, 'sha256', message, signature.subarray(1))).toEqual([false, false]);
    expect(both(key, 'sha256', message, Buffer.concat([Buffer.from([0]), signature]))).toEqual([
      false,
      false,
    ]);
  });

  it('refuses, without throwing, signatures at or above the modulus, zero, and empty ones', () => {
    const key = rsaKey();
    const n = modulus(key);
    const nPlusOne = Buffer.from(n);
    nPlusOne[nPlusOne.length - 1]! += 1;
    for (const signature of [n, nPlusOne, Buffer.alloc(256, 0xff), Buffer.alloc(256), Buffer.alloc(0)]) {
      expect(both(key, 'sha256', data, signature)).toEqual([false, false]);
    }
  });

  it('accepts exactly the one encoding: every laxer or altered one is refused, as crypto.verify refuses it', () => {
    const key = rsaKey();
    const k = 256;
    const exact = encoding(data, 'sha256', k);
    expect(both(key, 'sha256', data, signatureOf(key, exact))).toEqual([true, true]);
    const digest = createHash('sha256').update(data).digest();
    const variants: Record<string, Buffer> = {
      // DigestInfo without the NULL parameters (a reading some verifiers allowed).
      'no NULL parameters': encoding(data, 'sha256', k, {
        digestInfo: Buffer.from('302f300b0609608648016503040201' + '0420', 'hex'),
      }),
      // A long-form DER length in the DigestInfo: the same value, another spelling.
      'long-form length': encoding(data, 'sha256', k, {
        digestInfo: Buffer.from('308131300d060960864801650304020105000420', 'hex'),
      }),
      // Bleichenbacher 2006: fewer FF bytes and garbage after the hash.
      'garbage after the hash': encoding(data, 'sha256', k, { tail: randomBytes(40) }),
      'SHA-384 DigestInfo around a SHA-256 hash': Buffer.concat([
        exact.subarray(0, k - 32 - 19),
        Buffer.from(DIGEST_INFO.sha384, 'hex'),
        digest,
      ]),
      'block type 02': Buffer.concat([Buffer.from([0, 2]), exact.subarray(2)]),
      'first byte not zero': Buffer.concat([Buffer.from([1, 1]), exact.subarray(2)]).subarray(0, k),
      'a padding byte not FF': (() => {
        const em = Buffer.from(exact);
        em[100] = 0xfe;
        return em;
      })(),
      'block type 00 with zero padding': Buffer.concat([Buffer.alloc(k - 51), exact.subarray(k - 51)]),
      'the hash with its last bit flipped': (() => {
        const em = Buffer.from(exact);
        em[k - 1]! ^= 1;
        return em;
      })(),
    };
    for (const [name, em] of Object.entries(variants)) {
      expect(em.length, name).toBe(k);
      expect(both(key, 'sha256', data, signatureOf(key, em)), name).toEqual([false, false]);
    }
  });

  it('agrees with crypto.verify on 500 altered signatures (bits flipped, bytes replaced)', () => {
    const key = rsaKey();
    const signature = sign('sha256', data, key.privateKey);
    for (let i = 0; i < 500; i++) {
      const altered = Buffer.from(signature);
      const at = i % altered.length;
      if (i % 2 === 0) altered[at]! ^= 1 << (i % 8);
      else altered[at] = randomBytes(1)[0]!;
      const [ours, openssl] = both(key, 'sha256', data, altered);
      expect(ours).toBe(openssl);
    }
  });

  it('refuses every key that is not a plain RSA key (EC, RSA-PSS)', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const signature = sign('sha256', data, rsaKey().privateKey);
    expect(verifyPkcs1v15('sha256', data, pss.publicKey, signature)).toBe(false);
    expect(verifyPkcs1v15('sha256', data, ecKey().publicKey, signature)).toBe(false);
  });
});
