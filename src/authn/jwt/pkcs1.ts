import { constants, hash, publicDecrypt, type KeyObject } from 'node:crypto';

/**
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) as Go's `rsa.VerifyPKCS1v15` does it,
 * which is what kube-apiserver runs for an RS* token: the RSA public operation on the
 * signature, then a comparison of the whole result with the one encoding the signature may
 * have, 00 01 FF…FF 00 ‖ DigestInfo ‖ hash. Nothing of the result is parsed, so no laxer
 * reading of it (BER lengths, missing NULL parameters, short padding: Bleichenbacher's 2006
 * forgeries) can accept a second encoding. OpenSSL's `RSA_verify` compares the same bytes;
 * calling the public operation directly skips the per-call set-up `crypto.verify` pays
 * (a digest context, node's job object), about 1 µs of every uncached RS* token
 * (docs/benchmarks.md).
 */

/** RFC 8017 §9.2, note 1: the DER DigestInfo ahead of each hash. */
const DIGEST_INFO: Readonly<Record<Sha2Hash, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** Each hash's length in bytes: the PKCS #1 encoding's tail here, the PSS salt length in verify.ts. */
export const HASH_BYTES: Readonly<Record<Sha2Hash, number>> = { sha256: 32, sha384: 48, sha512: 64 };

export type Sha2Hash = 'sha256' | 'sha384' | 'sha512';

interface RsaPublicKey {
  /** The modulus length in bytes (RFC 8017's k). */
  readonly k: number;
  /** publicDecrypt's argument, made once per key. */
  readonly raw: { readonly key: KeyObject; readonly padding: number };
  /** Per hash, the encoding's k − hLen bytes ahead of the hash; undefined where k is too short for it. */
  readonly heads: Readonly<Record<Sha2Hash, Buffer | undefined>>;
}

/** 00 01 FF…FF 00 ‖ DigestInfo: what every valid signature's public operation starts with. */
function headOf(k: number, hashName: Sha2Hash): Buffer | undefined {
  const digestInfo = DIGEST_INFO[hashName];
  const length = k - HASH_BYTES[hashName];
  // RFC 8017 §9.2 step 3: at least 8 bytes of FF padding.
  if (length < digestInfo.length + 11) return undefined;
  const head = Buffer.alloc(length, 0xff);
  head[0] = 0x00;
  head[1] = 0x01;
  head[length - digestInfo.length - 1] = 0x00;
  digestInfo.copy(head, length - digestInfo.length);
  return head;
}

/** Each key's facts, made on its first use: the key's details are built anew on every read. Undefined: not an RSA key. */
const rsaKeys = new WeakMap<KeyObject, RsaPublicKey | undefined>();

function rsaPublicKey(key: KeyObject): RsaPublicKey | undefined {
  if (rsaKeys.has(key)) return rsaKeys.get(key);
  const bits = key.asymmetricKeyType === 'rsa' ? (key.asymmetricKeyDetails?.modulusLength ?? 0) : 0;
  const k = Math.ceil(bits / 8);
  const facts =
    k > 0
      ? Object.freeze({
          k,
          raw: Object.freeze({ key, padding: constants.RSA_NO_PADDING }),
          heads: Object.freeze({
            sha256: headOf(k, 'sha256'),
            sha384: headOf(k, 'sha384'),
            sha512: headOf(k, 'sha512'),
          }),
        })
      : undefined;
  rsaKeys.set(key, facts);
  return facts;
}

/**
 * Whether `signature` is a PKCS #1 v1.5 signature of `data` under the RSA public key `key`.
 * A signature whose length is not the modulus's (Go and OpenSSL both refuse it) or whose
 * value is not below the modulus (OpenSSL throws) is false; so is any key that is not RSA.
 */
export function verifyPkcs1v15(hashName: Sha2Hash, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  const rsa = rsaPublicKey(key);
  if (rsa === undefined) return false;
  const { k } = rsa;
  const head = rsa.heads[hashName];
  if (head === undefined || signature.length !== k) return false;
  let em: Buffer;
  try {
    em = publicDecrypt(rsa.raw, signature);
  } catch {
    return false;
  }
  if (em.length !== k || em.compare(head, 0, head.length, 0, head.length) !== 0) return false;
  // Compared as latin1 strings ('binary': one character per byte): a digest Buffer made in native code costs more.
  return hash(hashName, data, 'binary') === em.toString('latin1', head.length, k);
}
