import { isUtf8 } from 'node:buffer';
import { TokenwardenError } from '../../errors.js';
import { INVALID_BEARER_TOKEN } from '../bearer.js';
import { ALGORITHMS, type Algorithm } from '../../keys/key-source.js';
import { isObject, own } from '../../json.js';
import { firstDuplicateMemberName, parseStrictObject, strictProblem } from './strict-json.js';

/**
 * Kube SA tokens are 1–2 KB (the fixtures are 913 and 1007 bytes); anything beyond this
 * is refused before a single byte is decoded, so a huge header costs nothing to refuse.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_JSON_DEPTH = 16;
const MAX_KID_LENGTH = 1024;
/** The largest signature we ever verify: RSA-8192 is 1024 bytes. */
export const MAX_SIGNATURE_BYTES = 1024;
/** go-jose refuses NumericDates beyond 2^62; JS numbers are exact up to 2^53. */
const MAX_NUMERIC_DATE = 2 ** 53;

const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set<string>(ALGORITHMS);

/**
 * Header members that would make the token mean something we do not implement (b64,
 * zip, enc) or that point at keys chosen by the sender (jwk, jku, x5u, x5c): a
 * kube-issued token never carries any of them, so they are refused, not ignored.
 * (`crit` is refused too, as go-jose does: it fails the signature check.)
 */
const REFUSED_HEADER_MEMBERS = ['b64', 'zip', 'enc', 'jwk', 'jku', 'x5u', 'x5c'] as const;

const NUMERIC_DATES = ['exp', 'nbf', 'iat'] as const;

/** go-jose's texts for claims its decoder cannot read; kube reports them after the signature. */
const NUMERIC_DATE_ERROR = 'go-jose/go-jose/jwt: expected number value to unmarshal NumericDate';
const AUDIENCE_ERROR = 'go-jose/go-jose/jwt: expected string or array value to unmarshal to Audience';

/** Nothing in here has been verified. Named so no one forgets. */
export interface UnverifiedToken {
  /**
   * Undefined when the token cannot verify under any key (an algorithm we never accept,
   * `crit`, an empty or oversized signature): kube selects keys first and then answers
   * with go-jose's crypto failure, so the verifier does the same.
   */
  readonly alg: Algorithm | undefined;
  /** Undefined when absent or empty: every key of the issuer is a candidate. */
  readonly kid: string | undefined;
  /** The issuer as kube's pre-filter reads it (Go's JSON: member names match case-insensitively). */
  readonly untrustedIssuer: string;
  /** The claims as JSON.parse reads them; usable only when `claimsProblem` is undefined. */
  readonly untrustedClaims: Readonly<Record<string, unknown>>;
  /**
   * What is wrong with the claims, reported only once the signature has verified, as kube
   * decodes claims after verifying (pkg/serviceaccount/jwt.go): only the holder of a validly
   * signed token learns why its claims were refused.
   */
  readonly claimsProblem: TokenwardenError | undefined;
  /** `header.payload`, the bytes the signature covers: base64url and `.` only, so ASCII. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export type GateResult =
  /** Kube's pre-filter would drop it too: not a compact JWT, or an issuer that is not ours. */
  | { readonly kind: 'not-mine' }
  | { readonly kind: 'rejected'; readonly error: TokenwardenError }
  | { readonly kind: 'token'; readonly token: UnverifiedToken };

const NOT_MINE: GateResult = Object.freeze({ kind: 'not-mine' });

/** Kube answers every malformed token with this text; the detail is for `verify` and debug logs. */
function malformed(detail: string): TokenwardenError {
  return new TokenwardenError('ERR_TOKEN_MALFORMED', INVALID_BEARER_TOKEN, { detail });
}

/** Each base64url character's value, -1 for every other ASCII character. */
export const B64URL_VALUES = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Decodes what Go's `base64.RawURLEncoding` accepts (the base64url alphabet, no padding,
 * no length ≡ 1 mod 4), else undefined. Node's decoder is laxer: it takes `+` and `/`,
 * stops at `=`, skips every other character outside the alphabet, and reads only the low
 * byte of a character above U+00FF, so `A` + 0x100 would decode as `A` (one token, many
 * spellings, all verifying). So the text must be ASCII (its UTF-8 length is its length), hold
 * no `+`, `/` or `=`, and decode to exactly ⌊3n/4⌋ bytes: with n ≢ 1 (mod 4), one character
 * skipped or a stop at `=` always leaves fewer. This costs a third of a regular expression
 * over the whole segment (payloads are ~600 characters, on every uncached token).
 * `plain`: the caller has already found the whole token ASCII without `+`, `/` or `=`.
 */
