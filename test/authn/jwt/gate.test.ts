import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64url,
  gateToken,
  MAX_SIGNATURE_BYTES,
  MAX_TOKEN_LENGTH,
  payloadPolicyProblem,
  type GateResult,
} from '../../../src/authn/jwt/gate.js';
import { ALGORITHMS } from '../../../src/keys/key-source.js';
import { rsaKey } from '../../helpers/keys.js';
import {
  b64url,
  boundClaims,
  headerJson,
  ISSUER,
  jsonWithRaw,
  LEGACY_ISS,
  legacyClaims,
  mintToken,
  rawToken,
  segments,
  type Claims,
} from '../../helpers/tokens.js';

const isOurs = (iss: string) => iss === ISSUER || iss === LEGACY_ISS;
const gate = (token: string) => gateToken(token, isOurs);

/** Passed the gate: the token would go on to key selection. */
function passed(result: GateResult) {
  if (result.kind !== 'token' || result.token.alg === undefined || result.token.claimsProblem)
    throw new Error(`expected the token to pass the gate, got ${JSON.stringify(result)}`);
  return result.token;
}

/**
 * Refused as a token of one of our issuers, where kube refuses it: at the gate
 * (`invalid bearer token`), as a token no key can verify (go-jose's crypto failure,
 * reported after key selection), or with a claims problem reported once the signature
 * has verified. Either way no claim is ever trusted.
 */
function expectRejected(result: GateResult, detail?: RegExp): void {
  if (result.kind === 'token') {
    const { alg, claimsProblem } = result.token;
    expect(alg === undefined || claimsProblem !== undefined).toBe(true);
    if (detail && claimsProblem) expect(claimsProblem.detail ?? claimsProblem.message).toMatch(detail);
    return;
  }
  expect(result.kind).toBe('rejected');
  if (result.kind !== 'rejected') return;
  expect(result.error.code).toBe('ERR_TOKEN_MALFORMED');
  expect(result.error.message).toBe('invalid bearer token');
  if (detail) expect(result.error.detail).toMatch(detail);
}

/**
 * How the gate refused a token: not ours (kube's issuer pre-filter drops it too), rejected
 * at the gate, a token no key can verify, or one whose claims are refused once verified.
 */
type Refusal = 'not-mine' | 'rejected' | 'unverifiable' | 'claims';

function refusalOf(result: GateResult): Refusal | 'passed' {
  if (result.kind !== 'token') return result.kind;
  if (result.token.claimsProblem) return 'claims';
  return result.token.alg === undefined ? 'unverifiable' : 'passed';
}

function expectRefused(result: GateResult, as: Refusal): void {
  expect(refusalOf(result)).toBe(as);
}

/** A token from a header object and claims given as raw JSON text. */
const withPayload = (payload: string, header = headerJson()) => rawToken(header, payload);
const withHeader = (header: Record<string, unknown> | string) =>
  rawToken(typeof header === 'string' ? header : JSON.stringify(header), JSON.stringify(boundClaims()));
/** Replaces segment `i` (0 header, 1 payload, 2 signature) of a valid token. */
function replaceSegment(token: string, i: number, value: string): string {
  const parts = segments(token);
  parts[i] = value;
  return parts.join('.');
}

/** Flips the unused low bits of the last character: Node decodes the same bytes, RFC 4648 §3.5 says no. */
function withTrailingBits(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  if (segment.length % 4 === 0) throw new Error('segment has no unused bits');
  const last = alphabet.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + alphabet[last | 1];
}

/** Appends alphabet characters until the length is 4n+1, which no byte string encodes to. */
function lengthen4nPlus1(segment: string): string {
  let s = segment;
  while (s.length % 4 !== 1) s += 'A';
  return s;
}

/** Claims whose payload segment length is not a multiple of four, so it has unused bits. */
function claimsWithUnusedBits(): Claims {
  for (let pad = 0; pad < 3; pad++) {
    const claims = boundClaims({ pad: 'x'.repeat(pad) });
    if (b64url(JSON.stringify(claims)).length % 4 !== 0) return claims;
  }
  throw new Error('unreachable');
}

