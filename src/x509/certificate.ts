import { createPublicKey, type KeyObject } from 'node:crypto';
import { goQuote } from '../go-quote.js';
import {
  contextTag,
  DerError,
  readBitString,
  readBoolean,
  reader,
  readInteger,
  readOid,
  sequenceOf,
  TAG,
  type DerReader,
} from './der.js';

/**
 * An X.509 certificate read the way Go's `x509.ParseCertificate` reads it, keeping what
 * chain verification needs. Anything Go refuses to parse is refused here too (with Go's
 * wording where a caller can see it); the rare forms Go reads and this reader does not
 * know are refused as well, never skipped.
 */
export interface Certificate {
  readonly raw: Uint8Array;
  readonly rawTbs: Uint8Array;
  readonly rawIssuer: Uint8Array;
  readonly rawSubject: Uint8Array;
  readonly rawSpki: Uint8Array;
  readonly version: number;
  readonly serial: bigint;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly publicKeyAlgorithm: PublicKeyAlgorithm;
  /** Undefined for algorithms Go parses but cannot verify with (DSA, X25519) or does not know. */
  readonly publicKey: KeyObject | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: Name;
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  /** -1 when the basic constraints set no path length. */
  readonly maxPathLen: number;
  /** Go's KeyUsage bit set: bit i is the i-th named bit of RFC 5280 4.2.1.3. */
  readonly keyUsage: number;
  /** Extended key usage OIDs; empty when the certificate lists none. */
  readonly extKeyUsage: readonly string[];
  /** The SAN extension's value, when present (Go compares it to break chain loops). */
  readonly sanExtension: Uint8Array | undefined;
  readonly dnsNames: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly ipAddresses: readonly Uint8Array[];
  readonly uris: readonly string[];
  readonly nameConstraints: NameConstraints | undefined;
  readonly subjectKeyId: Uint8Array;
  readonly authorityKeyId: Uint8Array;
  readonly hasUnhandledCriticalExtension: boolean;
  /** Policy constraints or policy mappings: RFC 5280 6.1 policy processing, which this verifier does not do. */
  readonly hasPolicyControls: boolean;
}

export interface Name {
  /** Go's `pkix.Name.CommonName`: the last CN. */
  readonly commonName: string;
  readonly organization: readonly string[];
  readonly attributes: readonly { readonly type: string; readonly value: string }[];
}

export interface IpRange {
  readonly ip: Uint8Array;
  readonly mask: Uint8Array;
}

export interface NameConstraints {
  readonly permittedDns: readonly string[];
  readonly excludedDns: readonly string[];
  readonly permittedIp: readonly IpRange[];
  readonly excludedIp: readonly IpRange[];
  readonly permittedEmail: readonly string[];
  readonly excludedEmail: readonly string[];
  readonly permittedUri: readonly string[];
  readonly excludedUri: readonly string[];
}

export type PublicKeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519' | 'DSA' | 'X25519' | 'unknown';

export interface SignatureAlgorithm {
  /** Go's `SignatureAlgorithm.String()`. */
  readonly name: string;
  /** Node's digest name; null for Ed25519 (and for algorithms with no usable hash). */
  readonly hash: 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | null;
  readonly key: PublicKeyAlgorithm;
  readonly pss?: true;
}

export class CertificateParseError extends Error {}

const UNKNOWN_SIGNATURE: SignatureAlgorithm = { name: '0', hash: null, key: 'unknown' };

