import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a JWKS or discovery fetch may connect to (SSRF: a fetch must not reach the node's metadata service or other internal hosts).
 * The URL comes from the operator, but the address behind a name is whoever answers DNS
 * says, and a discovery document names its own jwks_uri: so the address is checked, not
 * the URL. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed, since the
 * in-cluster kube-apiserver (10.x) is the usual JWKS host.
 */
export type RefusedAddressKind = 'metadata' | 'link-local' | 'unspecified' | 'loopback';

type Family = 'ipv4' | 'ipv6';

function blockList(subnets: readonly (readonly [string, number, Family])[]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return list;
}

// Built once; a BlockList also matches IPv4-mapped IPv6 (::ffff:169.254.169.254) against its IPv4 rules.
const KINDS: readonly (readonly [RefusedAddressKind, BlockList])[] = [
  // Checked before link-local so the message names what 169.254.169.254 is.
  [
    'metadata',
    blockList([
      ['169.254.169.254', 32, 'ipv4'], // AWS, GCP, Azure, OpenStack, Oracle
      ['fd00:ec2::254', 128, 'ipv6'], // AWS over IPv6, inside the otherwise allowed fc00::/7
      ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud, inside the otherwise allowed 100.64/10
      ['168.63.129.16', 32, 'ipv4'], // Azure WireServer
    ]),
  ],
  [
    'link-local',
    blockList([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  // 0.0.0.0 reaches the local host on Linux, so "this network" is refused as a whole.
  [
    'unspecified',
    blockList([
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ]),
  ],
  [
    'loopback',
    blockList([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  ],
];

/** Why `address` (an IP literal) may not be fetched from, or undefined when it may. */
export function refusedAddress(address: string, allowLoopback: boolean): RefusedAddressKind | undefined {
  const family: Family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  for (const [kind, list] of KINDS) {
    if (list.check(address, family)) return kind === 'loopback' && allowLoopback ? undefined : kind;
  }
  return undefined;
}

/** A URL's host without the brackets of an IPv6 literal (`[::1]` → `::1`). */
export function hostOf(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * True when the operator wrote a loopback IP itself as the URL's host: pointing a key
 * source at `https://127.0.0.1:…` is an explicit choice, unlike a name (`localhost`
 * included), whose address is only known once resolved.
 */
export function namesLoopbackLiterally(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const host = hostOf(new URL(url));
  return isIP(host) !== 0 && refusedAddress(host, false) === 'loopback';
}
