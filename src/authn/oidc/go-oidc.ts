import { isObject } from '../../json.js';
import { ALGORITHMS, type Algorithm } from '../../keys/key-source.js';
import { goQuote } from '../../go-quote.js';
import { stripGoSpace } from '../../go-space.js';
import { B64URL_VALUES } from '../jwt/gate.js';

/**
 * What kube-apiserver 1.37's OIDC authenticator runs before its own checks: go-oidc v2.5.0's
 * `IDTokenVerifier.Verify` over go-jose v2.6.3's `ParseSigned`. Its order differs from the
 * service-account path's go-jose v4: the header is parsed, the algorithm checked, the
 * signature verified, and only then are the claims decoded (Go's encoding/json into
 * go-oidc's `idToken`), the audience and the times checked (nbf with one minute of leeway).
 * The texts here were taken from those libraries, run on the same tokens.
 */

/** kube's `AllValidSigningAlgorithms()`, as go-oidc prints it with `%q`. */
const SUPPORTED = [...ALGORITHMS].sort();
const SUPPORTED_QUOTED = `[${SUPPORTED.map((a) => `"${a}"`).join(' ')}]`;
const SUPPORTED_SET: ReadonlySet<string> = new Set<string>(SUPPORTED);

/** go-oidc v2: "leeway := 1 * time.Minute". */
export const NBF_LEEWAY_MS = 60_000;

/** Go's `base64.RawURLEncoding.DecodeString`: its error names the first offending byte. */
export function goDecodeRawUrl(segment: string): Buffer | string {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c >= 128 || B64URL_VALUES[c] === -1) return `illegal base64 data at input byte ${i}`;
  }
  if (segment.length % 4 === 1) return `illegal base64 data at input byte ${segment.length - 1}`;
  return Buffer.from(segment, 'base64url');
}

export interface ParsedJws {
  /** The `alg` member, "" when absent. */
  readonly alg: string;
  /** The `kid` member, "" when absent. */
  readonly kid: string;
  readonly header: Readonly<Record<string, unknown>>;
  /** What go-jose v2 verifies: the decoded header and payload, re-encoded canonically. */
  readonly signingInput: string;
  readonly signature: Buffer;
  /** Whether the signature segment spells its bytes canonically (tokenwarden refuses other spellings). */
  readonly canonicalSignature: boolean;
  readonly payload: Buffer;
}

/** Go's `%#v` of a string, as go-jose quotes a header value it cannot read. */
const goSharpV = (raw: string): string => goQuote(raw);

/** The JSON value kinds Go names in an UnmarshalTypeError. */
function goKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

/** Top-level members of a JSON object in document order, duplicates kept, values as raw text. */
export function jsonMembers(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = text.indexOf('{') + 1;
  const skipWs = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const skipString = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  for (;;) {
    skipWs();
    if (text[i] !== '"') return out;
    const keyStart = i;
    skipString();
    const name = JSON.parse(text.slice(keyStart, i)) as string;
    skipWs();
    i++; // ':'
    skipWs();
    const valueStart = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        skipString();
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      i++;
    }
    out.push([name, text.slice(valueStart, i).trim()]);
    if (text[i] === ',') i++;
  }
}

