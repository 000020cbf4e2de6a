import { describe, expect, it } from 'vitest';
import {
  decodeIdToken,
  distributedClaimsProblem,
  goDecodeRawUrl,
  jsonMembers,
  parseSignedV2,
  unsupportedAlgorithm,
} from '../../../src/authn/oidc/go-oidc.js';

// Every expected text below was printed by go-oidc v2.5.0 over go-jose v2.6.3 (the versions
// kube-apiserver 1.37.2 builds with) for the same input.

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const HEADER = b64('{"alg":"RS256","kid":"k1"}');
const PAYLOAD = b64('{"iss":"https://idp.example"}');
const token = (header: string, payload = PAYLOAD, signature = 'c2ln'): string =>
  `${header}.${payload}.${signature}`;

describe('goDecodeRawUrl (Go base64.RawURLEncoding)', () => {
  it('names the first byte outside the alphabet, padding included', () => {
    expect(goDecodeRawUrl('!!')).toBe('illegal base64 data at input byte 0');
    expect(goDecodeRawUrl('ab!c')).toBe('illegal base64 data at input byte 2');
    expect(goDecodeRawUrl(`${HEADER}=`)).toBe(`illegal base64 data at input byte ${HEADER.length}`);
  });

  it('names the last byte of a length that leaves one character over', () => {
    expect(goDecodeRawUrl('abcde')).toBe('illegal base64 data at input byte 4');
  });

  it('decodes non-canonical trailing bits as Go does', () => {
    expect(goDecodeRawUrl('QR')).toEqual(Buffer.from('A'));
  });
});

describe('parseSignedV2 (go-jose v2 ParseSigned)', () => {
  it('reads alg and kid and re-encodes the signing input canonically', () => {
    const jws = parseSignedV2(token(HEADER));
    expect(jws).toMatchObject({ alg: 'RS256', kid: 'k1', signingInput: `${HEADER}.${PAYLOAD}` });
  });

  it.each([
    [b64('{"alg":'), 'unexpected end of JSON input'],
    [b64('xyz'), "invalid character 'x' looking for beginning of value"],
    [b64('[1]'), 'json: cannot unmarshal array into Go value of type jose.rawHeader'],
    [
      b64('{"alg":"RS256","kid":7}'),
      'failed to unmarshal key ID: json: cannot unmarshal number into Go value of type string: "7"',
    ],
    [
      b64('{"alg":1,"kid":"k1"}'),
      'failed to unmarshal algorithm: json: cannot unmarshal number into Go value of type string: "1"',
    ],
    [b64('{"alg":"RS256","alg":"RS256","kid":"k1"}'), "json: duplicate key 'alg' in object"],
  ])('refuses header %s: %s', (header, text) => {
    expect(parseSignedV2(token(header))).toBe(text);
  });

  it('takes an empty header as no algorithm', () => {
    expect(parseSignedV2(token(''))).toMatchObject({ alg: '', kid: '' });
  });
});

describe('unsupportedAlgorithm (go-oidc with kube’s nine algorithms)', () => {
  it('names the algorithm it got, quoted as Go quotes it', () => {
    const expected = '["ES256" "ES384" "ES512" "PS256" "PS384" "PS512" "RS256" "RS384" "RS512"]';
    expect(unsupportedAlgorithm('none')).toBe(
      `oidc: id token signed with unsupported algorithm, expected ${expected} got "none"`,
    );
    expect(unsupportedAlgorithm('')).toMatch(/got ""$/);
    expect(unsupportedAlgorithm('PS384')).toBeUndefined();
  });
});

