/**
 * Go's net/netip, as far as kube's IP, CIDR and URL libraries use it: `ParseAddr`,
 * `ParsePrefix`, the address predicates, `Masked`, `Contains` and the canonical `String()`,
 * with Go's error texts (`ParseAddr("1.2.3"): IPv4 address too short`).
 */
import { goQuote } from '../../go-quote.js';

export interface Addr {
  /** 4 for IPv4, 6 for IPv6 (an IPv4-mapped IPv6 address is 6). */
  readonly family: 4 | 6;
  /** The 128-bit address; an IPv4 address is held in its IPv4-mapped form, as Go holds it. */
  readonly value: bigint;
  readonly zone: string;
}

export interface Prefix {
  readonly addr: Addr;
  readonly bits: number;
}

const V4_MAPPED = 0xffff00000000n;
const ALL_ONES = (1n << 128n) - 1n;

class ParseAddrError extends Error {
  constructor(input: string, msg: string, at = '') {
    super(`ParseAddr(${goQuote(input)}): ${msg}${at === '' ? '' : ` (at ${goQuote(at)})`}`);
  }
}

function v4(fields: readonly number[]): Addr {
  const lo = (fields[0]! << 24) | (fields[1]! << 16) | (fields[2]! << 8) | fields[3]!;
  return { family: 4, value: V4_MAPPED | BigInt(lo >>> 0), zone: '' };
}

/** Go's parseIPv4Fields over in[off:end]; errors name the whole input. */
function parseIPv4Fields(input: string, off: number, end: number): number[] {
  const s = input.slice(off, end);
  const fields: number[] = [];
  let val = 0;
  let digLen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c >= '0' && c <= '9') {
      if (digLen === 1 && val === 0)
        throw new ParseAddrError(input, 'IPv4 field has octet with leading zero');
      val = val * 10 + (c.charCodeAt(0) - 48);
      digLen++;
      if (val > 255) throw new ParseAddrError(input, 'IPv4 field has value >255');
    } else if (c === '.') {
      if (i === 0 || i === s.length - 1 || s[i - 1] === '.') {
        throw new ParseAddrError(input, 'IPv4 field must have at least one digit', s.slice(i));
      }
      if (fields.length === 3) throw new ParseAddrError(input, 'IPv4 address too long');
      fields.push(val);
      val = 0;
      digLen = 0;
    } else {
      throw new ParseAddrError(input, 'unexpected character', s.slice(i));
    }
  }
  if (fields.length < 3) throw new ParseAddrError(input, 'IPv4 address too short');
  fields.push(val);
  return fields;
}

function hexDigit(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'f') return c.charCodeAt(0) - 87;
  if (c >= 'A' && c <= 'F') return c.charCodeAt(0) - 55;
  return -1;
}

function parseIPv6(input: string): Addr {
  let s = input;
  let zone = '';
  const pct = s.indexOf('%');
  if (pct !== -1) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (zone === '') throw new ParseAddrError(input, 'zone must be a non-empty string');
  }
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return { family: 6, value: 0n, zone };
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const d = hexDigit(s[off]!);
      if (d < 0) break;
      if (off > 3) throw new ParseAddrError(input, 'each group must have 4 or less digits', s);
      acc = acc * 16 + d;
      if (acc > 0xffff) throw new ParseAddrError(input, 'IPv6 field has value >=2^16', s);
    }
    if (off === 0) {
      throw new ParseAddrError(input, 'each colon-separated field must have at least one digit', s);
    }
    if (off < s.length && s[off] === '.') {
      if (ellipsis < 0 && i !== 12) {
        throw new ParseAddrError(
          input,
          'embedded IPv4 address must replace the final 2 fields of the address',
          s,
        );
      }
      if (i + 4 > 16) {
        throw new ParseAddrError(
          input,
          'too many hex fields to fit an embedded IPv4 at the end of the address',
          s,
        );
      }
      const end = input.length - (zone.length > 0 ? zone.length + 1 : 0);
      const fields = parseIPv4Fields(input, end - s.length, end);
      for (let k = 0; k < 4; k++) ip[i + k] = fields[k]!;
      s = '';
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ':') throw new ParseAddrError(input, 'unexpected character, want colon', s);
    if (s.length === 1) throw new ParseAddrError(input, 'colon must be followed by more characters', s);
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) throw new ParseAddrError(input, 'multiple :: in address', s);
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) throw new ParseAddrError(input, 'trailing garbage after address', s);
  if (i < 16) {
    if (ellipsis < 0) throw new ParseAddrError(input, 'address string too short');
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    for (let j = ellipsis; j < ellipsis + n; j++) ip[j] = 0;
  } else if (ellipsis >= 0) {
    throw new ParseAddrError(input, 'the :: must expand to at least one field of zeros');
  }
  let value = 0n;
  for (const b of ip) value = (value << 8n) | BigInt(b);
  return { family: 6, value, zone };
}

/** Go's `netip.ParseAddr`; throws with Go's error text. */
export function parseAddr(s: string): Addr {
  for (const c of s) {
    if (c === '.') return v4(parseIPv4Fields(s, 0, s.length));
    if (c === ':') return parseIPv6(s);
    if (c === '%') throw new ParseAddrError(s, 'missing IPv6 address');
  }
  throw new ParseAddrError(s, 'unable to parse IP');
}