/** go-jose v2's `ParseSigned` for a compact token (kube has already refused the JSON form). */
export function parseSignedV2(token: string): ParsedJws | string {
  const parts = stripGoSpace(token).split('.');
  if (parts.length !== 3) return 'go-jose/go-jose: compact JWS format must have three parts';
  const decoded = parts.map(goDecodeRawUrl);
  for (const d of decoded) if (typeof d === 'string') return d;
  const [protectedBytes, payload, signature] = decoded as Buffer[];
  const header: Record<string, unknown> = {};
  if (protectedBytes!.length > 0) {
    const text = protectedBytes!.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return goJsonSyntaxError(text);
    }
    if (!isObject(value)) {
      return `json: cannot unmarshal ${goKind(value)} into Go value of type jose.rawHeader`;
    }
    // go-jose's own JSON decoder refuses a repeated member name.
    const seen = new Set<string>();
    for (const [name, raw] of jsonMembers(text)) {
      if (seen.has(name)) return `json: duplicate key '${name}' in object`;
      seen.add(name);
      const v = JSON.parse(raw) as unknown;
      if ((name === 'kid' || name === 'alg' || name === 'nonce') && v !== null && typeof v !== 'string') {
        const what = name === 'kid' ? 'key ID' : name === 'alg' ? 'algorithm' : 'nonce';
        return `failed to unmarshal ${what}: json: cannot unmarshal ${goKind(v)} into Go value of type string: ${goSharpV(raw)}`;
      }
      header[name] = v;
    }
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    alg: str(header.alg),
    kid: str(header.kid),
    header,
    signingInput: `${protectedBytes!.toString('base64url')}.${payload!.toString('base64url')}`,
    signature: signature!,
    canonicalSignature: signature!.toString('base64url') === parts[2],
    payload: payload!,
  };
}

