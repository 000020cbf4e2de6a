import { describe, expect, it } from 'vitest';
import { EKU, ext } from '../../src/x509/build.js';
import { ia5String } from '../../src/x509/der-write.js';
import { verifyChain, type ChainVerdict } from '../../src/x509/verify-chain.js';
import { clientLeaf, pkiCert, PKI_NOW, rootCa, type PkiCert } from '../helpers/pki.js';

const HOUR = 3_600_000;
const intermediate = (issuer: PkiCert, spec: Parameters<typeof pkiCert>[0] | object = {}): PkiCert =>
  pkiCert({ subject: [['CN', 'intermediate-ca']], issuer, ca: true, ...spec });

function verify(leaf: PkiCert, intermediates: PkiCert[], roots: PkiCert[], now = PKI_NOW): ChainVerdict {
  return verifyChain(
    leaf.cert,
    intermediates.map((c) => c.cert),
    roots.map((c) => c.cert),
    now,
    'clientAuth',
  );
}

const errorOf = (v: ChainVerdict): string | undefined => (v.ok ? undefined : v.error);

describe('verifyChain (Go crypto/x509 Verify with ExtKeyUsageClientAuth)', () => {
  it('accepts leaf → presented intermediate → root and returns that chain', () => {
    const root = rootCa();
    const inter = intermediate(root);
    const leaf = clientLeaf(inter);
    const v = verify(leaf, [inter], [root]);
    expect(v.ok && v.chains.map((c) => c.map((x) => x.subject.commonName))).toEqual([
      ['alice', 'intermediate-ca', 'root-ca'],
    ]);
    expect(errorOf(verify(leaf, [], [root]))).toBe('x509: certificate signed by unknown authority');
  });

  it('refuses a clientAuth leaf under an intermediate restricted to serverAuth, even for system:masters', () => {
    const root = rootCa();
    const inter = intermediate(root, { eku: [EKU.serverAuth] });
    const leaf = clientLeaf(inter, {
      subject: [
        ['CN', 'mallory'],
        ['O', 'system:masters'],
      ],
    });
    expect(errorOf(verify(leaf, [inter], [root]))).toBe(
      'x509: certificate specifies an incompatible key usage',
    );
  });

  it('lets an intermediate with any-EKU, with clientAuth or with no EKU pass a clientAuth leaf', () => {
    const root = rootCa();
    for (const eku of [[EKU.any], [EKU.serverAuth, EKU.clientAuth], undefined]) {
      const inter = intermediate(root, eku ? { eku } : {});
      expect(verify(clientLeaf(inter), [inter], [root]).ok).toBe(true);
    }
    const serverOnlyRoot = pkiCert({ subject: [['CN', 'server-root']], ca: true, eku: [EKU.serverAuth] });
    expect(errorOf(verify(clientLeaf(serverOnlyRoot), [], [serverOnlyRoot]))).toBe(
      'x509: certificate specifies an incompatible key usage',
    );
  });

  it('refuses a serverAuth-only leaf and accepts a leaf with no EKU', () => {
    const root = rootCa();
    expect(errorOf(verify(clientLeaf(root, { eku: [EKU.serverAuth] }), [], [root]))).toBe(
      'x509: certificate specifies an incompatible key usage',
    );
    expect(verify(pkiCert({ subject: [['CN', 'plain']], issuer: root }), [], [root]).ok).toBe(true);
  });

  it('refuses a sub-CA signed by a pathlen:0 intermediate', () => {
    const root = rootCa();
    const inter = intermediate(root, { ca: { pathLen: 0 } });
    const sub = pkiCert({ subject: [['CN', 'sub-ca']], issuer: inter, ca: true });
    const leaf = clientLeaf(sub);
    expect(errorOf(verify(leaf, [sub, inter], [root]))).toBe(
      'x509: too many intermediates for path length constraint',
    );
    const pathLenOne = intermediate(root, { ca: { pathLen: 1 } });
    const sub1 = pkiCert({ subject: [['CN', 'sub-ca']], issuer: pathLenOne, ca: true });
    expect(verify(clientLeaf(sub1), [sub1, pathLenOne], [root]).ok).toBe(true);
  });

  it('applies a name-constrained intermediate to the SANs below it, and lets a leaf without SANs through as Go does', () => {
    const root = rootCa();
    const inter = intermediate(root, { extensions: [ext.nameConstraints([ia5String(0x82, 'example.com')])] });
    const outside = clientLeaf(inter, { extensions: [ext.subjectAltName({ dns: ['evil.test'] })] });
    expect(errorOf(verify(outside, [inter], [root]))).toBe(
      'x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "evil.test" is not permitted by any constraint',
    );
    const inside = clientLeaf(inter, { extensions: [ext.subjectAltName({ dns: ['a.example.com'] })] });
    expect(verify(inside, [inter], [root]).ok).toBe(true);
    expect(verify(clientLeaf(inter), [inter], [root]).ok).toBe(true);

    const excluding = intermediate(root, {
      extensions: [ext.nameConstraints([], [ia5String(0x82, 'corp.example')])],
    });
    const excluded = clientLeaf(excluding, { extensions: [ext.subjectAltName({ dns: ['x.corp.example'] })] });
    expect(errorOf(verify(excluded, [excluding], [root]))).toBe(
      'x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "x.corp.example" is excluded by constraint "corp.example"',
    );
    const ipOnly = intermediate(root, {
      extensions: [ext.nameConstraints([Buffer.from([0x87, 8, 10, 0, 0, 0, 255, 0, 0, 0])])],
    });
    const ipLeaf = clientLeaf(ipOnly, {
      extensions: [ext.subjectAltName({ ip: [Uint8Array.from([192, 168, 1, 1])] })],
    });
    expect(errorOf(verify(ipLeaf, [ipOnly], [root]))).toBe(
      'x509: a root or intermediate certificate is not authorized to sign for this name: IP address "192.168.1.1" is not permitted by any constraint',
    );
  });

  it('refuses a CA whose critical name constraints use a form Go does not check (directoryName)', () => {
    const root = rootCa();
    const dirName = Buffer.concat([
      Buffer.from([0xa4, 0x0e]),
      Buffer.from('300c310a300806035504030c0161', 'hex'),
    ]);
    const inter = intermediate(root, { extensions: [ext.nameConstraints([dirName])] });
    expect(errorOf(verify(clientLeaf(inter), [inter], [root]))).toBe('x509: unhandled critical extension');
  });

  it('refuses an unknown critical extension on the leaf or an intermediate, and ignores a non-critical one', () => {
    const root = rootCa();
    const unknown = (critical: boolean) => ({
      oid: '1.3.6.1.4.1.99999.1',
      critical,
      value: Buffer.from([5, 0]),
    });
    expect(errorOf(verify(clientLeaf(root, { extensions: [unknown(true)] }), [], [root]))).toBe(
      'x509: unhandled critical extension',
    );
    const inter = intermediate(root, { extensions: [unknown(true)] });
    expect(errorOf(verify(clientLeaf(inter), [inter], [root]))).toBe('x509: unhandled critical extension');
    expect(verify(clientLeaf(root, { extensions: [unknown(false)] }), [], [root]).ok).toBe(true);
  });

  it('refuses SHA-1 and MD5 signatures as Go does by default', () => {
    const root = rootCa();
    expect(errorOf(verify(clientLeaf(root, { hash: 'sha1' }), [], [root]))).toBe(
      'x509: certificate signed by unknown authority (possibly because of "x509: cannot verify signature: insecure algorithm ECDSA-SHA1" while trying to verify candidate authority certificate "root-ca")',
    );
    const rsaRoot = pkiCert({ subject: [['CN', 'rsa-root']], ca: true, keyType: 'rsa' });
    expect(errorOf(verify(clientLeaf(rsaRoot, { hash: 'sha1' }), [], [rsaRoot]))).toContain(
      'insecure algorithm SHA1-RSA',
    );
    expect(errorOf(verify(clientLeaf(rsaRoot, { hash: 'md5' }), [], [rsaRoot]))).toContain(
      'insecure algorithm MD5-RSA',
    );
    expect(verify(clientLeaf(rsaRoot, { hash: 'sha384' }), [], [rsaRoot]).ok).toBe(true);
  });

  it('refuses a non-CA certificate used to sign another', () => {
    const root = rootCa();
    const notCa = clientLeaf(root, { subject: [['CN', 'bob']], keyUsage: [0, 5] });
    const forged = clientLeaf(notCa, {
      subject: [
        ['CN', 'admin'],
        ['O', 'system:masters'],
      ],
    });
    expect(errorOf(verify(forged, [notCa], [root]))).toBe(
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "bob")',
    );
    const notCaRoot = pkiCert({ subject: [['CN', 'not-a-ca-root']], keyUsage: [0, 5] });
    expect(errorOf(verify(clientLeaf(notCaRoot), [], [notCaRoot]))).toBe(
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "not-a-ca-root")',
    );
    // A version 1 certificate has no CA flag at all: Go lets it sign only as a root.
    const v1 = pkiCert({ subject: [['CN', 'v1-intermediate']], issuer: root, version: 1 });
    const below = clientLeaf(v1);
    expect(errorOf(verify(below, [v1], [root]))).toBe(
      'x509: certificate is not authorized to sign other certificates',
    );
    expect(verify(below, [], [v1]).ok).toBe(true);
  });

  it('refuses a signer whose key usage leaves out keyCertSign', () => {
    const root = rootCa();
    const inter = intermediate(root, { subject: [['CN', 'no-cert-sign']], keyUsage: [0] });
    expect(errorOf(verify(clientLeaf(inter), [inter], [root]))).toBe(
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "no-cert-sign")',
    );
  });

  it('checks the validity period of the leaf, the intermediates and the root', () => {
    const root = rootCa();
    const inter = intermediate(root);
    const leaf = clientLeaf(inter);
    const later = new Date(PKI_NOW.getTime() + 2 * HOUR);
    const at = (d: Date) => d.toISOString().replace('.000', '');
    expect(errorOf(verify(leaf, [inter], [root], later))).toBe(
      `x509: certificate has expired or is not yet valid: current time ${at(later)} is after ${at(new Date(PKI_NOW.getTime() + HOUR))}`,
    );
    const expiredInter = intermediate(root, { notAfter: new Date(PKI_NOW.getTime() - 1000) });
    expect(errorOf(verify(clientLeaf(expiredInter), [expiredInter], [root]))).toBe(
      `x509: certificate has expired or is not yet valid: current time ${at(PKI_NOW)} is after ${at(new Date(PKI_NOW.getTime() - 1000))}`,
    );
    const futureRoot = pkiCert({
      subject: [['CN', 'future-root']],
      ca: true,
      notBefore: new Date(PKI_NOW.getTime() + 1000),
    });
    expect(errorOf(verify(clientLeaf(futureRoot), [], [futureRoot]))).toBe(
      `x509: certificate has expired or is not yet valid: current time ${at(PKI_NOW)} is before ${at(new Date(PKI_NOW.getTime() + 1000))}`,
    );
  });

  it('names the candidate that failed: a root with the right name but another key', () => {
    const root = rootCa();
    const impostor = rootCa();
    expect(errorOf(verify(clientLeaf(impostor), [], [root]))).toBe(
      'x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "root-ca")',
    );
  });

  it('accepts a leaf that is itself in the roots', () => {
    const self = pkiCert({ subject: [['CN', 'self']], eku: [EKU.clientAuth] });
    expect(verify(self, [], [self]).ok).toBe(true);
  });
});
