import { createHash, sign, type KeyObject } from 'node:crypto';
import * as der from './der-write.js';

/**
 * Certificates built from parts: the `dev` command's CA and serving certificate, and the
 * chains the tests need (any extension, any signature hash), with no fixture to expire.
 */

export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** The DER inside the extension's OCTET STRING. */
  readonly value: Uint8Array;
}

export type NameSpec = readonly (readonly [type: 'CN' | 'O' | 'UID' | string, value: string])[];

export type SignatureHash = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface CertificateSpec {
  readonly subject: NameSpec;
  /** The issuer's subject, DER; a self-signed certificate when absent. */
  readonly issuer?: Uint8Array;
  readonly serial: bigint;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly hash?: SignatureHash;
  /** Version 1 certificates carry no extensions (and so no CA flag). */
  readonly version?: 1 | 3;
  readonly extensions?: readonly ExtensionSpec[];
}

const ATTRIBUTE_TYPES: Record<string, string> = {
  CN: '2.5.4.3',
  O: '2.5.4.10',
  UID: '0.9.2342.19200300.100.1.1',
};

/** A Name: one RDN per attribute, UTF8String values. */
export function encodeName(name: NameSpec): Uint8Array {
  return der.sequence(
    ...name.map(([type, value]) =>
      der.set(der.sequence(der.oid(ATTRIBUTE_TYPES[type] ?? type), der.utf8String(value))),
    ),
  );
}

const RSA_SIGNATURES: Record<SignatureHash, string> = {
  md5: '1.2.840.113549.1.1.4',
  sha1: '1.2.840.113549.1.1.5',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
const ECDSA_SIGNATURES: Partial<Record<SignatureHash, string>> = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};

function signatureAlgorithm(key: KeyObject, hash: SignatureHash): Uint8Array {
  if (key.asymmetricKeyType === 'rsa') return der.sequence(der.oid(RSA_SIGNATURES[hash]), der.nullValue());
  if (key.asymmetricKeyType === 'ed25519') return der.sequence(der.oid('1.3.101.112'));
  const oid = ECDSA_SIGNATURES[hash];
  if (key.asymmetricKeyType !== 'ec' || !oid)
    throw new Error(`cannot sign with ${key.asymmetricKeyType}/${hash}`);
  return der.sequence(der.oid(oid));
}

/** A signed certificate, DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const hash = spec.hash ?? 'sha256';
  const algorithm = signatureAlgorithm(spec.signingKey, hash);
  const subject = encodeName(spec.subject);
  const v1 = spec.version === 1;
  const extensions = v1 ? [] : (spec.extensions ?? []);
  const tbs = der.sequence(
    ...(v1 ? [] : [der.context(0, der.integer(2n))]),
    der.integer(spec.serial),
    algorithm,
    spec.issuer ?? subject,
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    subject,
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length > 0
      ? [
          der.context(
            3,
            der.sequence(
              ...extensions.map((e) =>
                der.sequence(
                  der.oid(e.oid),
                  ...(e.critical ? [der.boolean(true)] : []),
                  der.octetString(e.value),
                ),
              ),
            ),
          ),
        ]
      : []),
  );
  const digest = spec.signingKey.asymmetricKeyType === 'ed25519' ? null : hash;
  return Buffer.from(der.sequence(tbs, algorithm, der.bitString(sign(digest, tbs, spec.signingKey))));
}

/** A DER certificate as a PEM block. */
export function certificatePem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** SHA-1 of the SubjectPublicKeyInfo: a key identifier (RFC 5280 4.2.1.2 leaves the method open), not a signature. */
export function keyIdentifier(publicKey: KeyObject): Uint8Array {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha1').update(spki).digest();
}

export const ext = {
  basicConstraints: (ca: boolean, pathLen?: number, critical = true): ExtensionSpec => ({
    oid: '2.5.29.19',
    critical,
    value: der.sequence(
      ...(ca ? [der.boolean(true)] : []),
      ...(pathLen === undefined ? [] : [der.integer(BigInt(pathLen))]),
    ),
  }),
  /** RFC 5280 4.2.1.3 bit numbers: 0 digitalSignature, 2 keyEncipherment, 5 keyCertSign, 6 cRLSign. */
  keyUsage: (...bits: number[]): ExtensionSpec => {
    const bytes = [0, 0];
    for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
    const used = bytes[1] === 0 ? bytes.slice(0, 1) : bytes;
    const last = used.at(-1)!;
    let unused = 0;
    while (unused < 7 && last !== 0 && (last & (1 << unused)) === 0) unused++;
    return {
      oid: '2.5.29.15',
      critical: true,
      value: der.bitString(Uint8Array.from(used), last === 0 ? 0 : unused),
    };
  },
  extKeyUsage: (...oids: string[]): ExtensionSpec => ({
    oid: '2.5.29.37',
    value: der.sequence(...oids.map((o) => der.oid(o))),
  }),
  subjectAltName: (names: {
    dns?: readonly string[];
    ip?: readonly Uint8Array[];
    uri?: readonly string[];
  }): ExtensionSpec => ({
    oid: '2.5.29.17',
    value: der.sequence(
      ...(names.dns ?? []).map((d) => der.ia5String(0x82, d)),
      ...(names.uri ?? []).map((u) => der.ia5String(0x86, u)),
      ...(names.ip ?? []).map((ip) => der.tlv(0x87, ip)),
    ),
  }),
  /** Permitted/excluded subtrees, each a GeneralName element (e.g. `der.ia5String(0x82, 'example.com')`). */
  nameConstraints: (
    permitted: readonly Uint8Array[],
    excluded: readonly Uint8Array[] = [],
  ): ExtensionSpec => ({
    oid: '2.5.29.30',
    critical: true,
    value: der.sequence(
      ...(permitted.length ? [der.context(0, ...permitted.map((n) => der.sequence(n)))] : []),
      ...(excluded.length ? [der.context(1, ...excluded.map((n) => der.sequence(n)))] : []),
    ),
  }),
  subjectKeyId: (publicKey: KeyObject): ExtensionSpec => ({
    oid: '2.5.29.14',
    value: der.octetString(keyIdentifier(publicKey)),
  }),
  authorityKeyId: (issuerKey: KeyObject): ExtensionSpec => ({
    oid: '2.5.29.35',
    value: der.sequence(der.tlv(0x80, keyIdentifier(issuerKey))),
  }),
};

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  any: '2.5.29.37.0',
} as const;