/** The commonest of encoding/json's syntax error texts; the rest read as the first. */
function goJsonSyntaxError(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '' || /^[[{"]/.test(trimmed)) return 'unexpected end of JSON input';
  return `invalid character '${trimmed[0]}' looking for beginning of value`;
}

/** go-oidc's alg check, answered before any key is touched. */
export function unsupportedAlgorithm(alg: string): string | undefined {
  return SUPPORTED_SET.has(alg)
    ? undefined
    : `oidc: id token signed with unsupported algorithm, expected ${SUPPORTED_QUOTED} got ${goQuote(alg)}`;
}

export function asAlgorithm(alg: string): Algorithm | undefined {
  return SUPPORTED_SET.has(alg) ? (alg as Algorithm) : undefined;
}

/** go-oidc's `idToken` after Go's encoding/json has filled it. */
export interface IdToken {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Unix seconds; undefined is Go's zero time (a missing `exp`). */
  readonly expiry: number | undefined;
  /** Unix seconds, when an `nbf` was present and not null. */
  readonly notBefore: number | undefined;
  readonly claimNames: ReadonlyMap<string, string>;
  readonly claimSources: ReadonlySet<string>;
}

/** Go's struct-field name matching: ASCII case folded, and the two letters Go folds beyond ASCII. */
function goFold(name: string): string {
  return name.replace(/[A-Z\u017f\u212a]/g, (c) =>
    c === '\u017f' ? 's' : c === '\u212a' ? 'k' : c.toLowerCase(),
  );
}

/** go-oidc's `jsonTime.UnmarshalJSON`: a json.Number (a number, or a string holding one), to whole seconds. */
function jsonTime(raw: string, field: string): number | { abort: string } {
  let literal = raw;
  if (raw.startsWith('"')) {
    const s = JSON.parse(raw) as string;
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(s)) {
      return { abort: `json: invalid number literal, trying to unmarshal ${goQuote(raw)} into Number` };
    }
    literal = s;
  } else if (raw === 'null') {
    literal = '';
  } else if (!/^-/.test(raw) && !/^\d/.test(raw)) {
    const kind = goKind(JSON.parse(raw));
    return {
      abort: `json: cannot unmarshal ${kind} into Go struct field idToken.${field} of type json.Number`,
    };
  }
  if (/^-?\d+$/.test(literal)) {
    const n = BigInt(literal);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return Number(n);
  }
  const f = literal === '' ? NaN : Number(literal);
  if (literal === '' || Number.isNaN(f))
    return { abort: `strconv.ParseFloat: parsing ${goQuote(literal)}: invalid syntax` };
  if (!Number.isFinite(f))
    return { abort: `strconv.ParseFloat: parsing ${goQuote(literal)}: value out of range` };
  return Math.trunc(f);
}

/**
 * Go's `json.Unmarshal(payload, &idToken)`: members in document order, names matched
 * case-insensitively, a later member overwriting an earlier one; a plain type mismatch is
 * remembered and decoding goes on, while an error from a custom decoder (aud, exp, iat,
 * nbf) ends it at once, and wins.
 */
export function decodeIdToken(payloadText: string): IdToken | string {
  let issuer = '';
  let audience: string[] = [];
  let expiry: number | undefined;
  let notBefore: number | undefined;
  const claimNames = new Map<string, string>();
  const claimSources = new Set<string>();
  let saved: string | undefined;
  const mismatch = (kind: string, field: string, type: string): void => {
    saved ??= `json: cannot unmarshal ${kind} into Go struct field ${field} of type ${type}`;
  };

  for (const [name, raw] of jsonMembers(payloadText)) {
    const field = goFold(name);
    const value = JSON.parse(raw) as unknown;
    switch (field) {
      case 'iss':
      case 'sub':
      case 'nonce':
      case 'at_hash':
        if (value !== null && typeof value !== 'string')
          mismatch(goKind(value), `idToken.${field}`, 'string');
        else if (field === 'iss' && typeof value === 'string') issuer = value;
        break;
      case 'aud':
        if (value === null || typeof value === 'string') audience = [value ?? ''];
        else if (!Array.isArray(value)) {
          return `json: cannot unmarshal ${goKind(value)} into Go struct field idToken.aud of type []string`;
        } else {
          const bad = value.find((a) => a !== null && typeof a !== 'string');
          if (bad !== undefined) {
            return `json: cannot unmarshal ${goKind(bad)} into Go struct field idToken.aud of type string`;
          }
          audience = value.map((a) => (a ?? '') as string);
        }
        break;
      case 'exp':
      case 'iat':
      case 'nbf': {
        if (field === 'nbf' && value === null) break;
        const t = jsonTime(raw, field);
        if (typeof t !== 'number') return t.abort;
        if (field === 'exp') expiry = t;
        if (field === 'nbf') notBefore = t;
        break;
      }
      case '_claim_names':
        if (value === null) break;
        if (typeof value !== 'object' || Array.isArray(value)) {
          mismatch(goKind(value), 'idToken._claim_names', 'map[string]string');
          break;
        }
        for (const [k, v] of Object.entries(value)) {
          if (v !== null && typeof v !== 'string') mismatch(goKind(v), 'idToken._claim_names', 'string');
          else claimNames.set(k, v ?? '');
        }
        break;
      case '_claim_sources':
        if (value === null) break;
        if (typeof value !== 'object' || Array.isArray(value)) {
          mismatch(goKind(value), 'idToken._claim_sources', 'map[string]oidc.claimSource');
          break;
        }
        for (const [k, v] of Object.entries(value)) {
          if (v !== null && (typeof v !== 'object' || Array.isArray(v))) {
            mismatch(goKind(v), 'idToken._claim_sources', 'oidc.claimSource');
            continue;
          }
          for (const [member, m] of Object.entries((v ?? {}) as Record<string, unknown>)) {
            const f = goFold(member);
            if ((f === 'endpoint' || f === 'access_token') && m !== null && typeof m !== 'string') {
              mismatch(goKind(m), `claimSource._claim_sources.${f}`, 'string');
            }
          }
          claimSources.add(k);
        }
        break;
    }
  }
  if (saved !== undefined) return saved;
  return { issuer, audience, expiry, notBefore, claimNames, claimSources };
}

/** go-oidc's distributed-claims bookkeeping, which fails before any claim is fetched. */
export function distributedClaimsProblem(token: IdToken): string | undefined {
  for (const [, source] of token.claimNames) {
    if (source === '') return 'oidc: failed to obtain source from claim name';
    if (!token.claimSources.has(source)) return 'oidc: source does not exist';
  }
  return undefined;
}