function decodeRawUrlBase64(segment: string, plain = false): Buffer | undefined {
  const n = segment.length;
  if (n % 4 === 1 || (!plain && !isPlain(segment))) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.length === (n * 3) >> 2 ? bytes : undefined;
}

/** ASCII holding no `+`, `/` or `=`: what is left for a decoder to refuse is a length it cannot reach. */
function isPlain(text: string): boolean {
  return (
    Buffer.byteLength(text, 'utf8') === text.length &&
    !text.includes('+') &&
    !text.includes('/') &&
    !text.includes('=')
  );
}

/**
 * Payloads are decoded here and read as text at once, so no Buffer is made per token; the
 * gate is synchronous, so no other token can write in between.
 */
const payloadScratch = Buffer.allocUnsafe((MAX_TOKEN_LENGTH * 3) >> 2);

/**
 * The payload segment's bytes as UTF-8 text (ill-formed sequences replaced, as Go's decoder
 * reads them), under decodeRawUrlBase64's rules; undefined where those refuse it.
 */
function decodePayloadText(segment: string, plain: boolean): string | undefined {
  const n = segment.length;
  if (n % 4 === 1 || (!plain && !isPlain(segment))) return undefined;
  const written = payloadScratch.write(segment, 0, 'base64url');
  return written === (n * 3) >> 2 ? payloadScratch.toString('utf8', 0, written) : undefined;
}

/**
 * Whether the payload's bytes were well-formed UTF-8, read from its decoded text: Node's
 * decoder turns every ill-formed sequence into U+FFFD, so a text without one came from
 * well-formed bytes; only a text holding one (rare: it may be spelled in the claims) is
 * decoded again and checked byte by byte.
 */
function isUtf8Payload(segment: string, text: string): boolean {
  return !text.includes('\uFFFD') || isUtf8(Buffer.from(segment, 'base64url'));
}

/** Zero unused trailing bits, so exactly one string encodes each byte sequence (RFC 4648 §3.5). */
function hasCanonicalTail(segment: string): boolean {
  const rem = segment.length % 4;
  if (rem === 0) return true;
  const last = B64URL_VALUES[segment.charCodeAt(segment.length - 1)]!;
  return rem === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/**
 * Canonical unpadded base64url only (RFC 7515 §2): no padding, no whitespace, no
 * `+`/`/`, and zero unused trailing bits. Node's decoder accepts all of those.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (segment.length === 0 || !hasCanonicalTail(segment)) return undefined;
  return decodeRawUrlBase64(segment);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The issuer as Go's encoding/json fills `struct{ Issuer string "json:\"iss\"" }`: any
 * member whose name equals `iss` ignoring case, the last one winning; a non-string
 * value is a decoding error, so not ours.
 */
function goIssuer(claims: Readonly<Record<string, unknown>>): string | undefined {
  let iss: unknown;
  for (const name in claims) {
    if (isIssName(name)) iss = claims[name];
  }
  return typeof iss === 'string' ? iss : undefined;
}

/**
 * `name.toLowerCase() === 'iss'` without a new string per member: only `i`/`I` and `s`/`S`
 * lower-case to those letters in one code unit, and `| 0x20` maps exactly those pairs there.
 */
function isIssName(name: string): boolean {
  return (
    name.length === 3 &&
    (name.charCodeAt(0) | 0x20) === 0x69 &&
    (name.charCodeAt(1) | 0x20) === 0x73 &&
    (name.charCodeAt(2) | 0x20) === 0x73
  );
}

/**
 * tokenwarden's header rules beyond the JOSE libraries' (README, "stricter"): a bounded
 * kid, none of the members that change the token's meaning or name sender-chosen keys,
 * and `typ` JWT when present.
 */
export function headerPolicyProblem(header: Readonly<Record<string, unknown>>): string | undefined {
  const kid = own(header, 'kid');
  if (typeof kid === 'string' && kid.length > MAX_KID_LENGTH) return 'kid is too long';
  for (const member of REFUSED_HEADER_MEMBERS) {
    if (Object.hasOwn(header, member)) return `"${member}" is not accepted`;
  }
  const typ = own(header, 'typ');
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) {
    return 'typ must be JWT when present';
  }
  return undefined;
}