const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  '1.2.840.113549.1.1.2': { name: 'MD2-RSA', hash: null, key: 'RSA' },
  '1.2.840.113549.1.1.4': { name: 'MD5-RSA', hash: 'md5', key: 'RSA' },
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', hash: 'sha1', key: 'RSA' },
  '1.3.14.3.2.29': { name: 'SHA1-RSA', hash: 'sha1', key: 'RSA' },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', hash: 'sha256', key: 'RSA' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', hash: 'sha384', key: 'RSA' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', hash: 'sha512', key: 'RSA' },
  '1.2.840.10040.4.3': { name: 'DSA-SHA1', hash: 'sha1', key: 'DSA' },
  '2.16.840.1.101.3.4.3.2': { name: 'DSA-SHA256', hash: 'sha256', key: 'DSA' },
  '1.2.840.10045.4.1': { name: 'ECDSA-SHA1', hash: 'sha1', key: 'ECDSA' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', hash: 'sha256', key: 'ECDSA' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', hash: 'sha384', key: 'ECDSA' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', hash: 'sha512', key: 'ECDSA' },
  '1.3.101.112': { name: 'Ed25519', hash: null, key: 'Ed25519' },
};
const RSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';
const PSS_HASHES: Record<string, { hash: 'sha256' | 'sha384' | 'sha512'; salt: bigint }> = {
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', salt: 32n },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', salt: 48n },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', salt: 64n },
};
const NULL_PARAMS = [0x05, 0x00];

const PUBLIC_KEY_ALGORITHMS: Record<string, PublicKeyAlgorithm> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.10045.2.1': 'ECDSA',
  '1.3.101.112': 'Ed25519',
  '1.3.101.110': 'X25519',
};
const CURVES = new Set(['1.3.132.0.33', '1.2.840.10045.3.1.7', '1.3.132.0.34', '1.3.132.0.35']);

const fail = (message: string): never => {
  throw new CertificateParseError(`x509: ${message}`);
};

const isNull = (bytes: Uint8Array | undefined): boolean =>
  bytes === undefined || (bytes.length === 2 && bytes[0] === NULL_PARAMS[0] && bytes[1] === NULL_PARAMS[1]);

/** An AlgorithmIdentifier element → OID and the raw parameters element (undefined when absent). */
function algorithmIdentifier(element: Uint8Array): { oid: string; params: Uint8Array | undefined } {
  const r = sequenceOf(element);
  const oid = readOid(r.read(TAG.OID).value);
  const params = r.empty() ? undefined : r.read().raw;
  if (!r.empty()) throw new DerError('trailing data in algorithm identifier');
  return { oid, params };
}

/** An explicitly tagged `[n]` field: the one element inside it. */
function explicit(r: DerReader, n: number): Uint8Array {
  const outer = reader(r.read(contextTag(n, true)).value);
  const inner = outer.read();
  if (!outer.empty()) throw new DerError('trailing data');
  return inner.raw;
}

function integerOf(element: Uint8Array): bigint {
  const r = reader(element);
  const n = readInteger(r.read(TAG.INTEGER).value);
  if (!r.empty()) throw new DerError('trailing data after integer');
  return n;
}

function signatureAlgorithm(element: Uint8Array): SignatureAlgorithm {
  const { oid, params } = algorithmIdentifier(element);
  if (oid === '1.3.101.112' && params !== undefined) return UNKNOWN_SIGNATURE;
  if (oid !== RSA_PSS) return SIGNATURE_ALGORITHMS[oid] ?? UNKNOWN_SIGNATURE;
  // Go forces PSS into three buckets: MGF1 with the message hash, salt = hash length, trailer 1.
  try {
    const p = sequenceOf(params ?? new Uint8Array());
    const hash = algorithmIdentifier(explicit(p, 0));
    const mgf = algorithmIdentifier(explicit(p, 1));
    const salt = integerOf(explicit(p, 2));
    const trailer = p.empty() ? 1n : integerOf(explicit(p, 3));
    const mgfHash = algorithmIdentifier(mgf.params ?? new Uint8Array());
    const bucket = PSS_HASHES[hash.oid];
    if (
      !bucket ||
      !p.empty() ||
      !isNull(hash.params) ||
      mgf.oid !== MGF1 ||
      mgfHash.oid !== hash.oid ||
      !isNull(mgfHash.params) ||
      trailer !== 1n ||
      salt !== bucket.salt
    )
      return UNKNOWN_SIGNATURE;
    return { name: `${bucket.hash.toUpperCase()}-RSAPSS`, hash: bucket.hash, key: 'RSA', pss: true };
  } catch {
    return UNKNOWN_SIGNATURE;
  }
}