const v4Byte = (a: Addr, i: number): number => Number((a.value >> BigInt((3 - i) * 8)) & 0xffn);
const v6Word = (a: Addr, i: number): number => Number((a.value >> BigInt((7 - i) * 16)) & 0xffffn);

export const is4In6 = (a: Addr): boolean => a.family === 6 && a.value >> 32n === 0xffffn;

function unmap(a: Addr): Addr {
  return is4In6(a) ? { family: 4, value: a.value, zone: '' } : a;
}

function string4(a: Addr): string {
  return [0, 1, 2, 3].map((i) => v4Byte(a, i)).join('.');
}

/** Go's `Addr.String()`: dotted quad, RFC 5952 IPv6 (longest run of two or more zero words elided). */
export function addrString(a: Addr): string {
  if (a.family === 4) return string4(a);
  const zone = a.zone === '' ? '' : `%${a.zone}`;
  if (is4In6(a)) return `::ffff:${string4(a)}${zone}`;
  let zeroStart = 255;
  let zeroEnd = 255;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && v6Word(a, j) === 0) j++;
    if (j - i >= 2 && j - i > zeroEnd - zeroStart) {
      zeroStart = i;
      zeroEnd = j;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zeroStart) {
      out += '::';
      i = zeroEnd;
      if (i >= 8) break;
    } else if (i > 0) {
      out += ':';
    }
    out += v6Word(a, i).toString(16);
  }
  return out + zone;
}

export function isUnspecified(a: Addr): boolean {
  return a.family === 4 ? a.value === V4_MAPPED : a.value === 0n && a.zone === '';
}

export function isLoopback(a: Addr): boolean {
  a = unmap(a);
  return a.family === 4 ? v4Byte(a, 0) === 127 : a.value === 1n;
}

function isMulticast(a: Addr): boolean {
  a = unmap(a);
  return a.family === 4 ? (v4Byte(a, 0) & 0xf0) === 0xe0 : a.value >> 120n === 0xffn;
}

export function isLinkLocalMulticast(a: Addr): boolean {
  a = unmap(a);
  if (a.family === 4) return v4Byte(a, 0) === 224 && v4Byte(a, 1) === 0 && v4Byte(a, 2) === 0;
  return (v6Word(a, 0) & 0xff0f) === 0xff02;
}

export function isLinkLocalUnicast(a: Addr): boolean {
  a = unmap(a);
  if (a.family === 4) return v4Byte(a, 0) === 169 && v4Byte(a, 1) === 254;
  return (v6Word(a, 0) & 0xffc0) === 0xfe80;
}

export function isGlobalUnicast(a: Addr): boolean {
  a = unmap(a);
  if (a.family === 4 && (a.value === V4_MAPPED || a.value === (V4_MAPPED | 0xffffffffn))) return false;
  const ipv6Unspecified = a.family === 6 && a.value === 0n && a.zone === '';
  return !ipv6Unspecified && !isLoopback(a) && !isMulticast(a) && !isLinkLocalUnicast(a);
}

/** The top `bits` of a 128-bit value (Go's mask6). */
function mask(bits: number): bigint {
  return (ALL_ONES << BigInt(128 - bits)) & ALL_ONES;
}

/** Go's `Prefix.Masked()` (the host bits zeroed; an IPv4 prefix keeps its mapped form). */
export function masked(p: Prefix): Prefix {
  const effective = p.addr.family === 4 ? p.bits + 96 : p.bits;
  return { addr: { ...p.addr, value: p.addr.value & mask(effective), zone: '' }, bits: p.bits };
}

/** Go's `Prefix.Contains`: same family, no zone, the top `bits` equal. */
export function prefixContains(p: Prefix, a: Addr): boolean {
  if (a.zone !== '' || a.family !== p.addr.family) return false;
  const effective = a.family === 4 ? p.bits + 96 : p.bits;
  return ((a.value ^ p.addr.value) & mask(effective)) === 0n;
}

export function sameAddr(a: Addr, b: Addr): boolean {
  return a.family === b.family && a.value === b.value && a.zone === b.zone;
}

export function prefixString(p: Prefix): string {
  return `${addrString(p.addr)}/${p.bits}`;
}

/** Go's `netip.ParsePrefix`; throws with Go's error text. The address bits are not masked. */
export function parsePrefix(s: string): Prefix {
  const fail = (msg: string): never => {
    throw new Error(`netip.ParsePrefix(${goQuote(s)}): ${msg}`);
  };
  const slash = s.lastIndexOf('/');
  if (slash < 0) fail("no '/'");
  let addr: Addr;
  try {
    addr = parseAddr(s.slice(0, slash));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (addr.family === 6 && addr.zone !== '') fail('IPv6 zones cannot be present in a prefix');
  const bitsStr = s.slice(slash + 1);
  // Go's strconv.Atoi, without the sign and leading zeros it would accept.
  if (!/^(?:0|[1-9][0-9]{0,18})$/.test(bitsStr) || BigInt(bitsStr) > 9223372036854775807n) {
    fail(`bad bits after slash: ${goQuote(bitsStr)}`);
  }
  const bits = Number(bitsStr);
  if (bits > (addr.family === 6 ? 128 : 32)) fail('prefix length out of range');
  return { addr, bits };
}
