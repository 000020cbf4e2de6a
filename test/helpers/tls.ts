import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { writeFile } from './files.js';

export interface ServingTls {
  /** PEM of the CA clients trust. */
  readonly ca: string;
  /** Leaf certificate (with the CA appended) and its key, for 127.0.0.1. */
  readonly cert: string;
  readonly key: string;
  readonly authority: IssuedCert;
}

/** A CA and a serving certificate for 127.0.0.1, from src/dev/certs.ts. */
export async function servingTls(commonName = 'tokenwarden-test'): Promise<ServingTls> {
  const authority = await createCertificateAuthority(`${commonName}-ca`);
  const leaf = await issueCertificate(authority, {
    commonName,
    ipAddresses: ['127.0.0.1'],
    dnsNames: ['localhost'],
  });
  return { ca: authority.cert, cert: `${leaf.cert}${authority.cert}`, key: leaf.key, authority };
}

let shared: Promise<ServingTls> | undefined;

/** One serving pair per test file, for tests that do not care which. */
export function sharedTls(): Promise<ServingTls> {
  shared ??= servingTls();
  return shared;
}

/** The serving pair written into `dir`, as the flags that make a spawned listener use it. */
export function tlsFlags(dir: string, tls: Pick<ServingTls, 'cert' | 'key'>): string[] {
  return [
    '--tls-cert-file',
    writeFile(dir, 'tls.crt', tls.cert),
    '--tls-private-key-file',
    writeFile(dir, 'tls.key', tls.key),
  ];
}
