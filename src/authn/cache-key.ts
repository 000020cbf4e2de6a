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
 * more than the hashing of a 1 KB token). The message is the ipad block, then `8`, then each
 * part length-prefixed in UTF-8, which is one-to-one on well-formed strings; it is written
 * into one buffer kept for the purpose (no string of the whole message is built: on a cache
 * miss that was most of the key's garbage). A string holding a lone surrogate
 * (never a valid token, but any text may be sent) is hashed in UTF-16LE instead, which is
 * one-to-one on every JS string; the first byte of the message tells the two encodings apart.
 * `key` is for tests that check the result against node's own HMAC.
 */
export function cacheKeyFunction(
  key: Buffer = Buffer.from(randomBytes(BLOCK).map((b) => b & 0x7f)),
): (token: string, audiences: readonly string[]) => string {
  if (key.length !== BLOCK || key.some((b) => b >= 0x80))
    throw new TypeError('cacheKeyFunction: the key must be 64 bytes below 0x80');
  // The inner message: K ⊕ ipad and the UTF-8 marker, then the parts written on each call.
  const inner = Buffer.allocUnsafe(INNER_BYTES);
  inner.set(key.map((b) => b ^ 0x36));
  inner[BLOCK] = 0x38; // '8'
  // The outer message: K ⊕ opad, then the inner digest written in place on each call.
  const outer = Buffer.from([...key.map((b) => b ^ 0x5c), ...new Uint8Array(32)]);
  const ipad = inner.toString('latin1', 0, BLOCK);
  // A frozen list's strings never change, so its part of the message is encoded once (the
  // API audiences of every review that names none). Keyed by the list itself: no other list
  // can hit its entry, and an equal list that is not frozen is encoded on each call.
  const frozenParts = new WeakMap<readonly string[], Buffer | typeof NOT_WELL_FORMED>();
  const audienceBytes = (audiences: readonly string[]): Buffer | typeof NOT_WELL_FORMED | undefined => {
    if (!Object.isFrozen(audiences)) return undefined;
    let part = frozenParts.get(audiences);
    if (part === undefined) {
      part = audiences.every(isWellFormed)
        ? Buffer.from(audiences.map((a) => `${a.length * 2}:${a}`).join(''), 'utf8')
        : NOT_WELL_FORMED;
      frozenParts.set(audiences, part);
    }
    return part;
  };
  return (token, audiences) => {
    // Parts are split by ASCII length prefixes, so no surrogate pair spans two of them.
    let wellFormed = isWellFormed(token);
    let bound = BLOCK + 1 + UTF8_BOUND(token);
    const part = audienceBytes(audiences);
    if (part === undefined) {
      for (const a of audiences) {
        wellFormed &&= isWellFormed(a);
        bound += UTF8_BOUND(a);
      }
    } else if (part === NOT_WELL_FORMED) wellFormed = false;
    else bound += part.length;
    if (!wellFormed) return utf16Key(key, token, audiences);
    let innerDigest: string;
    if (bound <= INNER_BYTES) {
      let at = writeLengthPrefix(inner, BLOCK + 1, token.length * 2);
      at += inner.write(token, at, 'utf8');
      if (part === undefined) {
        for (const a of audiences) {
          at = writeLengthPrefix(inner, at, a.length * 2);
          at += inner.write(a, at, 'utf8');
        }
      } else {
        inner.set(part as Buffer, at);
        at += (part as Buffer).length;
      }
      innerDigest = digest(inner.subarray(0, at), 'binary');
    } else {
      innerDigest = digest(`${ipad}8${lengthPrefixed([token, ...audiences])}`, 'binary');
    }
    // The inner digest's 32 bytes as 32 characters ('binary' is Node's name for latin1), written back as those bytes.
    outer.write(innerDigest, BLOCK, 'latin1');
    return digest(outer, 'base64');
  };
}

/** A frozen audience list holding a lone surrogate: hashed in UTF-16LE, as any such list. */
const NOT_WELL_FORMED = Symbol('not well-formed');

/**
 * `n:` in ASCII digits at `at`, as `` `${n}:` `` would be written in latin1 (no string, no
 * native call); returns where the next part starts.
 */
function writeLengthPrefix(buf: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  let m = n;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = 0x30 + (m % 10);
    m = Math.floor(m / 10);
  }
  buf[at + digits] = 0x3a; // ':'
  return at + digits + 1;
}

/** Room for the inner message of any token up to 16 KB of UTF-16 with its audiences; longer ones build a string. */
const INNER_BYTES = 64 * 1024;

/** The most bytes a part takes: its length prefix, and at most 3 UTF-8 bytes per UTF-16 unit. */
const UTF8_BOUND = (s: string): number => 3 * s.length + 24;

function utf16Key(key: Buffer, token: string, audiences: readonly string[]): string {
  return createHmac('sha256', key)
    .update('U', 'latin1')
    .update(lengthPrefixed([token, ...audiences]), 'utf16le')
    .digest('base64');
}
