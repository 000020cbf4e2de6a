import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import {
  buildCertificate,
  encodeName,
  EKU,
  ext,
  type ExtensionSpec,
  type NameSpec,
  type SignatureHash,
} from '../../src/x509/build.js';

/** One certificate of a test PKI: its DER, its parsed form and its keys. */
export interface PkiCert {
  readonly der: Buffer;
  readonly cert: Certificate;
  readonly subject: NameSpec;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface PkiSpec {
  readonly subject: NameSpec;
  /** Signed by this certificate (a test PKI's or the dev CA's); self-signed when absent. */
  readonly issuer?: Pick<PkiCert, 'subject' | 'privateKey' | 'publicKey'>;
  /** A CA (basicConstraints cA, keyCertSign), optionally with a path length. */
  readonly ca?: boolean | { readonly pathLen: number };
  /** Extended key usages; none when absent. */
  readonly eku?: readonly string[];
  readonly extensions?: readonly ExtensionSpec[];
  /** Key usage bit numbers (RFC 5280 4.2.1.3); keyCertSign + cRLSign for a CA, digitalSignature otherwise. */
  readonly keyUsage?: readonly number[];
  readonly hash?: SignatureHash;
  readonly keyType?: 'ec' | 'rsa';
  readonly version?: 1 | 3;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** The time every test PKI is valid at (an hour either side). */
export const PKI_NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const HOUR = 3_600_000;
let serial = 1000n;

/** A certificate built on the spot: no fixture that expires. */
export function pkiCert(spec: PkiSpec): PkiCert {
  const keys =
    spec.keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = spec.ca !== undefined && spec.ca !== false;
  const pathLen = typeof spec.ca === 'object' ? spec.ca.pathLen : undefined;
  const der = buildCertificate({
    subject: spec.subject,
    ...(spec.issuer ? { issuer: encodeName(spec.issuer.subject) } : {}),
    serial: serial++,
    notBefore: spec.notBefore ?? new Date(PKI_NOW.getTime() - HOUR),
    notAfter: spec.notAfter ?? new Date(PKI_NOW.getTime() + HOUR),
    publicKey: keys.publicKey,
    signingKey: spec.issuer?.privateKey ?? keys.privateKey,
    ...(spec.hash ? { hash: spec.hash } : {}),
    ...(spec.version ? { version: spec.version } : {}),
    extensions: [
      ext.basicConstraints(ca, pathLen),
      ext.keyUsage(...(spec.keyUsage ?? (ca ? [5, 6] : [0]))),
      ...(spec.eku ? [ext.extKeyUsage(...spec.eku)] : []),
      ext.subjectKeyId(keys.publicKey),
      ...(spec.issuer ? [ext.authorityKeyId(spec.issuer.publicKey)] : []),
      ...(spec.extensions ?? []),
    ],
  });
  return { der, cert: parseCertificate(der), subject: spec.subject, ...keys };
}

export const rootCa = (name = 'root-ca'): PkiCert => pkiCert({ subject: [['CN', name]], ca: true });

export const clientLeaf = (issuer: PkiCert, spec: Partial<PkiSpec> = {}): PkiCert =>
  pkiCert({ subject: [['CN', 'alice']], issuer, eku: [EKU.clientAuth], ...spec });