const PRINTABLE = /^[a-zA-Z0-9'()+,\-./ :=?*&]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Go's `parseASN1String`: the string types a name attribute may use, each checked. */
function asn1String(tag: number, value: Uint8Array): string {
  const latin1 = (): string => String.fromCharCode(...value);
  switch (tag) {
    case TAG.T61String:
      return latin1();
    case TAG.PrintableString:
      if (!PRINTABLE.test(latin1())) throw new DerError('invalid PrintableString');
      return latin1();
    case TAG.UTF8String:
      return utf8.decode(value);
    case TAG.IA5String:
      if (value.some((b) => b > 0x7f)) throw new DerError('invalid IA5String');
      return latin1();
    case TAG.NumericString:
      if (!/^[0-9 ]*$/.test(latin1())) throw new DerError('invalid NumericString');
      return latin1();
    case TAG.BMPString: {
      if (value.length % 2 !== 0) throw new DerError('invalid BMPString');
      let units = value;
      if (units.length >= 2 && units.at(-1) === 0 && units.at(-2) === 0) units = units.subarray(0, -2);
      let out = '';
      for (let i = 0; i < units.length; i += 2) {
        const point = (units[i]! << 8) | units[i + 1]!;
        if (
          point === 0xfffe ||
          point === 0xffff ||
          (point >= 0xfdd0 && point <= 0xfdef) ||
          (point >= 0xd800 && point <= 0xdfff)
        )
          throw new DerError('invalid BMPString');
        out += String.fromCharCode(point);
      }
      return out;
    }
    default:
      throw new DerError(`unsupported string type: ${tag}`);
  }
}

const CN = '2.5.4.3';
const O = '2.5.4.10';

function parseName(element: Uint8Array): Name {
  const attributes: { type: string; value: string }[] = [];
  const rdns = sequenceOf(element);
  while (!rdns.empty()) {
    const set = reader(rdns.read(TAG.SET).value);
    while (!set.empty()) {
      const atav = reader(set.read(TAG.SEQUENCE).value);
      const type = readOid(atav.read(TAG.OID).value);
      const value = atav.read();
      attributes.push({ type, value: asn1String(value.tag, value.value) });
    }
  }
  return {
    commonName: attributes.filter((a) => a.type === CN).at(-1)?.value ?? '',
    organization: attributes.filter((a) => a.type === O).map((a) => a.value),
    attributes,
  };
}

function digits(text: string, from: number, count: number): number {
  const part = text.slice(from, from + count);
  if (!/^[0-9]+$/.test(part) || part.length !== count) throw new DerError('malformed time');
  return Number(part);
}

/** UTCTime `YYMMDDHHMMSSZ` (years 50–99 are 19xx) or GeneralizedTime `YYYYMMDDHHMMSSZ`. */
function parseTime(r: DerReader): Date {
  const tag = r.peekTag();
  if (tag !== TAG.UTCTime && tag !== TAG.GeneralizedTime) return fail('unsupported time format');
  const text = String.fromCharCode(...r.read().value);
  const utc = tag === TAG.UTCTime;
  const y = utc ? digits(text, 0, 2) : digits(text, 0, 4);
  const year = utc ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  const o = utc ? 2 : 4;
  if (text.length !== o + 11 || text[o + 10] !== 'Z')
    return fail(utc ? 'malformed UTCTime' : 'malformed GeneralizedTime');
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((i) => digits(text, o + i, 2)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return fail(utc ? 'malformed UTCTime' : 'malformed GeneralizedTime');
  return date;
}

function parsePublicKey(spki: Uint8Array): { algorithm: PublicKeyAlgorithm; key: KeyObject | undefined } {
  const r = sequenceOf(spki);
  const ai = algorithmIdentifier(r.read(TAG.SEQUENCE).raw);
  readBitString(r.read(TAG.BIT_STRING).value);
  const algorithm = PUBLIC_KEY_ALGORITHMS[ai.oid] ?? 'unknown';
  if (algorithm === 'RSA' && !(ai.params !== undefined && isNull(ai.params)))
    fail('RSA key missing NULL parameters');
  if (algorithm === 'ECDSA') {
    const curve = ai.params && reader(ai.params).read(TAG.OID).value;
    if (!curve || !CURVES.has(readOid(curve))) fail('unsupported elliptic curve');
  }
  if (algorithm !== 'RSA' && algorithm !== 'ECDSA' && algorithm !== 'Ed25519')
    return { algorithm, key: undefined };
  try {
    return { algorithm, key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }) };
  } catch {
    return fail(`invalid ${algorithm} public key`);
  }
}

