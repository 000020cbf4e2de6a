import {
  createHash,
  createHmac,
  hash as nodeHash,
  randomBytes,
  type BinaryToTextEncoding,
} from 'node:crypto';

/** SHA-256's block: an HMAC key is padded to it (RFC 2104). */
const BLOCK = 64;

/**
 * One native call per digest where Node has `crypto.hash` (20.12 and later). The digest comes
 * back as a string: a Buffer made in native code costs more than the hashing of a token.
 */
const digest: (data: string | Buffer, encoding: BinaryToTextEncoding) => string =
  typeof nodeHash === 'function'
    ? (data, encoding) => nodeHash('sha256', data, encoding)
    : (data, encoding) => createHash('sha256').update(data).digest(encoding);

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * One unambiguous string for a list of strings: each part prefixed with its length in
 * UTF-16 code units (times two, as it always was: the byte length in UTF-16LE).
 */
export function lengthPrefixed(parts: readonly string[]): string {
  let out = '';
  for (const p of parts) out += `${p.length * 2}:${p}`;
  return out;
}

/**
 * The token cache's key function: HMAC-SHA-256 under a per-process random key over the
 * length-prefixed token and each requested audience, in order, as kube-apiserver's cached
 * token authenticator keys its cache (so nothing in memory lets anyone precompute a
 * token's key, and no two (token, audiences) pairs share one).
 *
 * Computed as RFC 2104 writes it, H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), with two one-shot
 * hashes instead of an Hmac object per review (the object and its OpenSSL context cost
 * more than the hashing of a 1 KB token). The key's bytes are drawn below 0x80, so that
 * K ⊕ ipad is ASCII and the inner hash takes one string: the ipad block and the message in
 * UTF-8, which is one-to-one on well-formed strings. A string holding a lone surrogate
 * (never a valid token, but any text may be sent) is hashed in UTF-16LE instead, which is
 * one-to-one on every JS string; the first byte of the message tells the two encodings apart.
 * `key` is for tests that check the result against node's own HMAC.
 */
export function cacheKeyFunction(
  key: Buffer = Buffer.from(randomBytes(BLOCK).map((b) => b & 0x7f)),
): (token: string, audiences: readonly string[]) => string {
  if (key.length !== BLOCK || key.some((b) => b >= 0x80))
    throw new TypeError('cacheKeyFunction: the key must be 64 bytes below 0x80');
  const ipad = Buffer.from(key.map((b) => b ^ 0x36)).toString('latin1');
  // The outer message: K ⊕ opad, then the inner digest written in place on each call.
  const outer = Buffer.from([...key.map((b) => b ^ 0x5c), ...new Uint8Array(32)]);
  return (token, audiences) => {
    let message = `${token.length * 2}:${token}`;
    for (const a of audiences) message += `${a.length * 2}:${a}`;
    if (isWellFormed(message)) {
      // The inner digest's 32 bytes as 32 characters ('binary' is Node's name for latin1), written back as those bytes.
      outer.write(digest(`${ipad}8${message}`, 'binary'), BLOCK, 'latin1');
      return digest(outer, 'base64');
    }
    return createHmac('sha256', key).update('U', 'latin1').update(message, 'utf16le').digest('base64');
  };
}
