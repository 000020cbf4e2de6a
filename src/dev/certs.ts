import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
import { buildCertificate, certificatePem, encodeName, EKU, ext, type NameSpec } from '../x509/build.js';

export interface IssuedCert {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
  readonly der: Buffer;
  readonly subject: NameSpec;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface CertRequest {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage?: 'server' | 'client' | 'both';
  readonly validForMs?: number;
  readonly notBefore?: Date;
}

let serial = BigInt(Date.now()) << 16n;
const nextSerial = (): bigint => serial++;

function issued(
  der: Buffer,
  subject: NameSpec,
  keys: { privateKey: KeyObject; publicKey: KeyObject },
): IssuedCert {
  return {
    cert: certificatePem(der),
    key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    der,
    subject,
    ...keys,
  };
}

/** A self-signed CA for the dev server and the tests; P-256, short-lived by default. */
export async function createCertificateAuthority(
  commonName = 'tokenwarden-dev-ca',
  validForMs = 7 * 86_400_000,
): Promise<IssuedCert> {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notBefore = new Date(Date.now() - 60_000);
  const subject: NameSpec = [['CN', commonName]];
  const der = buildCertificate({
    subject,
    serial: nextSerial(),
    notBefore,
    notAfter: new Date(notBefore.getTime() + validForMs),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [ext.basicConstraints(true), ext.keyUsage(5, 6), ext.subjectKeyId(keys.publicKey)],
  });
  return Promise.resolve(issued(der, subject, keys));
}

function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Uint8Array.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** A leaf certificate signed by `ca`: serving (SANs) or client (CN = user, O = groups). */
export async function issueCertificate(ca: IssuedCert, req: CertRequest): Promise<IssuedCert> {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const usage = req.usage ?? 'server';
  const ekus = [
    ...(usage !== 'client' ? [EKU.serverAuth] : []),
    ...(usage !== 'server' ? [EKU.clientAuth] : []),
  ];
  for (const ip of req.ipAddresses ?? []) if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
  const hasSans = (req.dnsNames?.length ?? 0) + (req.ipAddresses?.length ?? 0) > 0;
  const subject: NameSpec = [
    ['CN', req.commonName],
    ...(req.organizations ?? []).map((o) => ['O', o] as const),
  ];
  const notBefore = req.notBefore ?? new Date(Date.now() - 60_000);
  const der = buildCertificate({
    subject,
    issuer: encodeName(ca.subject),
    serial: nextSerial(),
    notBefore,
    notAfter: new Date(notBefore.getTime() + (req.validForMs ?? 7 * 86_400_000)),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      ext.basicConstraints(false),
      ext.keyUsage(0, 2),
      ext.extKeyUsage(...ekus),
      ...(hasSans
        ? [ext.subjectAltName({ dns: req.dnsNames ?? [], ip: (req.ipAddresses ?? []).map(ipBytes) })]
        : []),
      ext.authorityKeyId(ca.publicKey),
    ],
  });
  return Promise.resolve(issued(der, subject, keys));
}