interface CheckedHeader {
  readonly alg: Algorithm | undefined;
  readonly kid: string | undefined;
}

function checkHeader(segment: string): CheckedHeader | TokenwardenError {
  const bytes = decodeBase64url(segment);
  if (!bytes) return malformed('header: segment is not canonical base64url');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return malformed('header: segment is not valid UTF-8');
  }
  const parsed = parseStrictObject(text, MAX_JSON_DEPTH);
  if (!parsed.ok) return malformed(`header: ${parsed.reason}`);
  const header = parsed.value;
  const alg = own(header, 'alg');
  // go-jose fails to parse a header whose alg or kid is not a string: not a JWS at all.
  if (alg !== undefined && typeof alg !== 'string') return malformed('header: alg must be a string');
  const kid = own(header, 'kid');
  if (kid !== undefined && typeof kid !== 'string') return malformed('header: kid must be a string');
  const policy = headerPolicyProblem(header);
  if (policy !== undefined) return malformed(`header: ${policy}`);
  const verifiable =
    typeof alg === 'string' && SUPPORTED_ALGORITHMS.has(alg) && !Object.hasOwn(header, 'crit');
  return Object.freeze({
    alg: verifiable ? (alg as Algorithm) : undefined,
    kid: kid === '' ? undefined : (kid as string | undefined),
  });
}

/**
 * Every token of one signing key carries the same header segment, so its verdict is
 * remembered: a pure function of the exact string, in a small map that is simply
 * emptied when full, so varied headers cost a re-check, never memory.
 */
const headerVerdicts = new Map<string, CheckedHeader | TokenwardenError>();
const MAX_REMEMBERED_HEADERS = 256;
const MAX_REMEMBERED_HEADER_LENGTH = 512;
/**
 * The last header seen, compared as a string before the map is asked: most tokens in a row
 * share one signing key, and a comparison costs less than hashing the segment for the lookup.
 */
let lastSegment: string | undefined;
let lastVerdict: CheckedHeader | TokenwardenError | undefined;

function checkedHeader(segment: string): CheckedHeader | TokenwardenError {
  if (segment === lastSegment && lastVerdict !== undefined) return lastVerdict;
  let verdict = headerVerdicts.get(segment);
  if (verdict === undefined) {
    verdict = checkHeader(segment);
    if (segment.length > MAX_REMEMBERED_HEADER_LENGTH) return verdict;
    if (headerVerdicts.size >= MAX_REMEMBERED_HEADERS) headerVerdicts.clear();
    headerVerdicts.set(segment, verdict);
  }
  lastSegment = segment;
  lastVerdict = verdict;
  return verdict;
}

/**
 * tokenwarden's rules for the claims segment beyond the JOSE libraries' (README,
 * "stricter"): canonical base64url, valid UTF-8 without a byte order mark, bounded
 * nesting, no lone surrogates and no repeated member names. `text` is the segment's
 * bytes decoded as UTF-8 (Node keeps a leading byte order mark as U+FEFF).
 */
export function payloadPolicyProblem(
  segment: string,
  text: string,
  claims: Record<string, unknown>,
): string | undefined {
  if (!hasCanonicalTail(segment)) return 'segment is not canonical base64url';
  if (text.charCodeAt(0) === 0xfeff) return 'segment starts with a byte order mark';
  if (!isUtf8Payload(segment, text)) return 'segment is not valid UTF-8';
  const problem = strictProblem(text, claims, MAX_JSON_DEPTH);
  if (problem === 'duplicate member name')
    return `json: duplicate key '${firstDuplicateMemberName(text) ?? ''}' in object`;
  return problem;
}

/**
 * The checks kube's go-jose decoder applies to the claims after the signature (types of
 * the registered claims, duplicate member names), plus tokenwarden's stricter ones.
 */
