/**
 * kube's `library.CIDR` (net.cidr), in the base environment since 1.30: `cidr(s)`,
 * `isCIDR(s)`, `string(cidr)` and the methods `containsIP(ip | string)`,
 * `containsCIDR(cidr | string)`, `ip()`, `masked()`, `prefixLength()`. A CIDR is Go's
 * netip.Prefix (host bits kept, as `cidr('192.168.0.1/24')` keeps them), not IPv4-mapped.
 * `containsCIDR` is kube's since 1.33 (kubernetes#130450: the other prefix is masked too).
 */
import { celFunc, celMethod, CelScalar } from '@bufbuild/cel';
import { IP, ipValue, parseIP } from './ip.js';
import { defineLibrary, type CelLibrary } from './library.js';
import {
  is4In6,
  masked,
  parsePrefix,
  prefixContains,
  prefixString,
  sameAddr,
  type Addr,
  type Prefix,
} from './netip.js';
import { opaqueType } from './opaque.js';
import { goQuote } from '../../go-quote.js';

const PARSE_ERROR = 'network address parse error during conversion from string';

/** kube's stringToCIDR(parseCIDR(s)): its errors carry the prefix twice, as kube's do. */
function parseCIDR(raw: string): Prefix {
  let prefix: Prefix;
  try {
    prefix = parsePrefix(raw);
  } catch (err) {
    throw new Error(`${PARSE_ERROR}: ${PARSE_ERROR}: ${(err as Error).message}`);
  }
  if (is4In6(prefix.addr)) {
    throw new Error(`${PARSE_ERROR}: IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  }
  return prefix;
}

/** `net.CIDR`: equal when address and length are (kube compares netip.Prefix values). */
export const CIDR = opaqueType<Prefix>('net.CIDR', parseCIDR);

const cidrValue = (p: Prefix) => CIDR.make(prefixString(p), p);

function containsCIDR(p: Prefix, other: Prefix): boolean {
  const mine = masked(p);
  const theirs = masked({ addr: other.addr, bits: p.bits });
  return p.bits <= other.bits && sameAddr(mine.addr, theirs.addr);
}

function containsIP(p: Prefix, a: Addr): boolean {
  return prefixContains(p, a);
}

const { STRING, BOOL, INT } = CelScalar;

export const cidrLibrary: CelLibrary = defineLibrary(
  'cidr',
  [
    celFunc('cidr', [STRING], CIDR.type, (s) => cidrValue(parseCIDR(s))),
    celFunc('isCIDR', [STRING], BOOL, (s) => {
      try {
        parseCIDR(s);
        return true;
      } catch {
        return false;
      }
    }),
    celFunc('string', [CIDR.type], STRING, (v) => prefixString(CIDR.read(v)!)),
    celMethod('containsIP', CIDR.type, [IP.type], BOOL, function (ip) {
      return containsIP(CIDR.read(this)!, IP.read(ip)!);
    }),
    celMethod('containsIP', CIDR.type, [STRING], BOOL, function (s) {
      let addr: Addr;
      try {
        addr = parseIP(s);
      } catch {
        // kube's cidrContainsIP answers "no such overload" for a string that is no IP,
        // not the parse error (it passes the CIDR, not the error, to MaybeNoSuchOverloadErr).
        throw new Error('no such overload');
      }
      return containsIP(CIDR.read(this)!, addr);
    }),
    celMethod('containsCIDR', CIDR.type, [CIDR.type], BOOL, function (other) {
      return containsCIDR(CIDR.read(this)!, CIDR.read(other)!);
    }),
    celMethod('containsCIDR', CIDR.type, [STRING], BOOL, function (s) {
      return containsCIDR(CIDR.read(this)!, parseCIDR(s));
    }),
    celMethod('ip', CIDR.type, [], IP.type, function () {
      return ipValue(CIDR.read(this)!.addr);
    }),
    celMethod('masked', CIDR.type, [], CIDR.type, function () {
      return cidrValue(masked(CIDR.read(this)!));
    }),
    celMethod('prefixLength', CIDR.type, [], INT, function () {
      return BigInt(CIDR.read(this)!.bits);
    }),
  ],
  {
    cidr: 'dyn',
    isCIDR: 'bool',
    string: 'string',
    containsIP: 'bool',
    containsCIDR: 'bool',
    ip: 'dyn',
    masked: 'dyn',
    prefixLength: 'int',
  },
);
