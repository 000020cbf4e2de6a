import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, createCertificateAuthority, type IssuedCert } from '../../src/dev/certs.js';
import { TokenwardenError } from '../../src/errors.js';
import { parseJwks, parseKeyFile, parsePemKeys, toJwks, toVerificationKey } from '../../src/keys/parse.js';
import {
  ecKey,
  ed25519Key,
  KUBE_KEYID_FIXTURE,
  KUBE_KEYID_FIXTURE_KID,
  rsaKey,
  rsaPublicKeyWithExponent,
  type TestKey,
} from '../helpers/keys.js';

const RSA_ALGS = ['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

const pem = (k: TestKey, type: 'spki' | 'pkcs1' = 'spki') =>
  k.publicKey.export({ type, format: 'pem' }) as string;
const privatePem = (k: TestKey, type: 'pkcs1' | 'pkcs8' | 'sec1') =>
  k.privateKey.export({ type, format: 'pem' }) as string;
const spkiPem = (key: ReturnType<typeof createPublicKey>) =>
  key.export({ type: 'spki', format: 'pem' }) as string;
const jwkOf = (k: TestKey) => k.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const jwks = (...keys: unknown[]) => JSON.stringify({ keys });

/** The error a parse throws: always a coded ERR_KEY_FILE naming the origin. */
function keyFileError(fn: () => unknown): TokenwardenError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenwardenError);
    expect((err as TokenwardenError).code).toBe('ERR_KEY_FILE');
    return err as TokenwardenError;
  }
  throw new Error('expected the key material to be refused');
}

describe('parsePemKeys', () => {
  let cert: IssuedCert;
  beforeAll(async () => {
    cert = await issueCertificate(await createCertificateAuthority(), { commonName: 'signer' });
  });

  it("loads the kube keyid_test.go key with kube's kid and the RSA algorithms", () => {
    const [key, ...rest] = parsePemKeys(readFileSync(KUBE_KEYID_FIXTURE, 'utf8'), 'fixture');
    expect(rest).toEqual([]);
    expect(key!.kid).toBe(KUBE_KEYID_FIXTURE_KID);
    expect([...key!.algorithms].sort()).toEqual(RSA_ALGS);
    expect(key!.origin).toBe('fixture');
  });

  it('loads a PKIX RSA public key', () => {
    const [key] = parsePemKeys(pem(rsaKey()), 'f');
    expect(key!.kid).toBe(rsaKey().kid);
  });

  it('loads a PKCS#1 RSA PUBLIC KEY block', () => {
    const text = pem(rsaKey(), 'pkcs1');
    expect(text).toContain('BEGIN RSA PUBLIC KEY');
    expect(parsePemKeys(text, 'f')[0]!.kid).toBe(rsaKey().kid);
  });

  it('loads the public key of a certificate', () => {
    const [key] = parsePemKeys(cert.cert, 'f');
    expect(key!.kid).toBe(parsePemKeys(spkiPem(createPublicKey(cert.key)), 'f')[0]!.kid);
    expect([...key!.algorithms]).toEqual(['ES256']);
  });

  it('uses the public half of RSA private keys, PKCS#1 and PKCS#8', () => {
    for (const text of [privatePem(rsaKey(), 'pkcs1'), privatePem(rsaKey(), 'pkcs8')]) {
      const [key] = parsePemKeys(text, 'f');
      expect(key!.kid).toBe(rsaKey().kid);
      expect(key!.key.type).toBe('public');
    }
  });

  it('uses the public half of EC private keys, SEC1 and PKCS#8', () => {
    for (const text of [privatePem(ecKey('P-384'), 'sec1'), privatePem(ecKey('P-384'), 'pkcs8')]) {
      const [key] = parsePemKeys(text, 'f');
      expect(key!.kid).toBe(ecKey('P-384').kid);
      expect(key!.key.type).toBe('public');
    }
  });

  it('binds each EC curve to its one algorithm: P-256 ES256, P-384 ES384, P-521 ES512', () => {
    const algs = (['P-256', 'P-384', 'P-521'] as const).map((c) => [
      ...parsePemKeys(pem(ecKey(c)), 'f')[0]!.algorithms,
    ]);
    expect(algs).toEqual([['ES256'], ['ES384'], ['ES512']]);
  });

  it('loads several blocks of mixed kinds from one file, in order, ignoring text between them', () => {
    const text = [
      '# signing keys, oldest first',
      pem(rsaKey('a')),
      'some operator note',
      privatePem(ecKey('P-256'), 'sec1'),
      cert.cert,
      pem(rsaKey('b'), 'pkcs1'),
    ].join('\n');
    const kids = parsePemKeys(text, 'f').map((k) => k.kid);
    expect(kids).toEqual([
      rsaKey('a').kid,
      ecKey('P-256').kid,
      parsePemKeys(cert.cert, 'f')[0]!.kid,
      rsaKey('b').kid,
    ]);
  });

  it('accepts CRLF line endings', () => {
    expect(parsePemKeys(pem(rsaKey()).replace(/\n/g, '\r\n'), 'f')[0]!.kid).toBe(rsaKey().kid);
  });

  it('refuses an RSA key under 2048 bits', () => {
    const err = keyFileError(() => parsePemKeys(pem(rsaKey('small', 1024)), 'weak.pem'));
    expect(err.message).toBe('weak.pem: RSA key of 1024 bits is too weak (minimum 2048)');
  });

  it('refuses an RSA key over 8192 bits', () => {
    const n = randomBytes(8200 / 8 + 1);
    n[0] = 0xff;
    n[n.length - 1]! |= 1;
    const huge = createPublicKey({
      key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' },
      format: 'jwk',
    });
    expect(keyFileError(() => parsePemKeys(spkiPem(huge), 'f')).message).toMatch(/too large/);
  });

  it.each([
    ['e = 1 (WP jwk tcId 9)', 1n],
    ['an even e', 65536n],
  ])('refuses an RSA key with a weak public exponent: %s', (_name, e) => {
    const err = keyFileError(() => parsePemKeys(spkiPem(rsaPublicKeyWithExponent(e)), 'f'));
    expect(err.message).toBe(`f: RSA key has an invalid public exponent ${e}`);
  });

  it('accepts the odd exponent 3', () => {
    expect(parsePemKeys(spkiPem(rsaPublicKeyWithExponent(3n)), 'f')).toHaveLength(1);
  });

  it('refuses EC curves other than P-256, P-384 and P-521', () => {
    const err = keyFileError(() => parsePemKeys(pem(ecKey('secp256k1')), 'f'));
    expect(err.message).toMatch(/EC curve secp256k1 is not supported/);
  });

  it('refuses Ed25519 keys', () => {
    expect(keyFileError(() => parsePemKeys(pem(ed25519Key()), 'f')).message).toMatch(
      /ed25519 keys are not supported/,
    );
  });

  it('refuses an encrypted private key', () => {
    const text = rsaKey().privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'x',
    });
    expect(keyFileError(() => parsePemKeys(text as string, 'f')).message).toMatch(/encrypted private keys/);
  });

  it('refuses a broken block instead of silently dropping it, naming the block', () => {
    const text = `${pem(rsaKey())}-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n`;
    expect(keyFileError(() => parsePemKeys(text, 'k.pem')).message).toBe(
      'k.pem: PEM block 2 (PUBLIC KEY) is not a valid key or certificate',
    );
  });

  it("refuses a file without any PEM block, with kube's message", () => {
    expect(keyFileError(() => parsePemKeys('hello\n', 'k.pem')).message).toBe(
      'k.pem: data does not contain any valid RSA or ECDSA public keys',
    );
  });
});

