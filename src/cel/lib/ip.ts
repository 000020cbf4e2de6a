/**
 * kube's `library.IP` (kubernetes.net.ip), in the base environment since 1.30: `ip(s)`,
 * `isIP(s)`, `ip.isCanonical(s)`, `string(ip)` and the methods `family()`,
 * `isUnspecified()`, `isLoopback()`, `isLinkLocalMulticast()`, `isLinkLocalUnicast()`,
 * `isGlobalUnicast()`. An address is Go's netip.Addr, without zone and not IPv4-mapped.
 * The `net.IP` value is opaque (see opaque.ts).
 */
import { celFunc, celMethod, CelScalar } from '@bufbuild/cel';
import { defineLibrary, type CelLibrary } from './library.js';
import {
  addrString,
  is4In6,
  isGlobalUnicast,
  isLinkLocalMulticast,
  isLinkLocalUnicast,
  isLoopback,
  isUnspecified,
  parseAddr,
  type Addr,
} from './netip.js';
import { opaqueType } from './opaque.js';
import { goQuote } from '../../go-quote.js';

/** kube's parseIPAddr: netip.ParseAddr, refusing zones and IPv4-mapped IPv6 addresses. */
export function parseIP(raw: string): Addr {
  let addr: Addr;
  try {
    addr = parseAddr(raw);
  } catch (err) {
    throw new Error(
      `IP Address ${goQuote(raw)} parse error during conversion from string: ${(err as Error).message}`,
    );
  }
  if (addr.zone !== '') throw new Error(`IP address ${goQuote(raw)} with zone value is not allowed`);
  if (is4In6(addr)) throw new Error(`IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return addr;
}

/** `net.IP`: equal when the addresses are (kube compares netip.Addr values). */
export const IP = opaqueType<Addr>('net.IP', parseIP);

export const ipValue = (a: Addr) => IP.make(addrString(a), a);

function isValid(raw: string): boolean {
  try {
    parseIP(raw);
    return true;
  } catch {
    return false;
  }
}

const { STRING, BOOL, INT } = CelScalar;

function predicate(name: string, test: (a: Addr) => boolean) {
  return celMethod(name, IP.type, [], BOOL, function () {
    return test(IP.read(this)!);
  });
}

export const ipLibrary: CelLibrary = defineLibrary(
  'ip',
  [
    celFunc('ip', [STRING], IP.type, (s) => ipValue(parseIP(s))),
    celFunc('isIP', [STRING], BOOL, isValid),
    celFunc('ip.isCanonical', [STRING], BOOL, (s) => addrString(parseIP(s)) === s),
    celFunc('string', [IP.type], STRING, (v) => addrString(IP.read(v)!)),
    celMethod('family', IP.type, [], INT, function () {
      return BigInt(IP.read(this)!.family);
    }),
    predicate('isUnspecified', isUnspecified),
    predicate('isLoopback', isLoopback),
    predicate('isLinkLocalMulticast', isLinkLocalMulticast),
    predicate('isLinkLocalUnicast', isLinkLocalUnicast),
    predicate('isGlobalUnicast', isGlobalUnicast),
  ],
  {
    ip: 'dyn',
    isIP: 'bool',
    'ip.isCanonical': 'bool',
    string: 'string',
    family: 'int',
    isUnspecified: 'bool',
    isLoopback: 'bool',
    isLinkLocalMulticast: 'bool',
    isLinkLocalUnicast: 'bool',
    isGlobalUnicast: 'bool',
  },
);