const NAME_TYPE = { email: 1, dns: 2, uri: 6, ip: 7 } as const;

function generalNames(value: Uint8Array, visit: (tag: number, data: Uint8Array) => void): void {
  const r = sequenceOf(value);
  while (!r.empty()) {
    const name = r.read();
    visit(name.tag ^ 0x80, name.value);
  }
}

const ascii = (data: Uint8Array, what: string): string => {
  if (data.some((b) => b > 0x7f)) fail(what);
  return String.fromCharCode(...data);
};

const VALID_MASK_BYTES = new Set([0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe]);
function validMask(mask: Uint8Array): boolean {
  let zero = false;
  for (const b of mask) {
    if (zero ? b !== 0 : b !== 0xff && !VALID_MASK_BYTES.has(b)) return false;
    if (b !== 0xff) zero = true;
  }
  return true;
}

/** Name constraints; `unhandled` when a subtree uses a form Go does not check (directoryName, otherName…). */
function parseNameConstraints(value: Uint8Array): { constraints: NameConstraints; unhandled: boolean } {
  const r = sequenceOf(value);
  const permitted = r.readOptional(contextTag(0, true));
  const excluded = r.readOptional(contextTag(1, true));
  if (!r.empty()) fail('invalid NameConstraints extension');
  if (!permitted?.value.length && !excluded?.value.length) fail('empty name constraints extension');
  let unhandled = false;
  const subtrees = (el: typeof permitted) => {
    const out = { dns: [] as string[], ip: [] as IpRange[], email: [] as string[], uri: [] as string[] };
    const s = reader(el?.value ?? new Uint8Array());
    while (!s.empty()) {
      const base = reader(s.read(TAG.SEQUENCE).value).read();
      const data = base.value;
      if (base.tag === (0x80 | NAME_TYPE.dns)) {
        const domain = ascii(data, 'invalid constraint value');
        if (!domainNameValid(domain, true)) fail(`failed to parse dnsName constraint "${domain}"`);
        out.dns.push(domain);
      } else if (base.tag === (0x80 | NAME_TYPE.email))
        out.email.push(ascii(data, 'invalid constraint value'));
      else if (base.tag === (0x80 | NAME_TYPE.uri)) out.uri.push(ascii(data, 'invalid constraint value'));
      else if (base.tag === (0x80 | NAME_TYPE.ip)) {
        if (data.length !== 8 && data.length !== 32)
          fail(`IP constraint contained value of length ${data.length}`);
        const ip = data.subarray(0, data.length / 2);
        const mask = data.subarray(data.length / 2);
        if (!validMask(mask))
          fail(`IP constraint contained invalid mask ${Buffer.from(mask).toString('hex')}`);
        out.ip.push({ ip, mask });
      } else unhandled = true;
    }
    return out;
  };
  const p = subtrees(permitted);
  const e = subtrees(excluded);
  return {
    constraints: {
      permittedDns: p.dns,
      excludedDns: e.dns,
      permittedIp: p.ip,
      excludedIp: e.ip,
      permittedEmail: p.email,
      excludedEmail: e.email,
      permittedUri: p.uri,
      excludedUri: e.uri,
    },
    unhandled,
  };
}

const AIA = '1.3.6.1.5.5.7.1.1';

/**
 * The part of Go's `url.Parse` and host check that refuses a URI SAN at parse time: control
 * characters, bad percent escapes, a host that is not a valid domain name. A certificate
 * Go cannot parse never reaches kube's authenticator (the TLS handshake fails).
 */
function checkedUri(uri: string): string {
  const control = [...uri].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (control || /%(?![0-9a-fA-F]{2})/.test(uri)) fail(`cannot parse URI ${goQuote(uri)}`);
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(uri)?.[1];
  const host = authority?.slice(authority.lastIndexOf('@') + 1);
  if (host && !host.startsWith('[') && !domainNameValid(host, false))
    fail(`cannot parse URI ${goQuote(uri)}: invalid domain`);
  return uri;
}