describe('parseJwks', () => {
  it("keeps a JWK's own kid and gives a kid-less JWK kube's kid", () => {
    const { keys } = parseJwks(jwks({ ...jwkOf(rsaKey()), kid: 'mine' }, jwkOf(ecKey('P-256'))), 'j');
    expect(keys.map((k) => k.kid)).toEqual(['mine', ecKey('P-256').kid]);
    expect([...keys[1]!.algorithms]).toEqual(['ES256']);
  });

  it('narrows a key to the alg its JWK declares', () => {
    const { keys } = parseJwks(jwks({ ...jwkOf(rsaKey()), alg: 'PS384' }), 'j');
    expect([...keys[0]!.algorithms]).toEqual(['PS384']);
  });

  it('refuses a JWK whose alg does not fit its key', () => {
    expect(keyFileError(() => parseJwks(jwks({ ...jwkOf(rsaKey()), alg: 'ES256' }), 'j')).message).toMatch(
      /declares alg ES256/,
    );
    expect(() => parseJwks(jwks({ ...jwkOf(ecKey('P-256')), alg: 'ES384' }), 'j')).toThrow(
      /declares alg ES384/,
    );
    expect(() => parseJwks(jwks({ ...jwkOf(rsaKey()), alg: 'HS256' }), 'j')).toThrow(/declares alg HS256/);
  });

  it('skips symmetric keys and keys not meant for signatures', () => {
    const result = parseJwks(
      jwks(
        { kty: 'oct', k: 'c2VjcmV0' },
        { ...jwkOf(rsaKey('b')), use: 'enc' },
        { ...jwkOf(rsaKey('c')), key_ops: ['encrypt'] },
        { ...jwkOf(rsaKey('a')), use: 'sig', key_ops: ['verify'] },
      ),
      'j',
    );
    expect(result.keys.map((k) => k.kid)).toEqual([rsaKey('a').kid]);
    expect(result.skipped).toHaveLength(3);
  });

  it('imports only the public part of a JWK that carries private members', () => {
    const priv = rsaKey().privateKey.export({ format: 'jwk' });
    const { keys } = parseJwks(jwks(priv), 'j');
    expect(keys[0]!.key.type).toBe('public');
    expect(keys[0]!.kid).toBe(rsaKey().kid);
  });

  it('refuses a weak key in a JWKS document', () => {
    expect(() => parseJwks(jwks(jwkOf(rsaKey('small', 1024))), 'j')).toThrow(/too weak/);
    expect(() => parseJwks(jwks({ ...jwkOf(rsaKey()), e: 'AQ' }), 'j')).toThrow(/public exponent 1/);
  });

  it('refuses an EC point that is not on its curve', () => {
    const jwk = jwkOf(ecKey('P-256'));
    const y = Buffer.from(jwk.y as string, 'base64url');
    y[y.length - 1]! ^= 1;
    expect(() => parseJwks(jwks({ ...jwk, y: y.toString('base64url') }), 'j')).toThrow(
      /not a valid EC public key/,
    );
  });

  it.each([
    ['not JSON', '{"keys": [', /not valid JSON/],
    ['no keys array', '{"key": []}', /"keys" array/],
    ['a non-object entry', '{"keys": [1]}', /keys\[0\] is not an object/],
    ['an unknown kty', jwks({ kty: 'OKP', crv: 'Ed25519', x: 'AA' }), /kty must be RSA or EC/],
    ['a non-string kid', jwks({ ...jwkOf(rsaKey()), kid: 7 }), /kid must be a non-empty string/],
    ['an empty kid', jwks({ ...jwkOf(rsaKey()), kid: '' }), /kid must be a non-empty string/],
    ['a kid over 1024 characters', jwks({ ...jwkOf(rsaKey()), kid: 'k'.repeat(1025) }), /at most 1024/],
    ['a missing modulus', jwks({ kty: 'RSA', e: 'AQAB' }), /keys\[0\]\.n must be a string/],
    ['the kty constructor', jwks({ kty: 'constructor' }), /kty must be RSA or EC/],
    ['the kty __proto__', '{"keys":[{"kty":"__proto__"}]}', /kty must be RSA or EC/],
    ['the kty toString', jwks({ kty: 'toString' }), /kty must be RSA or EC/],
  ])('refuses a document with %s', (_name, text, message) => {
    expect(keyFileError(() => parseJwks(text, 'j.json')).message).toMatch(message);
  });
});

