import { TokenwardenError } from '../../errors.js';
import { ALGORITHMS, type Algorithm } from '../../keys/key-source.js';
import { parseStrictObject } from './strict-json.js';

/**
 * Kube SA tokens are 1–2 KB (the fixtures are 913 and 1007 bytes); anything beyond this
 * is refused before a single byte is decoded (security.md F1).
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_JSON_DEPTH = 16;
const MAX_KID_LENGTH = 1024;
/** The largest signature we ever verify: RSA-8192 is 1024 bytes. */
const MAX_SIGNATURE_BYTES = 1024;
/** go-jose refuses NumericDates beyond 2^62; JS numbers are exact up to 2^53. */
const MAX_NUMERIC_DATE = 2 ** 53;

export const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set<string>(ALGORITHMS);

/**
 * Header members that would make the token mean something we do not implement (crit,
 * b64, zip, enc) or that point at keys chosen by the sender (jwk, jku, x5u, x5c): a
 * kube-issued token never carries any of them, so they are refused, not ignored.
 */
const REFUSED_HEADER_MEMBERS = ['crit', 'b64', 'zip', 'enc', 'jwk', 'jku', 'x5u', 'x5c'] as const;

/** Nothing in here has been verified. Named so no one forgets. */
export interface UnverifiedToken {
  readonly alg: Algorithm;
  /** Undefined when absent or empty: every key of the issuer is a candidate. */
  readonly kid: string | undefined;
  readonly untrustedIssuer: string;
  readonly untrustedClaims: Readonly<Record<string, unknown>>;
  /** `header.payload`, the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export type GateResult =
  /** Kube's pre-filter would drop it too: not a compact JWT, or an issuer that is not ours. */
  | { readonly kind: 'not-mine' }
  | { readonly kind: 'rejected'; readonly error: TokenwardenError }
  | { readonly kind: 'token'; readonly token: UnverifiedToken };

const NOT_MINE: GateResult = Object.freeze({ kind: 'not-mine' });

function rejected(detail: string): GateResult {
  // Kube answers every malformed token with this text; the detail is for `verify` and debug logs.
  return {
    kind: 'rejected',
    error: new TokenwardenError('ERR_TOKEN_MALFORMED', 'invalid bearer token', { detail }),
  };
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const B64URL_VALUES = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Canonical unpadded base64url only (RFC 7515 §2, RFC 4648 §3.5): no padding, no
 * whitespace, no `+`/`/`, and zero unused trailing bits, so exactly one string encodes
 * each byte sequence. Node's decoder accepts all of those; this does not.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  const rem = segment.length % 4;
  if (segment.length === 0 || rem === 1 || !B64URL.test(segment)) return undefined;
  if (rem !== 0) {
    const last = B64URL_VALUES[segment.charCodeAt(segment.length - 1)]!;
    if ((rem === 2 && (last & 0x0f) !== 0) || (rem === 3 && (last & 0x03) !== 0)) return undefined;
  }
  return Buffer.from(segment, 'base64url');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeJsonSegment(segment: string): Record<string, unknown> | string {
  const bytes = decodeBase64url(segment);
  if (!bytes) return 'segment is not canonical base64url';
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return 'segment starts with a byte order mark';
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'segment is not valid UTF-8';
  }
  const parsed = parseStrictObject(text, MAX_JSON_DEPTH);
  return parsed.ok ? parsed.value : parsed.reason;
}

function own(obj: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function checkNumericDate(claims: Readonly<Record<string, unknown>>, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const v = claims[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${name} must be a number`;
  if (Math.abs(v) >= MAX_NUMERIC_DATE) return `${name} is out of range`;
  return undefined;
}

interface CheckedHeader {
  readonly alg: Algorithm;
  readonly kid: string | undefined;
}

function checkHeader(segment: string): CheckedHeader | string {
  const header = decodeJsonSegment(segment);
  if (typeof header === 'string') return `header: ${header}`;
  const alg = own(header, 'alg');
  if (typeof alg !== 'string' || !SUPPORTED_ALGORITHMS.has(alg))
    return 'header: alg is missing or not an accepted algorithm';
  for (const member of REFUSED_HEADER_MEMBERS) {
    if (Object.hasOwn(header, member)) return `header: "${member}" is not accepted`;
  }
  const typ = own(header, 'typ');
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT'))
    return 'header: typ must be JWT when present';
  const kid = own(header, 'kid');
  if (kid !== undefined && typeof kid !== 'string') return 'header: kid must be a string';
  if (typeof kid === 'string' && kid.length > MAX_KID_LENGTH) return 'header: kid is too long';
  return Object.freeze({ alg: alg as Algorithm, kid: kid === '' ? undefined : (kid as string | undefined) });
}

/**
 * Every token of one signing key carries the same header segment, so its verdict is
 * remembered: a pure function of the exact string, in a small map that is simply
 * emptied when full, so varied headers cost a re-check, never memory.
 */
const headerVerdicts = new Map<string, CheckedHeader | string>();
const MAX_REMEMBERED_HEADERS = 256;
const MAX_REMEMBERED_HEADER_LENGTH = 512;

function checkedHeader(segment: string): CheckedHeader | string {
  let verdict = headerVerdicts.get(segment);
  if (verdict === undefined) {
    verdict = checkHeader(segment);
    if (segment.length > MAX_REMEMBERED_HEADER_LENGTH) return verdict;
    if (headerVerdicts.size >= MAX_REMEMBERED_HEADERS) headerVerdicts.clear();
    headerVerdicts.set(segment, verdict);
  }
  return verdict;
}

/**
 * The strict gate every token passes before any key is touched. `isOurIssuer` decides
 * "mine or not" from the unverified `iss`, as kube's `hasCorrectIssuer`; a token for one
 * of our issuers that fails a stricter check is rejected with a coded error.
 */
export function gateToken(token: string, isOurIssuer: (iss: string) => boolean): GateResult {
  if (token.length > MAX_TOKEN_LENGTH || token.length === 0) return NOT_MINE;
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) return NOT_MINE;
  if (token.trimStart().startsWith('{')) return NOT_MINE;

  const claims = decodeJsonSegment(token.slice(first + 1, second));
  if (typeof claims === 'string') return NOT_MINE;
  const iss = own(claims, 'iss');
  if (typeof iss !== 'string' || !isOurIssuer(iss)) return NOT_MINE;

  const header = checkedHeader(token.slice(0, first));
  if (typeof header === 'string') return rejected(header);

  const signature = decodeBase64url(token.slice(second + 1));
  if (!signature) return rejected('signature is not canonical base64url');
  if (signature.length > MAX_SIGNATURE_BYTES) return rejected('signature is too long');

  for (const name of ['exp', 'nbf', 'iat']) {
    const problem = checkNumericDate(claims, name);
    if (problem) return rejected(`claims: ${problem}`);
  }
  const aud = own(claims, 'aud');
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
  ) {
    return rejected('claims: aud must be a string or an array of strings');
  }

  return {
    kind: 'token',
    token: {
      alg: header.alg,
      kid: header.kid,
      untrustedIssuer: iss,
      untrustedClaims: claims,
      signingInput: token.slice(0, second),
      signature,
    },
  };
}