/** Go's `domainNameValid` (parser.go): printable ASCII labels, none empty, no trailing dot. */
export function domainNameValid(name: string, constraint: boolean): boolean {
  if (name.length === 0) return true;
  if (name.endsWith('.')) return false;
  const s = constraint && name.startsWith('.') ? name.slice(1) : name;
  return s.split('.').every((label) => label.length > 0 && /^[\x21-\x7e]+$/.test(label));
}

/** Parses one DER certificate; throws CertificateParseError. */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    return parse(der);
  } catch (err) {
    if (err instanceof CertificateParseError) throw err;
    if (err instanceof DerError)
      throw new CertificateParseError(`x509: malformed certificate (${err.message})`);
    throw err;
  }
}

function parse(der: Uint8Array): Certificate {
  const top = reader(der);
  const certElement = top.read(TAG.SEQUENCE);
  if (!top.empty()) fail('trailing data');
  const cert = reader(certElement.value);
  const tbsElement = cert.read(TAG.SEQUENCE);
  const outerAlgorithm = cert.read(TAG.SEQUENCE);
  const signature = readBitString(cert.read(TAG.BIT_STRING).value);
  if (!cert.empty()) fail('malformed certificate');

  const tbs = reader(tbsElement.value);
  const versionField = tbs.readOptional(contextTag(0, true));
  const zeroBased = versionField ? integerOf(versionField.value) : 0n;
  if (zeroBased < 0n) fail('malformed version');
  if (zeroBased > 2n) fail('invalid version');
  const version = Number(zeroBased) + 1;
  const serial = readInteger(tbs.read(TAG.INTEGER).value);
  if (serial < 0n) fail('negative serial number');
  const innerAlgorithm = tbs.read(TAG.SEQUENCE);
  if (Buffer.compare(innerAlgorithm.raw, outerAlgorithm.raw) !== 0)
    fail("inner and outer signature algorithm identifiers don't match");
  const issuer = tbs.read(TAG.SEQUENCE);
  parseName(issuer.raw);
  const validity = reader(tbs.read(TAG.SEQUENCE).value);
  const notBefore = parseTime(validity);
  const notAfter = parseTime(validity);
  const subjectElement = tbs.read(TAG.SEQUENCE);
  const subject = parseName(subjectElement.raw);
  const spki = tbs.read(TAG.SEQUENCE);
  const publicKey = parsePublicKey(spki.raw);

  const out = {
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    keyUsage: 0,
    extKeyUsage: [] as string[],
    sanExtension: undefined as Uint8Array | undefined,
    dnsNames: [] as string[],
    emailAddresses: [] as string[],
    ipAddresses: [] as Uint8Array[],
    uris: [] as string[],
    nameConstraints: undefined as NameConstraints | undefined,
    subjectKeyId: new Uint8Array(),
    authorityKeyId: new Uint8Array(),
    hasUnhandledCriticalExtension: false,
    hasPolicyControls: false,
  };
  if (version > 1) {
    tbs.readOptional(contextTag(1, false));
    tbs.readOptional(contextTag(2, false));
    if (version === 3) {
      const extensions = tbs.readOptional(contextTag(3, true));
      if (extensions) readExtensions(sequenceOf(extensions.value), out);
    }
  }
  if (!tbs.empty()) fail('malformed tbs certificate');
  return {
    raw: certElement.raw,
    rawTbs: tbsElement.raw,
    rawIssuer: issuer.raw,
    rawSubject: subjectElement.raw,
    rawSpki: spki.raw,
    version,
    serial,
    signatureAlgorithm: signatureAlgorithm(outerAlgorithm.raw),
    signature: signature.bytes,
    publicKeyAlgorithm: publicKey.algorithm,
    publicKey: publicKey.key,
    notBefore,
    notAfter,
    subject,
    ...out,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type ExtensionFields = Mutable<
  Pick<
    Certificate,
    | 'basicConstraintsValid'
    | 'isCA'
    | 'maxPathLen'
    | 'keyUsage'
    | 'sanExtension'
    | 'nameConstraints'
    | 'subjectKeyId'
    | 'authorityKeyId'
    | 'hasUnhandledCriticalExtension'
    | 'hasPolicyControls'
  >
> & {
  extKeyUsage: string[];
  dnsNames: string[];
  emailAddresses: string[];
  ipAddresses: Uint8Array[];
  uris: string[];
};

/** Go's `processExtensions`: the extensions it understands, checked; an unknown one marked when critical. */
function readExtensions(list: DerReader, out: ExtensionFields): void {
  const seen = new Set<string>();
  while (!list.empty()) {
    const ext = reader(list.read(TAG.SEQUENCE).value);
    const id = readOid(ext.read(TAG.OID).value);
    const criticalField = ext.readOptional(TAG.BOOLEAN);
    const critical = criticalField ? readBoolean(criticalField.value) : false;
    const value = ext.read(TAG.OCTET_STRING).value;
    if (!ext.empty()) fail('malformed extension');
    if (seen.has(id)) fail(`certificate contains duplicate extension with OID "${id}"`);
    seen.add(id);
    let unhandled = false;
    switch (id) {
      case '2.5.29.15': {
        const bits = readBitString(reader(value).read(TAG.BIT_STRING).value).bytes;
        let usage = 0;
        for (let i = 0; i < 9; i++) if ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) usage |= 1 << i;
        out.keyUsage = usage;
        break;
      }
      case '2.5.29.19': {
        const r = sequenceOf(value);
        const ca = r.readOptional(TAG.BOOLEAN);
        const pathLen = r.readOptional(TAG.INTEGER);
        const n = pathLen ? readInteger(pathLen.value) : -1n;
        if (pathLen && (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER))) fail('invalid basic constraints');
        out.isCA = ca ? readBoolean(ca.value) : false;
        out.maxPathLen = Number(n);
        out.basicConstraintsValid = true;
        break;
      }
      case '2.5.29.17':
        out.sanExtension = value;
        generalNames(value, (tag, data) => {
          if (tag === NAME_TYPE.email) out.emailAddresses.push(ascii(data, 'SAN rfc822Name is malformed'));
          else if (tag === NAME_TYPE.dns) out.dnsNames.push(ascii(data, 'SAN dNSName is malformed'));
          else if (tag === NAME_TYPE.uri)
            out.uris.push(checkedUri(ascii(data, 'SAN uniformResourceIdentifier is malformed')));
          else if (tag === NAME_TYPE.ip) {
            if (data.length !== 4 && data.length !== 16)
              fail(`cannot parse IP address of length ${data.length}`);
            out.ipAddresses.push(data);
          }
        });
        unhandled =
          out.dnsNames.length + out.emailAddresses.length + out.ipAddresses.length + out.uris.length === 0;
        break;
      case '2.5.29.30': {
        const parsed = parseNameConstraints(value);
        out.nameConstraints = parsed.constraints;
        unhandled = parsed.unhandled;
        break;
      }
      case '2.5.29.35': {
        if (critical) fail('authority key identifier incorrectly marked critical');
        out.authorityKeyId = sequenceOf(value).readOptional(contextTag(0, false))?.value ?? new Uint8Array();
        break;
      }
      case '2.5.29.14':
        if (critical) fail('subject key identifier incorrectly marked critical');
        out.subjectKeyId = reader(value).read(TAG.OCTET_STRING).value;
        break;
      case '2.5.29.37': {
        const r = sequenceOf(value);
        while (!r.empty()) out.extKeyUsage.push(readOid(r.read(TAG.OID).value));
        break;
      }
      case '2.5.29.33':
      case '2.5.29.36':
        out.hasPolicyControls = true;
        break;
      case '2.5.29.31':
      case '2.5.29.32':
      case '2.5.29.54':
        break;
      case AIA:
        if (critical) fail('authority info access incorrectly marked critical');
        break;
      default:
        unhandled = true;
    }
    if (critical && unhandled) out.hasUnhandledCriticalExtension = true;
  }
}