describe('gateToken', () => {
  it('passes a kube-style token and exposes what the signature covers', () => {
    const token = mintToken();
    const t = passed(gate(token));
    const [h, p, s] = segments(token);
    expect(t).toMatchObject({
      alg: 'RS256',
      kid: rsaKey().kid,
      untrustedIssuer: ISSUER,
      signingInput: `${h}.${p}`,
    });
    expect(t.signature.equals(Buffer.from(s, 'base64url'))).toBe(true);
    expect(t.untrustedClaims).toEqual(boundClaims());
  });

  describe('size', () => {
    /** A valid token of exactly `length` characters, grown by a padding claim. */
    function tokenOfLength(length: number): string {
      const short = mintToken({ header: { x: '' }, claims: boundClaims({ pad: '' }) });
      const start = Math.floor(((length - short.length) * 3) / 4) - 4;
      // Base64 grows in steps; a header member of 0-3 characters fills the gaps.
      for (let x = 0; x < 4; x++) {
        for (let pad = start; pad < start + 8; pad++) {
          const token = mintToken({
            header: { x: 'y'.repeat(x) },
            claims: boundClaims({ pad: 'p'.repeat(pad) }),
          });
          if (token.length === length) return token;
        }
      }
      throw new Error(`no token of length ${length}`);
    }

    it('accepts a token of exactly 16 KiB', () => {
      expect(MAX_TOKEN_LENGTH).toBe(16 * 1024);
      passed(gate(tokenOfLength(16 * 1024)));
    });

    it('refuses a token one byte over 16 KiB before decoding it', () => {
      expect(gate(tokenOfLength(16 * 1024 + 1))).toEqual({ kind: 'not-mine' });
    });

    it('refuses a megabyte of dots', () => {
      expectRefused(gate('.'.repeat(1024 * 1024)), 'not-mine');
    });

    it('refuses the empty string', () => {
      expectRefused(gate(''), 'not-mine');
    });
  });

  describe('segments', () => {
    const [h, p, s] = segments(mintToken());
    it.each([
      ['two segments', `${h}.${p}`, 'not-mine'],
      ['four segments', `${h}.${p}.${s}.${s}`, 'not-mine'],
      ['a five-part JWE', `${h}.${p}.${s}.${s}.${s}`, 'not-mine'],
      ['only dots', '..', 'not-mine'],
      ['an empty header', `.${p}.${s}`, 'rejected'],
      ['an empty payload', `${h}..${s}`, 'not-mine'],
    ] as const)('refuses %s', (_name, token, as) => {
      expectRefused(gate(token), as);
    });

    it('refuses a stripped signature', () => {
      expectRejected(gate(`${h}.${p}.`), /signature is not canonical/);
    });

    it('refuses a signature longer than any supported key produces', () => {
      expectRejected(gate(`${h}.${p}.${b64url(Buffer.alloc(1025))}`), /signature is too long/);
    });
  });

  describe('JSON serialization', () => {
    it("refuses anything that starts with {, including kube's split-differential trick", () => {
      const trusted = b64url(JSON.stringify({ iss: ISSUER }));
      const trick = `{"payload":"e30","signatures":[],".${trusted}.":""}`;
      expect(gate(trick)).toEqual({ kind: 'not-mine' });
      expect(gate(`  ${trick}`)).toEqual({ kind: 'not-mine' });
    });
  });

  describe('canonical base64url', () => {
    const token = mintToken({ claims: claimsWithUnusedBits() });
    const names = ['header', 'payload', 'signature'];
    /** A payload Go cannot decode is no issuer's (kube's pre-filter); a bad header or signature is refused at the gate. */
    const badSpelling: readonly Refusal[] = ['rejected', 'not-mine', 'rejected'];
    /** Unused bits: Go decodes them, so the header fails at the gate, the claims after the signature, the signature itself. */
    const unusedBits: readonly Refusal[] = ['rejected', 'claims', 'unverifiable'];

    for (const [i, name] of names.entries()) {
      const seg = segments(token)[i]!;
      it.each([
        ['= padding', `${seg}=`],
        ['== padding', `${seg}==`],
        ['a leading space', ` ${seg}`],
        ['a trailing newline', `${seg}\n`],
        ['an inner tab', `${seg.slice(0, 4)}\t${seg.slice(4)}`],
        ['a + instead of -', `${seg.slice(0, 2)}+${seg.slice(3)}`],
        ['a / instead of _', `${seg.slice(0, 2)}/${seg.slice(3)}`],
        ['a character outside the alphabet', `${seg.slice(0, 2)}?${seg.slice(3)}`],
        [
          'an alphabet character moved by 0x100, whose low byte Node would decode',
          `${seg.slice(0, 2)}${String.fromCharCode(seg.charCodeAt(2) + 0x100)}${seg.slice(3)}`,
        ],
        ['a full-width letter', `${seg.slice(0, 2)}\uff21${seg.slice(3)}`],
        ['a length of 4n+1', lengthen4nPlus1(seg)],
      ])(`refuses a ${name} segment with %s`, (_what, bad) => {
        expectRefused(gate(replaceSegment(token, i, bad)), badSpelling[i]!);
      });

      it(`refuses a ${name} segment with non-zero unused bits that Node would decode to the same bytes`, () => {
        const bad = withTrailingBits(seg);
        expect(bad).not.toBe(seg);
        expect(Buffer.from(bad, 'base64url').equals(Buffer.from(seg, 'base64url'))).toBe(true);
        expectRefused(gate(replaceSegment(token, i, bad)), unusedBits[i]!);
      });
    }

    it('answers a bad header or signature for one of our issuers with invalid bearer token', () => {
      const [h, , s] = segments(token);
      expectRejected(gate(replaceSegment(token, 0, `${h}=`)), /header: segment is not canonical base64url/);
      expectRejected(gate(replaceSegment(token, 2, withTrailingBits(s))), /signature is not canonical/);
    });

    it('decodes only canonical unpadded base64url', () => {
      expect(decodeBase64url('YQ')?.toString()).toBe('a');
      for (const bad of ['YR', 'YQ=', 'YQ==', 'Y', '', 'Y Q', 'Y+', 'Y/', 'YW\n'])
        expect(decodeBase64url(bad)).toBeUndefined();
    });

    it('refuses any character outside the base64url alphabet, wherever it stands and whatever the length', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // Every position of every length class; ASCII, Latin-1, one whose low byte is a base64url
      // letter (U+0141), a lone surrogate and a pair.
      const strangers = [...Array.from({ length: 0x180 }, (_, c) => String.fromCharCode(c)), '\ud800', '😀'];
      for (const base of ['QUJD', 'QUJDRA', 'QUJDREU', 'QUJDREVG']) {
        for (let at = 0; at <= base.length; at++) {
          for (const c of strangers) {
            if (alphabet.includes(c)) continue;
            const spelled = base.slice(0, at) + c + base.slice(at);
            expect(decodeBase64url(spelled), JSON.stringify(spelled)).toBeUndefined();
          }
        }
      }
    });
  });

  describe('JSON objects', () => {
    const claims = JSON.stringify(boundClaims());
    const body = claims.slice(1, -1);

    it.each([
      ['two alg members', `{"alg":"none","alg":"RS256","kid":"${rsaKey().kid}"}`],
      ['a duplicate spelled with an escape', `{"alg":"RS256","\\u0061lg":"RS256"}`],
      ['an array', '["RS256"]'],
      ['a string', '"RS256"'],
      ['null', 'null'],
      ['trailing bytes', `${headerJson()}x`],
      ['a second object', `${headerJson()}{}`],
      ['a byte order mark', `\ufeff${headerJson()}`],
      ['a lone surrogate escape', `{"alg":"RS256","kid":"\\ud800"}`],
      ['a control character in a string', `{"alg":"RS256","kid":"a\u0001b"}`],
      ['an invalid escape', `{"alg":"RS256","kid":"\\x41"}`],
    ])('rejects a header with %s', (_name, header) => {
      expectRejected(gate(withHeader(header)), /^header: /);
    });

    // Go's decoder keeps the last of two members: with ours last the token is ours and go-jose refuses it after the signature.
    it.each([
      ['two iss members', `{"iss":"https://evil.example",${body}}`, 'claims'],
      ['two iss members, ours first', `{${body},"iss":"https://evil.example"}`, 'not-mine'],
      ['two sub members', `{"sub":"system:serviceaccount:kube-system:admin",${body}}`, 'claims'],
      ['two kubernetes.io members', `{"kubernetes.io":{"namespace":"kube-system"},${body}}`, 'claims'],
      [
        'a duplicate inside kubernetes.io',
        claims.replace('"namespace":"ns1"', '"namespace":"ns1","namespace":"kube-system"'),
        'claims',
      ],
      ['an escaped lone surrogate in sub', claims.replace('"sub":"', '"sub":"\\udc00'), 'claims'],
      ['a BOM', `\ufeff${claims}`, 'not-mine'],
      ['trailing data', `${claims} 1`, 'not-mine'],
      ['an array', `[${claims}]`, 'not-mine'],
    ] as const)('refuses a payload with %s', (_name, payload, as) => {
      expectRefused(gate(withPayload(payload)), as);
    });

    it('refuses a nested JWT as the payload', () => {
      const inner = JSON.stringify(mintToken());
      expectRefused(gate(rawToken(headerJson(rsaKey(), { cty: 'JWT' }), inner)), 'not-mine');
    });

    it('refuses a payload that is not UTF-8', () => {
      const [h, , s] = segments(mintToken());
      for (const bytes of [
        Buffer.from([0xff]),
        Buffer.concat([Buffer.from('{"iss":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
        Buffer.from(JSON.stringify(boundClaims()), 'utf16le'),
      ]) {
        expectRefused(gate(`${h}.${b64url(bytes)}.${s}`), 'not-mine');
      }
    });

    it('accepts escapes that decode to the expected text', () => {
      const t = passed(gate(withHeader(`{"alg":"RS\\u0032\\u0035\\u0036","kid":"${rsaKey().kid}"}`)));
      expect(t.alg).toBe('RS256');
    });

    /** `levels` objects nested inside one another. */
    const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

    it('bounds claim nesting: 16 levels pass, 17 do not', () => {
      // The payload object itself is the first level.
      passed(gate(withPayload(jsonWithRaw(boundClaims(), { deep: nested(15) }))));
      expectRefused(gate(withPayload(jsonWithRaw(boundClaims(), { deep: nested(16) }))), 'claims');
      expectRejected(gate(withHeader(`{"alg":"RS256","x":${nested(16)}}`)), /nested too deeply/);
    });

    it('refuses thousands of nested arrays without exhausting the stack', () => {
      const deep = '['.repeat(4000) + ']'.repeat(4000);
      const token = withPayload(jsonWithRaw(boundClaims(), { deep }));
      expect(token.length).toBeLessThan(MAX_TOKEN_LENGTH);
      expectRefused(gate(token), 'claims');
      expectRejected(gate(withHeader(`{"alg":"RS256","x":${deep}}`)), /nested too deeply/);
      // 10^5 levels do not even fit in a token.
      expectRefused(
        gate(withPayload(jsonWithRaw(boundClaims(), { deep: '['.repeat(1e5) + ']'.repeat(1e5) }))),
        'not-mine',
      );
    });
  });

  describe('header members', () => {
    it.each([
      ['missing', {}],
      ['a number', { alg: 256 }],
      ['none', { alg: 'none' }],
      ['None', { alg: 'None' }],
      ['NONE', { alg: 'NONE' }],
      ['nOnE', { alg: 'nOnE' }],
      ['HS256', { alg: 'HS256' }],
      ['HS384', { alg: 'HS384' }],
      ['HS512', { alg: 'HS512' }],
      ['EdDSA', { alg: 'EdDSA' }],
      ['ES256K', { alg: 'ES256K' }],
      ['lower case rs256', { alg: 'rs256' }],
      ['RS256 with a trailing space', { alg: 'RS256 ' }],
      ['RSA-OAEP', { alg: 'RSA-OAEP' }],
      ['dir', { alg: 'dir' }],
      ['constructor', { alg: 'constructor' }],
    ])('rejects alg %s', (_name, header) => {
      expectRejected(gate(withHeader({ kid: rsaKey().kid, ...header })), /alg must be a string/);
    });

    it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'])(
      'passes alg %s',
      (alg) => {
        expect(passed(gate(withHeader({ alg }))).alg).toBe(alg);
      },
    );

    it.each([
      ['crit', { crit: ['exp'] }],
      ['an empty crit', { crit: [] }],
      ['jku', { jku: 'http://127.0.0.1:1/jwks' }],
      ['x5u', { x5u: 'http://169.254.169.254/' }],
      ['jwk', { jwk: rsaKey().publicKey.export({ format: 'jwk' }) }],
      ['x5c', { x5c: ['MIIB'] }],
      ['b64 false', { b64: false }],
      ['b64 true', { b64: true }],
      ['zip', { zip: 'DEF' }],
      ['enc', { enc: 'A256GCM' }],
    ])('rejects a header carrying %s', (_name, extra) => {
      expectRejected(gate(withHeader({ alg: 'RS256', kid: rsaKey().kid, ...extra })), /is not accepted/);
    });

    it.each([
      ['a number', 1],
      ['an array', []],
      ['an object', {}],
      ['null', null],
      ['true', true],
    ])('rejects a kid that is %s', (_name, kid) => {
      expectRejected(gate(withHeader({ alg: 'RS256', kid })), /kid must be a string/);
    });

    it('treats an empty kid as no kid', () => {
      expect(passed(gate(withHeader({ alg: 'RS256', kid: '' }))).kid).toBeUndefined();
      expect(passed(gate(withHeader({ alg: 'RS256' }))).kid).toBeUndefined();
    });

    it('takes a kid of 1024 characters and rejects one of 1025', () => {
      expect(passed(gate(withHeader({ alg: 'RS256', kid: 'k'.repeat(1024) }))).kid).toHaveLength(1024);
      expectRejected(gate(withHeader({ alg: 'RS256', kid: 'k'.repeat(1025) })), /kid is too long/);
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
      'passes the prototype-named kid %s through as plain data',
      (kid) => {
        expect(passed(gate(withHeader({ alg: 'RS256', kid }))).kid).toBe(kid);
      },
    );

    it('never reads a kid from a __proto__ member', () => {
      const t = passed(gate(withHeader(`{"alg":"RS256","__proto__":{"kid":"${rsaKey().kid}"}}`)));
      expect(t.kid).toBeUndefined();
    });

    it.each([
      ['missing', {}],
      ['JWT', { typ: 'JWT' }],
      ['jwt', { typ: 'jwt' }],
    ])('accepts typ %s', (_name, extra) => {
      passed(gate(withHeader({ alg: 'RS256', ...extra })));
    });

    it.each([['at+jwt'], ['dpop+jwt'], ['secevent+jwt'], ['JWE'], [1], [null]])('rejects typ %s', (typ) => {
      expectRejected(gate(withHeader({ alg: 'RS256', typ })), /typ must be JWT/);
    });
  });

  describe('issuer', () => {
    it.each([
      ['missing', { iss: undefined }],
      ['not ours', { iss: 'https://evil.example' }],
      ['ours with a trailing slash', { iss: `${ISSUER}/` }],
      ['ours in upper case', { iss: ISSUER.toUpperCase() }],
      ['ours over http', { iss: ISSUER.replace('https:', 'http:') }],
      ['ours with a space', { iss: ` ${ISSUER}` }],
      ['a number', { iss: 1 }],
      ['an array of ours', { iss: [ISSUER] }],
    ])('has no opinion on a token whose iss is %s', (_name, claims) => {
      expect(gate(mintToken({ claims: boundClaims(claims) }))).toEqual({ kind: 'not-mine' });
    });

    it('has no opinion on an iss inherited through __proto__', () => {
      const payload = `{"__proto__":{"iss":"${ISSUER}"},"exp":1}`;
      expect(gate(withPayload(payload))).toEqual({ kind: 'not-mine' });
      expect(({} as Record<string, unknown>).iss).toBeUndefined();
    });

    it('passes a legacy token to the authenticator, which decides', () => {
      expect(passed(gate(mintToken({ claims: legacyClaims() }))).untrustedIssuer).toBe(LEGACY_ISS);
    });

    it('decides on the unverified iss before touching the header', () => {
      const [, p, s] = segments(mintToken({ claims: boundClaims({ iss: 'https://evil.example' }) }));
      expect(gate(`not-base64!.${p}.${s}`)).toEqual({ kind: 'not-mine' });
    });
  });

  describe('time claims', () => {
    for (const claim of ['exp', 'nbf', 'iat']) {
      it.each([
        ['a string', '"1768478400"'],
        ['true', 'true'],
        ['null', 'null'],
        ['an object', '{}'],
        ['an array', '[]'],
        ['1e400, which parses to Infinity', '1e400'],
        ['-1e400', '-1e400'],
        ['1e308', '1e308'],
        ['2^53', String(2 ** 53)],
        ['-(2^53)', String(-(2 ** 53))],
        ['2^63', '9223372036854775808'],
      ])(`rejects ${claim} given as %s`, (_name, raw) => {
        expectRejected(
          gate(withPayload(jsonWithRaw(boundClaims(), { [claim]: raw }))),
          new RegExp(`claims: ${claim} is out of range|expected number value to unmarshal NumericDate`),
        );
      });

      it(`accepts ${claim} as a float or just under 2^53`, () => {
        passed(gate(withPayload(jsonWithRaw(boundClaims(), { [claim]: '1768478400.5' }))));
        passed(gate(withPayload(jsonWithRaw(boundClaims(), { [claim]: String(2 ** 53 - 1) }))));
      });
    }

    it('leaves a missing exp to the authenticator (legacy tokens have none)', () => {
      passed(gate(mintToken({ claims: boundClaims({ exp: undefined, nbf: undefined, iat: undefined }) })));
    });
  });

  describe('aud', () => {
    it.each([
      ['a string', 'api'],
      ['an array of strings', ['api', 'vault']],
      ['an empty array', []],
    ])('passes aud as %s', (_name, aud) => {
      passed(gate(mintToken({ claims: boundClaims({ aud }) })));
    });

    it.each([
      ['a mixed array', ['api', 1]],
      ['an object', { 0: 'api' }],
      ['null', null],
      ['a number', 1],
    ])('rejects aud as %s', (_name, aud) => {
      expectRejected(
        gate(mintToken({ claims: boundClaims({ aud }) })),
        /expected string or array value to unmarshal to Audience/,
      );
    });
  });

  it('never changes Object.prototype whatever the claims hold', () => {
    const payload = JSON.stringify(boundClaims()).replace(
      '{',
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},',
    );
    const t = passed(gate(withPayload(payload)));
    expect(Object.hasOwn(t.untrustedClaims, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect((t.untrustedClaims as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('gateToken (properties)', () => {
  const good = mintToken();
  const B64URL = /^[A-Za-z0-9_-]+$/;

  /** Tokens near the real thing: a valid token with characters replaced, inserted or removed. */
  const nearToken = fc
    .tuple(
      fc.nat(good.length),
      fc.nat(3),
      fc.string({
        unit: fc.oneof(
          fc.constantFrom('.', '=', '+', '/', ' ', '\n', '\u007f', '\u0000', '\u0100', '\ufeff', '\uff21'),
          fc.string({ unit: 'binary', maxLength: 1 }),
        ),
        maxLength: 3,
      }),
    )
    .map(([at, cut, insert]) => `${good.slice(0, at)}${insert}${good.slice(at + cut)}`);
  const anyToken = fc.oneof(nearToken, fc.string({ unit: 'binary', maxLength: 200 }), fc.constant(good));

  it('never throws, and whatever it lets through is well formed', () => {
    fc.assert(
      fc.property(anyToken, (token) => {
        const r = gate(token);
        expect(['not-mine', 'rejected', 'token']).toContain(r.kind);
        if (r.kind === 'rejected') expect(r.error.code).toBe('ERR_TOKEN_MALFORMED');
        if (r.kind !== 'token') return;
        const t = r.token;
        expect(isOurs(t.untrustedIssuer)).toBe(true);
        expect(t.alg === undefined || (ALGORITHMS as readonly string[]).includes(t.alg)).toBe(true);
        expect(
          t.kid === undefined || (typeof t.kid === 'string' && t.kid !== '' && t.kid.length <= 1024),
        ).toBe(true);
        // What the signature is checked over is exactly the token's first two segments.
        expect(token.startsWith(`${t.signingInput}.`)).toBe(true);
        const [h, p] = t.signingInput.split('.');
        expect(h).toMatch(B64URL);
        expect(p).toMatch(B64URL);
        if (t.alg !== undefined) {
          expect(t.signature.length).toBeGreaterThan(0);
          expect(t.signature.length).toBeLessThanOrEqual(MAX_SIGNATURE_BYTES);
          expect(token.slice(t.signingInput.length + 1)).toMatch(B64URL);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('lets through no spelling of a token but the canonical one (finding 6)', () => {
    fc.assert(
      fc.property(nearToken, (token) => {
        fc.pre(token !== good);
        const r = gate(token);
        if (r.kind !== 'token' || r.token.alg === undefined || r.token.claimsProblem) return;
        // Passed: then it must be what its decoded parts re-encode to, character for character.
        const [h, p, s] = token.split('.');
        for (const segment of [h!, p!, s!]) {
          expect(decodeBase64url(segment)?.toString('base64url')).toBe(segment);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes exactly the canonical base64url of any bytes, and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const canonical = Buffer.from(bytes).toString('base64url');
        expect(decodeBase64url(canonical)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const decoded = decodeBase64url(text);
        if (decoded !== undefined) expect(decoded.toString('base64url')).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('gateToken (remembered header verdicts)', () => {
  const kids = ['a', 'b', 'ab', 'ba', 'a\u00e9', 'a\u00e8', 'A', ''];
  const token = (kid: string) => withHeader({ alg: 'RS256', kid });

  it('never answers one header segment with the verdict of another, however they alternate', () => {
    const refused = withHeader({ alg: 'RS256', kid: 'a', jku: 'http://127.0.0.1:1/' });
    const es = withHeader({ alg: 'ES256', kid: 'a' });
    for (let round = 0; round < 3; round++) {
      for (const kid of round % 2 ? [...kids].reverse() : kids) {
        const t = passed(gate(token(kid)));
        expect(t.kid).toBe(kid === '' ? undefined : kid);
        expect(t.alg).toBe('RS256');
        expectRejected(gate(refused), /jku/);
        expect(passed(gate(es)).alg).toBe('ES256');
      }
    }
  });

  it('answers each header by its own verdict after more distinct headers than it keeps', () => {
    const many = Array.from({ length: 600 }, (_, i) => `kid-${i}`);
    for (const kid of many) expect(passed(gate(token(kid))).kid).toBe(kid);
    for (const kid of [...many].reverse()) expect(passed(gate(token(kid))).kid).toBe(kid);
  });
});

describe('payloadPolicyProblem (UTF-8 read from the decoded text)', () => {
  /** Byte runs that are ill-formed UTF-8, and one that spells U+FFFD itself. */
  const runs = [
    [0xef, 0xbf, 0xbd],
    [0xed, 0xa0, 0x80],
    [0xc0, 0xaf],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
    [0xff],
    [0x80],
    [0xf0, 0x9f, 0x98, 0x80],
    [0xc3, 0xa9],
  ].map((r) => Uint8Array.from(r));
  // Control characters, the quote and the backslash would end or break the JSON string.
  const safe = (b: number) => (b < 0x20 || b === 0x22 || b === 0x5c ? 0x41 : b);

  it('refuses exactly the payloads whose bytes are not UTF-8 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.constantFrom(...runs)), {
          maxLength: 8,
        }),
        (chunks) => {
          const inner = Buffer.from(Buffer.concat(chunks).map(safe));
          const bytes = Buffer.concat([Buffer.from('{"x":"'), inner, Buffer.from('"}')]);
          const text = bytes.toString('utf8');
          const claims = JSON.parse(text) as Record<string, unknown>;
          expect(payloadPolicyProblem(b64url(bytes), text, claims)).toBe(
            isUtf8(bytes) ? undefined : 'segment is not valid UTF-8',
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses a byte order mark, and accepts U+FEFF after the first character', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"x":1}')]);
    expect(payloadPolicyProblem(b64url(bom), bom.toString('utf8'), { x: 1 })).toBe(
      'segment starts with a byte order mark',
    );
    const later = Buffer.from('{"x":"\ufeff"}');
    expect(payloadPolicyProblem(b64url(later), later.toString('utf8'), { x: '\ufeff' })).toBeUndefined();
  });
});
