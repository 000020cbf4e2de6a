import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheKeyFunction, lengthPrefixed } from '../../src/authn/cache-key.js';

const key = Buffer.from(randomBytes(64).map((b) => b & 0x7f));

/** Each (token, audiences) keyed as node's own HMAC-SHA-256 keys its UTF-8 length-prefixed text. */
function expectNodeHmacOf(cases: [string, readonly string[]][]): void {
  const keyOf = cacheKeyFunction(key);
  for (const [token, audiences] of cases) {
    const expected = createHmac('sha256', key)
      .update(`8${lengthPrefixed([token, ...audiences])}`, 'utf8')
      .digest('base64');
    expect(keyOf(token, audiences)).toBe(expected);
  }
}

describe('cacheKeyFunction', () => {
  it('is HMAC-SHA-256 under its key of the length-prefixed token and audiences, in UTF-8', () => {
    expectNodeHmacOf([
      ['eyJhbGciOiJSUzI1NiJ9.e30.c2ln', []],
      ['t', ['https://kubernetes.default.svc', 'vault']],
      ['tøken ✓ 𝄞', ['aüd']],
    ]);
  });

  it('is the same HMAC for a token and audiences too long for its message buffer', () => {
    expectNodeHmacOf([
      ['é'.repeat(30_000), ['aud']],
      ['t', ['✓'.repeat(25_000)]],
      ['x'.repeat(21_830), []],
    ]);
  });

  it('writes every length prefix as its decimal digits, from an empty token to one of five digits', () => {
    expectNodeHmacOf([
      ['', []],
      ['t', ['']],
      ['x'.repeat(4), ['a'.repeat(5)]],
      ['x'.repeat(49), ['a'.repeat(50)]],
      ['x'.repeat(499), ['a'.repeat(500)]],
      ['x'.repeat(4_999), ['a'.repeat(5_000)]],
    ]);
  });

  it('keys a frozen audience list, encoded once, exactly as the same list not frozen', () => {
    const keyOf = cacheKeyFunction(key);
    const lists = [
      ['https://kubernetes.default.svc'],
      ['aüd', '✓ 𝄞', ''],
      ['a', 'b'],
      ['ab'],
      ['a2:b'],
      ['a\uD800'],
      [],
    ];
    for (const list of lists) {
      const frozen = Object.freeze([...list]);
      const expected = keyOf('tøken', [...list]);
      // The first call encodes the list, the next ones take its encoded part.
      expect([keyOf('tøken', frozen), keyOf('tøken', frozen)]).toEqual([expected, expected]);
      expect(keyOf('other', frozen)).toBe(keyOf('other', [...list]));
    }
    expectNodeHmacOf([['tøken', Object.freeze(['aüd', '✓ 𝄞', ''])]]);
  });

  it('gives distinct frozen audience lists distinct keys, however alike their texts', () => {
    const keyOf = cacheKeyFunction();
    const lists = [[], [''], ['', ''], ['a', 'b'], ['ab'], ['a2:b'], ['a', '2:b'], ['a\uD800'], ['a\uFFFD']];
    const frozen = lists.map((l) => Object.freeze([...l]));
    const keys = frozen.map((l) => keyOf('t', l));
    expect(new Set(keys).size).toBe(lists.length);
    // Asked again, in another order, each list still has its own key.
    expect([...frozen].reverse().map((l) => keyOf('t', l))).toEqual([...keys].reverse());
  });

  it('hashes a string with a lone surrogate in UTF-16LE, marked apart from UTF-8', () => {
    const keyOf = cacheKeyFunction(key);
    const expected = createHmac('sha256', key)
      .update('U', 'latin1')
      .update(lengthPrefixed(['t\uD800', 'a']), 'utf16le')
      .digest('base64');
    expect(keyOf('t\uD800', ['a'])).toBe(expected);
  });

  it('gives distinct (token, audiences) pairs distinct keys, whatever their encoding', () => {
    const keyOf = cacheKeyFunction();
    const pairs: [string, string[]][] = [
      ['t', []],
      ['t', ['']],
      ['t', ['', '']],
      ['t2:a', []],
      ['t', ['a']],
      ['\uD800', []],
      ['\uDC00', []],
      ['\uFFFD', []],
      ['\u00D8\u0000', []],
      ['t', ['a\uD800|1:b']],
      ['t', ['a\uFFFD', 'b']],
    ];
    const keys = pairs.map(([t, a]) => keyOf(t, a));
    expect(new Set(keys).size).toBe(pairs.length);
    // The same pair again, the same key; another process's (another secret's) key differs.
    expect(pairs.map(([t, a]) => keyOf(t, a))).toEqual(keys);
    expect(cacheKeyFunction()('t', [])).not.toBe(keyOf('t', []));
  });

  it('refuses a key whose K ⊕ ipad would not be ASCII', () => {
    const bad = Buffer.alloc(64, 0x41);
    bad[10] = 0x80;
    expect(() => cacheKeyFunction(bad)).toThrow(TypeError);
    expect(() => cacheKeyFunction(Buffer.alloc(32))).toThrow(TypeError);
  });
});