function claimsProblem(
  segment: string,
  text: string,
  claims: Record<string, unknown>,
): TokenwardenError | undefined {
  const policy = payloadPolicyProblem(segment, text, claims);
  // go-jose v4 refuses a repeated member with this very text: kube's answer, not a policy.
  if (policy?.startsWith('json: duplicate key')) return new TokenwardenError('ERR_TOKEN_MALFORMED', policy);
  if (policy !== undefined) return malformed(`claims: ${policy}`);
  for (const name of NUMERIC_DATES) {
    if (!Object.hasOwn(claims, name)) continue;
    const v = claims[name];
    if (typeof v !== 'number') return new TokenwardenError('ERR_TOKEN_CLAIMS', NUMERIC_DATE_ERROR);
    if (!Number.isFinite(v) || Math.abs(v) >= MAX_NUMERIC_DATE)
      return malformed(`claims: ${name} is out of range`);
  }
  const aud = own(claims, 'aud');
  if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud))
    return new TokenwardenError('ERR_TOKEN_CLAIMS', AUDIENCE_ERROR);
  return undefined;
}

function isStringArray(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const item of v as unknown[]) if (typeof item !== 'string') return false;
  return true;
}

export interface UntrustedPayload {
  /** The issuer as kube's pre-filter reads it. */
  readonly iss: string;
  readonly claims: Record<string, unknown>;
  /** The payload's bytes decoded as UTF-8, ill-formed sequences replaced. */
  readonly text: string;
}

/**
 * Kube's `untrustedIssuer` pre-filter: a compact token within the size cap whose payload
 * Go decodes to an object with a string `iss`; anything else is not for any issuer.
 */
export function untrustedPayload(token: string): UntrustedPayload | undefined {
  const dots = compactDots(token);
  if (dots === undefined) return undefined;
  const first = dots & 0xffff;
  const second = dots >>> 16;
  const text = decodePayloadText(token.slice(first + 1, second), false);
  const claims = text === undefined ? undefined : parseClaims(text);
  const iss = claims && goIssuer(claims);
  return iss === undefined ? undefined : { iss, claims: claims!, text: text! };
}

/**
 * The two dots of a compact token within the size cap, packed as `first | second << 16`
 * (both below 2^14), or undefined for anything kube's pre-filter drops before decoding.
 */
function compactDots(token: string): number | undefined {
  if (token.length > MAX_TOKEN_LENGTH || token.length === 0) return undefined;
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  if (token.trimStart().startsWith('{')) return undefined;
  return first | (second << 16);
}

/** Go decodes invalid UTF-8 with replacement characters: the strict checks come later. */
function parseClaims(text: string): Record<string, unknown> | undefined {
  let claims: unknown;
  try {
    claims = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isObject(claims) ? (claims as Record<string, unknown>) : undefined;
}

/**
 * The strict gate every token passes before any key is touched. Whether a token is
 * "mine" is decided as kube's `hasCorrectIssuer` decides it (compact form, a payload
 * Go can decode, an `iss` in our set); a token of ours that fails a check is rejected
 * with a coded error, or carries the problem to be reported after the signature, where
 * kube reports it.
 */
export function gateToken(token: string, isOurIssuer: (iss: string) => boolean): GateResult {
  const dots = compactDots(token);
  if (dots === undefined) return NOT_MINE;
  const first = dots & 0xffff;
  const second = dots >>> 16;
  // One look at the whole token instead of one per segment: a token of ours is plain throughout.
  const plain = isPlain(token);
  const payload = token.slice(first + 1, second);
  const text = decodePayloadText(payload, plain);
  const claims = text === undefined ? undefined : parseClaims(text);
  const iss = claims && goIssuer(claims);
  if (iss === undefined || !isOurIssuer(iss)) return NOT_MINE;

  const header = checkedHeader(token.slice(0, first));
  if (header instanceof TokenwardenError) return { kind: 'rejected', error: header };

  const signatureSegment = token.slice(second + 1);
  const signature = decodeRawUrlBase64(signatureSegment, plain);
  if (!signature) return { kind: 'rejected', error: malformed('signature is not base64url') };
  // Go decodes a signature with stray unused bits, which then fails to verify: kube's crypto
  // failure. Refusing such a spelling of a valid signature is stricter than kube, on purpose.
  const verifiable =
    header.alg !== undefined &&
    signature.length > 0 &&
    signature.length <= MAX_SIGNATURE_BYTES &&
    hasCanonicalTail(signatureSegment);

  return {
    kind: 'token',
    token: {
      alg: verifiable ? header.alg : undefined,
      kid: header.kid,
      untrustedIssuer: iss,
      untrustedClaims: claims!,
      claimsProblem: claimsProblem(payload, text!, claims!),
      signingInput: token.slice(0, second),
      signature,
    },
  };
}
