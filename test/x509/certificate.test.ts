import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCertificate, ext } from '../../src/x509/build.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { time } from '../../src/x509/der-write.js';
import { PKI_NOW, pkiCert } from '../helpers/pki.js';

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const build = (over: Partial<Parameters<typeof buildCertificate>[0]> = {}) =>
  buildCertificate({
    subject: [['CN', 'x']],
    serial: 7n,
    notBefore: new Date(PKI_NOW.getTime() - 1000),
    notAfter: new Date(PKI_NOW.getTime() + 1000),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    ...over,
  });

describe('parseCertificate (as Go x509.ParseCertificate reads)', () => {
  it('reads names, validity, constraints and key identifiers', () => {
    const c = pkiCert({
      subject: [
        ['CN', 'first'],
        ['CN', 'last'],
        ['O', 'a'],
        ['O', 'b'],
      ],
      ca: { pathLen: 2 },
    });
    expect(c.cert.subject.commonName).toBe('last');
    expect(c.cert.subject.organization).toEqual(['a', 'b']);
    expect(c.cert.isCA && c.cert.maxPathLen).toBe(2);
    expect(c.cert.subjectKeyId.length).toBe(20);
    expect(c.cert.notAfter.getTime()).toBe(PKI_NOW.getTime() + 3_600_000);
  });

  it('refuses duplicate extensions, trailing data, a negative serial and a malformed time', () => {
    const dup = build({ extensions: [ext.basicConstraints(true), ext.basicConstraints(true)] });
    expect(() => parseCertificate(dup)).toThrow(
      'x509: certificate contains duplicate extension with OID "2.5.29.19"',
    );
    expect(() => parseCertificate(Buffer.concat([build(), Buffer.from([0])]))).toThrow('x509: trailing data');
    expect(() => parseCertificate(build({ serial: -5n }))).toThrow('x509: negative serial number');
    const good = build();
    const notBefore = Buffer.from(time(new Date(PKI_NOW.getTime() - 1000)));
    const bad = Buffer.from(good);
    bad[good.indexOf(notBefore) + notBefore.length - 1] = 0x41; // 'Z' → 'A'
    expect(() => parseCertificate(bad)).toThrow('x509: malformed UTCTime');
  });

  it('marks an unknown critical extension and a SAN extension with no name it reads as unhandled', () => {
    const unknown = build({ extensions: [{ oid: '1.2.3.4', critical: true, value: Buffer.from([5, 0]) }] });
    expect(parseCertificate(unknown).hasUnhandledCriticalExtension).toBe(true);
    const emptySan = build({ extensions: [{ ...ext.subjectAltName({}), critical: true }] });
    expect(parseCertificate(emptySan).hasUnhandledCriticalExtension).toBe(true);
    expect(parseCertificate(build()).hasUnhandledCriticalExtension).toBe(false);
  });

  it('refuses a URI SAN Go cannot parse', () => {
    const uri = (u: string) => build({ extensions: [ext.subjectAltName({ uri: [u] })] });
    expect(parseCertificate(uri('spiffe://cluster.local/ns/a/sa/b')).uris).toEqual([
      'spiffe://cluster.local/ns/a/sa/b',
    ]);
    expect(() => parseCertificate(uri('https://bad..host/'))).toThrow(
      'x509: cannot parse URI "https://bad..host/": invalid domain',
    );
    expect(() => parseCertificate(uri('https://a.example/%zz'))).toThrow('x509: cannot parse URI');
  });

  it('refuses a name attribute that is not one of the string types Go reads', () => {
    const withInteger = build({ subject: [['CN', 'x']] });
    const cnValue = withInteger.indexOf(Buffer.from([0x0c, 0x01, 0x78]));
    const patched = Buffer.from(withInteger);
    patched[cnValue] = 0x02; // INTEGER instead of UTF8String
    expect(() => parseCertificate(patched)).toThrow(/unsupported string type|malformed/);
  });
});
