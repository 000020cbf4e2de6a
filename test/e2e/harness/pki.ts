// Throwaway credentials for one e2e cluster: a CA (openssl CLI, since node:crypto cannot issue certificates), the
// apiserver's serving certificate, an admin client certificate, and the service-account signing keys.
import { execFile } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPairFiles {
  /** PEM private key: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, the forms kube's keyutil reads everywhere. */
  readonly privateKeyFile: string;
  /** PEM PKIX `PUBLIC KEY`. */
  readonly publicKeyFile: string;
}

export interface ClusterPki {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  /** CN=admin, O=system:masters: everything is allowed without RBAC. */
  readonly adminCertFile: string;
  readonly adminKeyFile: string;
  /** RS256 signer of the cluster's service-account tokens. */
  readonly serviceAccountRsa: KeyPairFiles;
  /** ES256 pair for a second issuer; not given to the apiserver unless a test adds it. */
  readonly serviceAccountEc: KeyPairFiles;
}

const OPENSSL_TIMEOUT_MS = 30_000;
const VALID_DAYS = '2';
// P-256 keys for TLS: generated in milliseconds, and accepted by Go, kubectl and node:tls alike.
const NEW_P256_KEY = ['-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: OPENSSL_TIMEOUT_MS });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

async function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: readonly string[],
  ca: { caFile: string; caKeyFile: string },
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions.join('\n') + '\n');
  await openssl(['req', ...NEW_P256_KEY, '-keyout', key, '-out', csr, '-subj', subject]);
  // A random serial rather than -CAcreateserial: leaves are issued concurrently and would race on ca.srl.
  const serial = `0x${randomBytes(16).toString('hex')}`;
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.caFile,
    '-CAkey',
    ca.caKeyFile,
    '-set_serial',
    serial,
    '-days',
    VALID_DAYS,
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key };
}

async function keyPair(dir: string, name: string, type: 'rsa' | 'ec'): Promise<KeyPairFiles> {
  const generated =
    type === 'rsa'
      ? await generateKeyPairAsync('rsa', {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        })
      : await generateKeyPairAsync('ec', {
          namedCurve: 'P-256',
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'sec1', format: 'pem' },
        });
  const privateKeyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  await writeFile(privateKeyFile, generated.privateKey, { mode: 0o600 });
  await writeFile(publicKeyFile, generated.publicKey);
  return { privateKeyFile, publicKeyFile };
}

export interface CertificateAuthorityFiles {
  readonly caFile: string;
  readonly caKeyFile: string;
}

/** A self-signed CA named `<name>.crt`/`<name>.key` in `dir`. */
export async function createCertificateAuthority(
  dir: string,
  name: string,
  commonName: string,
): Promise<CertificateAuthorityFiles> {
  const caFile = join(dir, `${name}.crt`);
  const caKeyFile = join(dir, `${name}.key`);
  await openssl([
    'req',
    '-x509',
    ...NEW_P256_KEY,
    '-keyout',
    caKeyFile,
    '-out',
    caFile,
    '-days',
    VALID_DAYS,
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { caFile, caKeyFile };
}

const LEAF = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];

/** A serving certificate for 127.0.0.1 and localhost, signed by `ca`. */
export function issueServingCertificate(
  dir: string,
  name: string,
  commonName: string,
  ca: CertificateAuthorityFiles,
): Promise<{ cert: string; key: string }> {
  return issue(
    dir,
    name,
    `/CN=${commonName}`,
    [...LEAF, 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ca,
  );
}

/** A client certificate (CN = user, O = group when given), signed by `ca`. */
export function issueClientCertificate(
  dir: string,
  name: string,
  user: { commonName: string; organization?: string },
  ca: CertificateAuthorityFiles,
): Promise<{ cert: string; key: string }> {
  const subject = `${user.organization === undefined ? '' : `/O=${user.organization}`}/CN=${user.commonName}`;
  return issue(dir, name, subject, [...LEAF, 'extendedKeyUsage=clientAuth'], ca);
}

/** A fresh service-account key pair in `dir`: RSA 2048 (PKCS#1) or EC P-256 (SEC1), with the PKIX public key. */
export function createKeyPair(dir: string, name: string, type: 'rsa' | 'ec'): Promise<KeyPairFiles> {
  return keyPair(dir, name, type);
}

export async function createClusterPki(dir: string): Promise<ClusterPki> {
  const ca = await createCertificateAuthority(dir, 'ca', 'tokenwarden-e2e-ca');
  const [serving, admin, serviceAccountRsa, serviceAccountEc] = await Promise.all([
    issueServingCertificate(dir, 'apiserver', 'kube-apiserver', ca),
    issueClientCertificate(dir, 'admin', { commonName: 'admin', organization: 'system:masters' }, ca),
    keyPair(dir, 'sa-rsa', 'rsa'),
    keyPair(dir, 'sa-ec', 'ec'),
  ]);
  return {
    caFile: ca.caFile,
    caKeyFile: ca.caKeyFile,
    servingCertFile: serving.cert,
    servingKeyFile: serving.key,
    adminCertFile: admin.cert,
    adminKeyFile: admin.key,
    serviceAccountRsa,
    serviceAccountEc,
  };
}
