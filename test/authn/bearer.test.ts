import { describe, expect, it } from 'vitest';
import type { AuthnRequest } from '../../src/authn/authenticator.js';
import fc from 'fast-check';
import { bearerCredential, bearerRequestAuthenticator, parseBearer } from '../../src/authn/bearer.js';
import { tokentest } from '../helpers/tokentest.js';
import { mintToken } from '../helpers/tokens.js';

/** Every non-ASCII character Go's unicode.IsSpace (so strings.TrimSpace) accepts. */
const GO_UNICODE_SPACES = [
  '\u0085',
  '\u00a0',
  '\u1680',
  ...Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i)),
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
];

describe('bearerCredential', () => {
  /** Characters that matter to bearer parsing: spaces of every kind, near-spaces, and token text. */
  const PIECES = [
    ' ',
    '\t',
    '\n',
    '\r',
    '\v',
    '\f',
    '\ufeff',
    '\u200b',
    'a',
    'Z',
    '.',
    '-',
    '\ud83d',
    '\udd11',
    ...GO_UNICODE_SPACES,
  ];

  it('reads every token as parseBearer reads the header `Bearer <token>` (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }), (pieces) => {
        const token = pieces.join('');
        expect(bearerCredential(token)).toBe(parseBearer(`Bearer ${token}`));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['', undefined],
    [' ', undefined],
    ['abc', 'abc'],
    ['abc def', 'abc'],
    [' abc', undefined],
    ['abc\u3000', 'abc'],
    ['abc\ufeff', 'abc\ufeff'],
    ['\u0085', undefined],
    ['a\u00a0b', 'a\u00a0b'],
  ])('reads %j as the header `Bearer %s` would carry it', (token, credential) => {
    expect(bearerCredential(token)).toBe(credential);
    expect(parseBearer(`Bearer ${token}`)).toBe(credential);
  });

  it('reads a real token as itself', () => {
    const token = mintToken();
    expect(bearerCredential(token)).toBe(token);
  });
});

describe('parseBearer', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['  Bearer abc \n', 'abc'],
    ['\t\v\f\rBearer abc\r\n', 'abc'],
    ['Bearer a b', 'a'],
    ['Bearer a b c d', 'a'],
  ])("reads %j as kube's bearertoken does", (header, token) => {
    expect(parseBearer(header)).toBe(token);
  });

  it.each(GO_UNICODE_SPACES.map((c) => [c]))('trims %j at either end, as strings.TrimSpace does', (space) => {
    expect(parseBearer(`${space}Bearer abc${space}${space}`)).toBe('abc');
  });

  it.each([
    ['a byte order mark', '\ufeff'],
    ['a zero-width space', '\u200b'],
    ['a word joiner', '\u2060'],
    ['a Mongolian vowel separator', '\u180e'],
  ])('keeps %s, which strings.TrimSpace keeps, so the token is not the bare one', (_name, c) => {
    expect(parseBearer(`Bearer abc${c}`)).toBe(`abc${c}`);
    expect(parseBearer(`${c}Bearer abc`)).toBeUndefined();
  });

  it.each([
    [''],
    ['   '],
    ['\u3000\u0085'],
    ['Bearer'],
    ['Bearer '],
    ['Bearer  abc'],
    ['Basic abc'],
    ['Bearerabc'],
    ['Bearer\tabc'],
    ['Bearer\u00a0abc'],
  ])('finds no credential in %j', (header) => {
    expect(parseBearer(header)).toBeUndefined();
  });
});

describe('bearerRequestAuthenticator', () => {
  const user = { username: 'alice', groups: [] };
  const tokens = tokentest({ abc: user, 'é-token': user });
  const authenticator = bearerRequestAuthenticator(tokens, ['api']);
  /** A request whose Authorization line carries these bytes, as Node hands them over: one latin1 character per byte. */
  const request = (bytes: Buffer): AuthnRequest => ({
    headers: { authorization: [bytes.toString('latin1')] },
  });
  const outcome = async (bytes: Buffer) => {
    const r = await authenticator.authenticateRequest(request(bytes));
    return r.outcome === 'authenticated' ? r.user.username : r.outcome;
  };

  it('reads the header bytes as UTF-8, as Go does: a UTF-8 space at the end is trimmed', async () => {
    for (const space of GO_UNICODE_SPACES)
      expect(await outcome(Buffer.from(`Bearer abc${space}`, 'utf8'))).toBe('alice');
    expect(await outcome(Buffer.from('Bearer é-token', 'utf8'))).toBe('alice');
  });

  it('keeps a lone 0x85 or 0xA0 byte, which Go does not read as a space', async () => {
    for (const byte of [0x85, 0xa0]) {
      expect(await outcome(Buffer.concat([Buffer.from('Bearer abc'), Buffer.from([byte])]))).toBe('error');
    }
  });

  it('ignores what follows the token, even bytes that are not UTF-8, as kube does', async () => {
    expect(await outcome(Buffer.concat([Buffer.from('Bearer abc '), Buffer.from([0xff])]))).toBe('alice');
  });

  it('answers a token nobody claims with invalid bearer token, and no bearer credential with no opinion', async () => {
    const r = await authenticator.authenticateRequest(request(Buffer.from('Bearer nobody')));
    expect(r.outcome === 'error' && r.error.message).toBe('invalid bearer token');
    expect(await outcome(Buffer.from('Basic abc'))).toBe('no-opinion');
  });
});