describe('decodeIdToken (encoding/json into go-oidc’s idToken)', () => {
  const base = '"iss":"https://idp.example","aud":"app","exp":1800000600';
  const decode = (members: string): ReturnType<typeof decodeIdToken> => decodeIdToken(`{${members}}`);

  it.each([
    [`${base},"sub":7`, 'json: cannot unmarshal number into Go struct field idToken.sub of type string'],
    [`${base},"nonce":1`, 'json: cannot unmarshal number into Go struct field idToken.nonce of type string'],
    ['"aud":3', 'json: cannot unmarshal number into Go struct field idToken.aud of type []string'],
    ['"aud":{}', 'json: cannot unmarshal object into Go struct field idToken.aud of type []string'],
    ['"aud":["x",3]', 'json: cannot unmarshal number into Go struct field idToken.aud of type string'],
    ['"exp":"tomorrow"', 'json: invalid number literal, trying to unmarshal "\\"tomorrow\\"" into Number'],
    ['"exp":null', 'strconv.ParseFloat: parsing "": invalid syntax'],
    ['"exp":true', 'json: cannot unmarshal bool into Go struct field idToken.exp of type json.Number'],
    ['"exp":[1]', 'json: cannot unmarshal array into Go struct field idToken.exp of type json.Number'],
    ['"exp":1e400', 'strconv.ParseFloat: parsing "1e400": value out of range'],
    ['"iat":{}', 'json: cannot unmarshal object into Go struct field idToken.iat of type json.Number'],
    ['"nbf":"x"', 'json: invalid number literal, trying to unmarshal "\\"x\\"" into Number'],
    [
      `${base},"_claim_names":5`,
      'json: cannot unmarshal number into Go struct field idToken._claim_names of type map[string]string',
    ],
    [
      `${base},"_claim_names":{"groups":5}`,
      'json: cannot unmarshal number into Go struct field idToken._claim_names of type string',
    ],
    [
      `${base},"_claim_sources":[1]`,
      'json: cannot unmarshal array into Go struct field idToken._claim_sources of type map[string]oidc.claimSource',
    ],
    [
      `${base},"_claim_sources":{"s":5}`,
      'json: cannot unmarshal number into Go struct field idToken._claim_sources of type oidc.claimSource',
    ],
    [
      `${base},"_claim_sources":{"s":{"endpoint":5}}`,
      'json: cannot unmarshal number into Go struct field claimSource._claim_sources.endpoint of type string',
    ],
    // A type mismatch is remembered and decoding goes on; a custom decoder's error ends it and wins.
    [
      `${base},"sub":7,"aud":3`,
      'json: cannot unmarshal number into Go struct field idToken.aud of type []string',
    ],
    [
      `${base},"sub":7,"nonce":8`,
      'json: cannot unmarshal number into Go struct field idToken.sub of type string',
    ],
    [`${base},"sub":7,"iat":"x"`, 'json: invalid number literal, trying to unmarshal "\\"x\\"" into Number'],
    // Every member counts, a repeated one included, and names match ignoring case (ſ folds to s).
    [
      `${base},"sub":7,"sub":"x"`,
      'json: cannot unmarshal number into Go struct field idToken.sub of type string',
    ],
    [`${base},"\u017fub":7`, 'json: cannot unmarshal number into Go struct field idToken.sub of type string'],
  ])('%s → %s', (members, text) => {
    expect(decode(members)).toBe(text);
  });

  it('reads what Go reads: a null aud as [""], numbers in strings, floats truncated, null nbf ignored', () => {
    expect(decode('"aud":null,"exp":"1.9e9"')).toMatchObject({ audience: [''], expiry: 1_900_000_000 });
    expect(decode('"aud":[null,"app"],"exp":1800000600.7,"nbf":null')).toMatchObject({
      audience: ['', 'app'],
      expiry: 1_800_000_600,
      notBefore: undefined,
    });
    expect(decode('"ISS":"https://idp.example","EXP":5')).toMatchObject({
      issuer: 'https://idp.example',
      expiry: 5,
    });
    expect(decode('"iss":"https://idp.example","iss":null')).toMatchObject({ issuer: 'https://idp.example' });
    expect(decode('"aud":"app"')).toMatchObject({ expiry: undefined });
  });

  it('fails distributed claims whose source is empty or missing, before any fetch', () => {
    const problem = (members: string): string | undefined => {
      const t = decode(members);
      if (typeof t === 'string') throw new Error(t);
      return distributedClaimsProblem(t);
    };
    expect(problem('"_claim_names":{"groups":"src1"}')).toBe('oidc: source does not exist');
    expect(problem('"_claim_names":{"groups":""}')).toBe('oidc: failed to obtain source from claim name');
    expect(
      problem('"_claim_names":{"groups":"s"},"_claim_sources":{"s":{"endpoint":"https://x"}}'),
    ).toBeUndefined();
  });
});

describe('jsonMembers', () => {
  it('lists top-level members in order, repeats kept, values raw', () => {
    expect(jsonMembers('{"a": {"b": [1, "}"]}, "a" : 2e3 ,"c":"x\\"y"}')).toEqual([
      ['a', '{"b": [1, "}"]}'],
      ['a', '2e3'],
      ['c', '"x\\"y"'],
    ]);
  });
});
