import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import {
  certificateIdentifier,
  userFromCertificate,
  verifyClientChain,
  x509Authenticator,
} from '../../src/authn/x509.js';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';

const der = (c: IssuedCert): Buffer => new X509Certificate(c.cert).raw;
const node = (c: IssuedCert): X509Certificate => new X509Certificate(c.cert);

let ca: IssuedCert;
let otherCa: IssuedCert;
let alice: IssuedCert;
beforeAll(async () => {
  ca = await createCertificateAuthority('client-ca');
  otherCa = await createCertificateAuthority('other-ca');
  alice = await issueCertificate(ca, {
    commonName: 'alice',
    organizations: ['dev', 'system:masters'],
    usage: 'client',
  });
});

/** A certificate signed by the client CA with any subject and extensions @peculiar/x509 can express. */
async function signedByCa(subject: string, extensions: px509.Extension[] = []) {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await px509.X509CertificateGenerator.create({
    serialNumber: '0a',
    subject,
    issuer: ca.certificate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: alg,
    publicKey: keys.publicKey as never,
    signingKey: ca.keys.privateKey,
    extensions,
  });
  return { cert, keys };
}

async function certWithSubject(subject: string): Promise<X509Certificate> {
  return new X509Certificate(Buffer.from((await signedByCa(subject)).cert.rawData));
}

describe('x509 client certificate identity', () => {
  it('maps a verified certificate to CN = user, O = groups, credential-id = X509SHA256', async () => {
    const authn = x509Authenticator({ roots: () => [node(ca)], clock: manualClock() });
    const result = await authn.authenticateRequest({ headers: {}, peerCertificates: [der(alice)] });
    const digest = createHash('sha256').update(der(alice)).digest('hex');
    expect(result).toEqual({
      outcome: 'authenticated',
      user: {
        username: 'alice',
        groups: ['dev', 'system:masters'],
        extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${digest}`] },
      },
      audiences: [],
    });
  });

  it('reads the Subject UID attribute, refusing several or an empty one', async () => {
    expect(
      userFromCertificate(await certWithSubject('CN=bob, 0.9.2342.19200300.100.1.1=uid-7')),
    ).toMatchObject({
      username: 'bob',
      uid: 'uid-7',
      groups: [],
    });
    const two = userFromCertificate(
      await certWithSubject('CN=bob, 0.9.2342.19200300.100.1.1=a, 0.9.2342.19200300.100.1.1=b'),
    );
    expect(two).toBeInstanceOf(Error);
  });

  it('answers not-mine for no certificate and for an empty CN', async () => {
    const authn = x509Authenticator({ roots: () => [node(ca)], clock: manualClock() });
    expect(await authn.authenticateRequest({ headers: {} })).toEqual({ outcome: 'no-opinion' });
    const noCn = await certWithSubject('O=dev');
    expect(userFromCertificate(noCn)).toBeUndefined();
    expect(await authn.authenticateRequest({ headers: {}, peerCertificates: [noCn.raw] })).toEqual({
      outcome: 'no-opinion',
    });
  });

  it("refuses a certificate of another CA with kube's message", async () => {
    const mallory = await issueCertificate(otherCa, {
      commonName: 'mallory',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const authn = x509Authenticator({ roots: () => [node(ca)], clock: manualClock() });
    const r = await authn.authenticateRequest({ headers: {}, peerCertificates: [der(mallory)] });
    expect(r.outcome).toBe('error');
    expect(r.outcome === 'error' && r.error.message).toMatch(
      /^verifying certificate SN=\d+, SKID=, AKID=([0-9A-F]{2}:)+[0-9A-F]{2} failed: x509: certificate signed by unknown authority$/,
    );
    // A self-signed copy of the CA's name does not help either.
    expect(verifyClientChain([node(mallory), node(otherCa)], [node(ca)], Date.now()).ok).toBe(false);
  });

  it('refuses a server-only certificate and an expired one', async () => {
    const server = await issueCertificate(ca, { commonName: 'svc', usage: 'server' });
    const v = verifyClientChain([node(server)], [node(ca)], Date.now());
    expect(!v.ok && v.error.message).toMatch(/incompatible key usage/);
    const later = verifyClientChain([node(alice)], [node(ca)], Date.now() + 30 * 86_400_000);
    expect(!later.ok && later.error.message).toMatch(/expired or is not yet valid/);
  });

  it('walks a chain through a presented intermediate', async () => {
    const { cert: inter, keys } = await signedByCa('CN=intermediate', [
      new px509.BasicConstraintsExtension(true, undefined, true),
    ]);
    const interCa: IssuedCert = {
      cert: inter.toString('pem'),
      key: '',
      certificate: inter,
      keys: keys as never,
    };
    const leaf = await issueCertificate(interCa, { commonName: 'deep', usage: 'client' });
    expect(verifyClientChain([node(leaf), node(interCa)], [node(ca)], Date.now()).ok).toBe(true);
    expect(verifyClientChain([node(leaf)], [node(ca)], Date.now()).ok).toBe(false);
  });

  it('names the certificate by decimal serial and colon hex key ids', () => {
    expect(certificateIdentifier(node(alice))).toMatch(/^SN=\d+, SKID=, AKID=[0-9A-F:]+$/);
  });
});