describe('parseKeyFile', () => {
  it('reads a JWKS document when the first non-blank character is {', () => {
    expect(parseKeyFile(`\n  ${jwks(jwkOf(ecKey('P-521')))}`, 'f').keys[0]!.kid).toBe(ecKey('P-521').kid);
  });

  it('refuses a JWKS that holds no usable signing key', () => {
    expect(() => parseKeyFile(jwks({ kty: 'oct', k: 'c2VjcmV0' }), 'f')).toThrow(/no usable signing keys/);
  });

  it('reads anything else as PEM', () => {
    expect(parseKeyFile(pem(rsaKey()), 'f').keys).toHaveLength(1);
  });
});

describe('toVerificationKey', () => {
  it('refuses a key whose type is neither RSA nor EC', () => {
    expect(() => toVerificationKey(ed25519Key().publicKey, 'x')).toThrow(/not supported/);
  });
});

describe('toJwks', () => {
  it("publishes kube-apiserver's JWKS: kube kid, use sig, alg by key type, no private members", () => {
    const keys = parseKeyFile([privatePem(rsaKey(), 'pkcs1'), pem(ecKey('P-384'))].join(''), 'f').keys;
    const doc = toJwks(keys);
    expect(doc.keys).toHaveLength(2);
    expect(doc.keys[0]).toMatchObject({ use: 'sig', kty: 'RSA', kid: rsaKey().kid, alg: 'RS256' });
    expect(doc.keys[1]).toMatchObject({
      use: 'sig',
      kty: 'EC',
      kid: ecKey('P-384').kid,
      alg: 'ES384',
      crv: 'P-384',
    });
    for (const k of doc.keys)
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(member);
    // The document reads back into the same keys.
    expect(parseJwks(JSON.stringify(doc), 'back').keys.map((k) => k.kid)).toEqual(keys.map((k) => k.kid));
  });
});
