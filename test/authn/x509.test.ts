import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { certificateIdentifier, userFromCertificate, x509Authenticator } from '../../src/authn/x509.js';
import { createCertificateAuthority, issueCertificate, type IssuedCert } from '../../src/dev/certs.js';
import { EKU } from '../../src/x509/build.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { clientLeaf, pkiCert, PKI_NOW, rootCa } from '../helpers/pki.js';

const parsed = (c: { der: Buffer }) => parseCertificate(c.der);

let ca: IssuedCert;
let alice: IssuedCert;
beforeAll(async () => {
  ca = await createCertificateAuthority('client-ca');
  alice = await issueCertificate(ca, {
    commonName: 'alice',
    organizations: ['dev', 'system:masters'],
    usage: 'client',
  });
});

describe('x509 client certificate identity', () => {
  it('maps a verified certificate to CN = user, O = groups, credential-id = X509SHA256', async () => {
    const authn = x509Authenticator({ roots: () => [parsed(ca)], clock: manualClock() });
    const result = await authn.authenticateRequest({ headers: {}, peerCertificates: [alice.der] });
    const digest = createHash('sha256').update(alice.der).digest('hex');
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

  it('reads the Subject UID attribute, refusing several or an empty one', () => {
    const root = rootCa();
    const withUid = (...uids: string[]) =>
      userFromCertificate(
        clientLeaf(root, { subject: [['CN', 'bob'], ...uids.map((u) => ['UID', u] as const)] }).cert,
      );
    expect(withUid('uid-7')).toMatchObject({ username: 'bob', uid: 'uid-7', groups: [] });
    expect(withUid('a', 'b')).toBeInstanceOf(Error);
    expect(withUid('')).toBeInstanceOf(Error);
    expect((withUid('') as Error).message).toBe('the UID in the certificate subject is empty');
  });

  it('answers not-mine for no certificate, an empty CN and an empty bundle', async () => {
    const root = rootCa();
    const authn = x509Authenticator({ roots: () => [root.cert], clock: manualClock(PKI_NOW.getTime()) });
    expect(await authn.authenticateRequest({ headers: {} })).toEqual({ outcome: 'no-opinion' });
    const noCn = clientLeaf(root, { subject: [['O', 'dev']] });
    expect(userFromCertificate(noCn.cert)).toBeUndefined();
    expect(await authn.authenticateRequest({ headers: {}, peerCertificates: [noCn.der] })).toEqual({
      outcome: 'no-opinion',
    });
    const noBundle = x509Authenticator({ roots: () => [], clock: manualClock(PKI_NOW.getTime()) });
    expect(await noBundle.authenticateRequest({ headers: {}, peerCertificates: [alice.der] })).toEqual({
      outcome: 'no-opinion',
    });
  });

  it("refuses a certificate of another CA with kube's message naming the leaf", async () => {
    const otherCa = await createCertificateAuthority('other-ca');
    const mallory = await issueCertificate(otherCa, {
      commonName: 'mallory',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const authn = x509Authenticator({ roots: () => [parsed(ca)], clock: manualClock() });
    const r = await authn.authenticateRequest({ headers: {}, peerCertificates: [mallory.der] });
    expect(r.outcome === 'error' && r.error.message).toMatch(
      /^verifying certificate SN=\d+, SKID=, AKID=([0-9A-F]{2}:)+[0-9A-F]{2} failed: x509: certificate signed by unknown authority$/,
    );
    // Presenting a self-signed copy of the CA's name does not help either.
    const both = await authn.authenticateRequest({
      headers: {},
      peerCertificates: [mallory.der, otherCa.der],
    });
    expect(both.outcome).toBe('error');
  });

  it('refuses system:masters through an intermediate restricted to serverAuth', async () => {
    const root = rootCa();
    const serverOnly = pkiCert({
      subject: [['CN', 'serving-ca']],
      issuer: root,
      ca: true,
      eku: [EKU.serverAuth],
    });
    const leaf = clientLeaf(serverOnly, {
      subject: [
        ['CN', 'mallory'],
        ['O', 'system:masters'],
      ],
    });
    const authn = x509Authenticator({ roots: () => [root.cert], clock: manualClock(PKI_NOW.getTime()) });
    const r = await authn.authenticateRequest({ headers: {}, peerCertificates: [leaf.der, serverOnly.der] });
    expect(r.outcome === 'error' && r.error.message).toBe(
      `verifying certificate ${certificateIdentifier(leaf.cert)} failed: x509: certificate specifies an incompatible key usage`,
    );
  });

  it('refuses a chain whose intermediate or root has expired', async () => {
    const root = rootCa();
    const inter = pkiCert({ subject: [['CN', 'inter']], issuer: root, ca: true });
    const leaf = clientLeaf(inter);
    const clock = manualClock(PKI_NOW.getTime());
    const authn = x509Authenticator({ roots: () => [root.cert], clock });
    const ok = await authn.authenticateRequest({ headers: {}, peerCertificates: [leaf.der, inter.der] });
    expect(ok).toMatchObject({ outcome: 'authenticated', user: { username: 'alice' } });
    const shortRoot = pkiCert({
      subject: [['CN', 'short-root']],
      ca: true,
      notAfter: new Date(PKI_NOW.getTime() - 1000),
    });
    const underShort = clientLeaf(shortRoot);
    const expired = x509Authenticator({ roots: () => [shortRoot.cert], clock });
    const r = await expired.authenticateRequest({ headers: {}, peerCertificates: [underShort.der] });
    expect(r.outcome === 'error' && r.error.message).toMatch(
      /failed: x509: certificate has expired or is not yet valid: current time .* is after /,
    );
  });

  it('refuses a chain that does not parse instead of ignoring it', async () => {
    const authn = x509Authenticator({ roots: () => [parsed(ca)], clock: manualClock() });
    const r = await authn.authenticateRequest({
      headers: {},
      peerCertificates: [Buffer.from('not a certificate')],
    });
    expect(r.outcome).toBe('error');
  });

  it('names the certificate by decimal serial and colon hex key ids', () => {
    expect(certificateIdentifier(parsed(alice))).toMatch(
      /^SN=\d+, SKID=, AKID=([0-9A-F]{2}:){19}[0-9A-F]{2}$/,
    );
  });
});
