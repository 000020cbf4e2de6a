import { goQuote } from '../go-quote.js';
import { domainNameValid, type Certificate, type IpRange } from './certificate.js';

/**
 * Go's `checkChainConstraints` (crypto/x509/constraints.go) for DNS names and IP
 * addresses: every certificate that carries a SAN extension must satisfy the name
 * constraints of each CA above it. A certificate without SANs passes (Go no longer reads
 * the CN as a name). Email and URI names under a CA that constrains names are refused
 * rather than matched: client certificates do not need them, and a refusal cannot widen
 * a grant. Returns the detail Go puts after "not authorized to sign for this name: ".
 */
export function checkChainConstraints(chain: readonly Certificate[]): string | undefined {
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (!c.sanExtension) continue;
    const above = chain.slice(i + 1).filter((ca) => ca.nameConstraints);
    if (above.length === 0) continue;
    if (c.emailAddresses.length > 0 || c.uris.length > 0)
      return 'tokenwarden does not match email or URI names against name constraints';
    for (const ca of above) {
      const nc = ca.nameConstraints!;
      for (const ip of c.ipAddresses) {
        const error = checkIp(ip, nc.permittedIp, nc.excludedIp);
        if (error) return error;
      }
      for (const name of c.dnsNames) {
        if (!domainNameValid(name, false)) return `x509: cannot parse dnsName ${goQuote(name)}`;
        const error = checkDns(name, nc.permittedDns, nc.excludedDns);
        if (error) return error;
      }
    }
  }
  return undefined;
}

function ipInRange(ip: Uint8Array, range: IpRange): boolean {
  return (
    ip.length === range.ip.length &&
    ip.every((b, i) => (b & range.mask[i]!) === (range.ip[i]! & range.mask[i]!))
  );
}

function checkIp(
  ip: Uint8Array,
  permitted: readonly IpRange[],
  excluded: readonly IpRange[],
): string | undefined {
  const shown = goQuote(formatIp(ip));
  if (permitted.length > 0 && !permitted.some((r) => ipInRange(ip, r)))
    return `IP address ${shown} is not permitted by any constraint`;
  const hit = excluded.find((r) => ipInRange(ip, r));
  return hit ? `IP address ${shown} is excluded by constraint ${goQuote(formatRange(hit))}` : undefined;
}

/** Go's `dnsHasSuffix`: `constraint` is a label-aligned, case-insensitive suffix of `name`; a leading dot requires a subdomain. */
function dnsHasSuffix(constraint: string, name: string): boolean {
  if (constraint.length > name.length) return false;
  if (name.slice(name.length - constraint.length).toLowerCase() !== constraint.toLowerCase()) {
    // Go folds ASCII only; non-ASCII bytes must match exactly.
    return false;
  }
  return (
    constraint.startsWith('.') ||
    name.length === constraint.length ||
    name[name.length - constraint.length - 1] === '.'
  );
}

const trimFirstLabel = (name: string): string => (name.includes('.') ? name.slice(name.indexOf('.')) : '');

function checkDns(
  name: string,
  permitted: readonly string[],
  excluded: readonly string[],
): string | undefined {
  if (permitted.length > 0 && !permitted.some((c) => c === '' || dnsHasSuffix(c, name)))
    return `DNS name ${goQuote(name)} is not permitted by any constraint`;
  let hit = excluded.find((c) => c === '' || dnsHasSuffix(c, name));
  // An excluded subtree also refuses a wildcard that would cover it ("*.example.com" against "a.example.com").
  if (hit === undefined && name.startsWith('*')) {
    const parent = trimFirstLabel(name.toLowerCase());
    hit = excluded.find(
      (c) => trimFirstLabel(c.toLowerCase()) !== '' && trimFirstLabel(c.toLowerCase()) === parent,
    );
  }
  return hit === undefined
    ? undefined
    : `DNS name ${goQuote(name)} is excluded by constraint ${goQuote(hit)}`;
}

function formatIp(ip: Uint8Array): string {
  const mapped =
    ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  if (ip.length === 4 || mapped) return Array.from(ip.subarray(ip.length - 4)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((ip[2 * i]! << 8) | ip[2 * i + 1]!).toString(16));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

function formatRange(range: IpRange): string {
  let bits = 0;
  for (const b of range.mask) bits += b.toString(2).replace(/0/g, '').length;
  return `${formatIp(range.ip)}/${bits}`;
}
