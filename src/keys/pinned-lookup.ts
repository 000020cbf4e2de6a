import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { refusedAddress, type RefusedAddressKind } from './address-policy.js';

/** Every address of a host name; injectable so tests can play DNS without the network. */
export type HostLookup = (hostname: string) => Promise<readonly LookupAddress[]>;

/** `dns.lookup`, as Node's own connect would ask it: the OS resolver, /etc/hosts included. */
export const systemLookup: HostLookup = (hostname) => dns.lookup(hostname, { all: true });

export type PinnedTarget =
  | { readonly ok: true; readonly lookup: LookupFunction }
  | { readonly ok: false; readonly refused?: RefusedAddressKind; readonly message: string };

/**
 * Resolves `host` once and checks every address it has; a name with one refused address
 * among good ones is refused whole, since which one a connect picks is not ours to say.
 * The `lookup` returned answers only with the checked addresses, so the connection goes
 * where the check looked and a DNS answer that changes in between (rebinding) is never
 * asked for; the request keeps the name, so SNI, the certificate check and Host use it.
 * An IP literal is checked as written. Never rejects.
 */
export async function pinHost(
  host: string,
  options: { readonly allowLoopback: boolean; readonly lookup: HostLookup },
): Promise<PinnedTarget> {
  let addresses: readonly LookupAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await options.lookup(host);
    } catch (err) {
      return { ok: false, message: `the host name does not resolve (${errorCode(err)})` };
    }
  }
  if (addresses.length === 0 || addresses.some((a) => isIP(a.address) === 0)) {
    return { ok: false, message: 'the host name does not resolve to an IP address' };
  }
  for (const { address } of addresses) {
    const refused = refusedAddress(address, options.allowLoopback);
    if (refused) {
      const unless = refused === 'loopback' ? ', unless loopback is allowed' : '';
      return { ok: false, refused, message: `the host resolves to a ${refused} address, refused${unless}` };
    }
  }
  const pinned = addresses.map((a) => ({ address: a.address, family: a.family }));
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    // Node asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily), else for one.
    if (lookupOptions.all) callback(null, pinned);
    else callback(null, pinned[0]!.address, pinned[0]!.family);
  };
  return { ok: true, lookup };
}

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}
