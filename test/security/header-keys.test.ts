import { createHash, createHmac, createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { createCertificateAuthority } from '../../src/dev/certs.js';
import { signCompact } from '../../src/dev/sign.js';
import { toJwks } from '../../src/keys/parse.js';
import {
  Attacker,
  BAD_SIGNATURE,
  connectionTrap,
  INVALID,
  NO_KEY,
  type ConnectionTrap,
} from '../helpers/attack.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { ecKey, rsaKey, verificationKey, type TestKey } from '../helpers/keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { b64url, boundClaims, ISSUER, mintToken, NOW_MS, OTHER_ISSUER, segments } from '../helpers/tokens.js';
import { jwksBody, json, startJwksServer, type JwksServer } from '../keys/jwks-server.js';

/**
 * RFC 8725 §3.10 and jwt_tool's `-X i`, `-X s` and kid
 * playbook: every way a token tries to choose the key it is checked with, sent as
 * TokenReviews to the real service. The issuer's keys come only from its operator.
 */

const issuerKey = rsaKey();
const attackerKey = rsaKey('attacker');
const attackerEc = ecKey('P-256', 'attacker');
/** Keys published in a JWKS key file with properties a token must not exploit. */
const dupA = rsaKey('dup-a');
const dupB = rsaKey('dup-b');
const encKey = rsaKey('enc');
const noVerifyKey = rsaKey('no-verify');
const psOnlyKey = rsaKey('ps-only');
const HMAC_SECRET = Buffer.from('a shared secret nobody should trust');
/** The second issuer's own key, served only by its JWKS URL. */
const otherKey = rsaKey('other-issuer');

let server: TestServer;
let otherIssuer: JwksServer;
let trap: ConnectionTrap;
const files = suiteDir();
const attack = new Attacker(() => server);

function keyFileJwks(): string {
  const jwk = (k: TestKey, extra: Record<string, unknown>) => ({
    ...toJwks([verificationKey(k)]).keys[0],
    ...extra,
  });
  return JSON.stringify({
    keys: [
      jwk(dupA, { kid: 'dup' }),
      jwk(dupB, { kid: 'dup' }),
      jwk(encKey, { kid: 'enc', use: 'enc' }),
      jwk(noVerifyKey, { kid: 'no-verify', use: undefined, key_ops: ['encrypt'] }),
      jwk(psOnlyKey, { kid: 'ps-only', alg: 'PS256' }),
      { kty: 'oct', kid: 'hmac', k: HMAC_SECRET.toString('base64url') },
    ],
  });
}

beforeAll(async () => {
  trap = await connectionTrap();
  otherIssuer = await startJwksServer();
  otherIssuer.respond('/jwks', json(jwksBody([otherKey])));
  server = await startTestServer({
    clock: manualClock(NOW_MS),
    keys: [issuerKey],
    flags: [
      '--service-account-key-file',
      writeFile(files.dir, 'keys.jwks', keyFileJwks()),
      '--service-account-issuer',
      OTHER_ISSUER,
      '--service-account-jwks-uri',
      `${OTHER_ISSUER}=${otherIssuer.url}`,
      '--service-account-jwks-ca-file',
      `${OTHER_ISSUER}=${writeFile(files.dir, 'other-ca.pem', otherIssuer.tls.ca)}`,
    ],
  });
  expect(await server.chain.whenReady(5_000)).toBe(true);
});
afterAll(async () => {
  await server.close();
  await otherIssuer.close();
  await trap.close();
  files.remove();
});
afterEach(async () => {
  await attack.stillServing();
  expect(trap.connections()).toBe(0);
});

const trapUrl = (path = '/keys') => `https://127.0.0.1:${trap.port}${path}`;

describe('keys the token carries or points at', () => {
  it.each([
    ['RSA', attackerKey],
    ['EC', attackerEc],
  ])('refuses a token signed by the %s key embedded in its jwk header', async (_kind, key) => {
    const jwk = key.publicKey.export({ format: 'jwk' });
    await attack.refused(mintToken({ key, header: { jwk } }), INVALID);
    await attack.refused(mintToken({ key, header: { jwk, kid: issuerKey.kid } }), INVALID);
  });

  it.each(['jku', 'x5u'])('never fetches a %s, wherever it points', async (member) => {
    for (const url of [
      trapUrl(),
      `http://127.0.0.1:${trap.port}/jwks.json`,
      'http://169.254.169.254/latest/meta-data/',
      'file:///etc/passwd',
      `https://localhost:${trap.port}/redirect?to=${encodeURIComponent('http://169.254.169.254/')}`,
    ]) {
      await attack.refused(mintToken({ key: attackerKey, header: { [member]: url } }), INVALID);
      await attack.refused(mintToken({ key: issuerKey, header: { [member]: url, kid: 'unknown' } }), INVALID);
    }
  });

  it('refuses a token whose x5c chain holds the self-signed certificate of the key that signed it', async () => {
    const ca = await createCertificateAuthority('attacker');
    const der = new X509Certificate(ca.cert).raw.toString('base64');
    const header = b64url(JSON.stringify({ alg: 'ES256', x5c: [der] }));
    const input = `${header}.${segments(mintToken())[1]}`;
    await attack.refused(signCompact('ES256', input, createPrivateKey(ca.key)), INVALID);
  });

  it("refuses an attacker-signed token carrying the issuer key's x5t#S256 and kid", async () => {
    const thumbprint = createHash('sha256').update(
      issuerKey.publicKey.export({ type: 'spki', format: 'der' }),
    );
    const header = { kid: issuerKey.kid, 'x5t#S256': thumbprint.digest('base64url') };
    await attack.refused(mintToken({ key: attackerKey, header }), BAD_SIGNATURE);
  });
});

describe('kid injection', () => {
  it.each([
    ['a path traversal', '../../../../../../dev/null'],
    ['/dev/null', '/dev/null'],
    ['SQL', "x' UNION SELECT '1';--"],
    ['a shell pipe', '|sleep 10'],
    ['a command substitution', '$(id)'],
    ['a curl command', '; curl http://169.254.169.254/ #'],
    ['NUL bytes', 'a\u0000b\u0000'],
    ['right-to-left and unicode characters', '\u202ekid\u202c\u00e9\u{1f600}'],
    ['a kid of 1024 characters', 'k'.repeat(1024)],
  ])('answers a kid with %s: no key, nothing run or read', async (_name, kid) => {
    await attack.refused(mintToken({ key: issuerKey, header: { kid } }), NO_KEY);
  });

  it('refuses HS256 with an empty key under a traversal kid (/dev/null as the secret)', async () => {
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: '../../../../dev/null' }))}.${segments(mintToken())[1]}`;
    await attack.refused(`${input}.${createHmac('sha256', '').update(input).digest('base64url')}`, NO_KEY);
  });

  it('refuses a kid longer than 1024 characters (10 KB) before looking it up', async () => {
    await attack.refused(mintToken({ key: issuerKey, header: { kid: 'k'.repeat(10_000) } }), INVALID);
  });

  it.each([
    ['a number', 1],
    ['an array', []],
    ['an object', {}],
    ['true', true],
    ['null (stricter than go-jose, which reads it as no kid)', null],
  ])('refuses a kid that is %s, whoever signed it', async (_name, kid) => {
    await attack.refused(mintToken({ key: issuerKey, header: { kid } }), INVALID);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'finds no key for the kid %s',
    async (kid) => {
      await attack.refused(mintToken({ key: issuerKey, header: { kid } }), NO_KEY);
    },
  );

  it('treats an empty kid as no kid: only the issuer keys are tried', async () => {
    await attack.accepted(mintToken({ key: issuerKey, header: { kid: '' } }));
    await attack.refused(mintToken({ key: attackerKey, header: { kid: '' } }), BAD_SIGNATURE);
  });
});

describe('explicit typing', () => {
  it.each(['JWT', 'jwt'])('accepts typ %s, as kube-issued tokens may carry it', async (typ) => {
    await attack.accepted(mintToken({ key: issuerKey, header: { typ } }));
  });

  it.each([['at+jwt'], ['dpop+jwt'], ['secevent+jwt'], ['JWE'], [1], [null]])(
    'refuses a validly signed token whose typ is %s',
    async (typ) => {
      await attack.refused(mintToken({ key: issuerKey, header: { typ } }), INVALID);
    },
  );
});

describe('key selection within and across issuers', () => {
  const otherClaims = boundClaims({ iss: OTHER_ISSUER, aud: [OTHER_ISSUER] });

  it("verifies each issuer's token with that issuer's key", async () => {
    await attack.accepted(mintToken({ key: otherKey, claims: otherClaims }));
    await attack.accepted(mintToken({ key: issuerKey }));
  });

  it("refuses a token of one issuer signed with another issuer's key under its kid", async () => {
    await attack.refused(mintToken({ key: otherKey, claims: boundClaims({ aud: [OTHER_ISSUER] }) }), NO_KEY);
    await attack.refused(
      mintToken({ key: otherKey, header: { kid: undefined }, claims: boundClaims({ aud: [ISSUER] }) }),
      BAD_SIGNATURE,
    );
  });

  it('tries only the issuer keys for a token without kid', async () => {
    await attack.accepted(mintToken({ key: issuerKey, header: { kid: undefined } }));
    await attack.refused(mintToken({ key: attackerKey, header: { kid: undefined } }), BAD_SIGNATURE);
  });

  it('tries every key published under a duplicated kid, and no other', async () => {
    await attack.accepted(mintToken({ key: dupA, header: { kid: 'dup' } }));
    await attack.accepted(mintToken({ key: dupB, header: { kid: 'dup' } }));
    await attack.refused(mintToken({ key: issuerKey, header: { kid: 'dup' } }), BAD_SIGNATURE);
  });
});

describe('keys published for another purpose', () => {
  it('never verifies with a key whose use is enc or whose key_ops lack verify', async () => {
    await attack.refused(mintToken({ key: encKey, header: { kid: 'enc' } }), NO_KEY);
    await attack.refused(mintToken({ key: noVerifyKey, header: { kid: 'no-verify' } }), NO_KEY);
  });

  it('verifies a key only with the alg its JWK declares', async () => {
    await attack.accepted(mintToken({ key: psOnlyKey, header: { kid: 'ps-only', alg: 'PS256' } }));
    await attack.refused(
      mintToken({ key: psOnlyKey, header: { kid: 'ps-only', alg: 'RS256' } }),
      BAD_SIGNATURE,
    );
  });

  it('ignores a symmetric key in the key set: HS256 under its kid is refused', async () => {
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'hmac' }))}.${segments(mintToken())[1]}`;
    const mac = createHmac('sha256', HMAC_SECRET).update(input).digest('base64url');
    await attack.refused(`${input}.${mac}`, NO_KEY);
  });
});
