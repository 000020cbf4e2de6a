import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStrictObject } from '../../../src/authn/jwt/strict-json.js';

const parse = (text: string, depth = 16) => parseStrictObject(text, depth);
const refused = (text: string, reason: RegExp, depth = 16) => {
  const r = parse(text, depth);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.reason).toMatch(reason);
};

describe('parseStrictObject', () => {
  it('returns what JSON.parse returns for a plain object', () => {
    const text =
      ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9\\ud83d\\ude00"], "b": {"c": {}}, "d": []}\n';
    expect(parse(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it('refuses duplicate member names, at any depth', () => {
    refused('{"a":1,"a":1}', /duplicate/);
    refused('{"x":{"a":1,"b":2,"a":3}}', /duplicate/);
    refused('{"x":[{"a":1,"a":2}]}', /duplicate/);
  });

  it('compares member names after unescaping', () => {
    refused('{"alg":1,"\\u0061lg":2}', /duplicate/);
    refused('{"a/b":1,"a\\/b":2}', /duplicate/);
  });

  it('catches a duplicated __proto__, which JSON.parse turns into one own member', () => {
    refused('{"__proto__":{"admin":true},"__proto__":{}}', /duplicate/);
  });

  it('accepts the same name in sibling objects', () => {
    expect(parse('{"x":{"a":1},"y":{"a":1}}').ok).toBe(true);
  });

  it('refuses escaped lone surrogates and accepts escaped pairs', () => {
    refused('{"a":"\\ud800"}', /surrogate/);
    refused('{"a":"\\ud800x"}', /surrogate/);
    refused('{"a":"\\udc00"}', /surrogate/);
    refused('{"a":"\\ud800\\u0041"}', /surrogate/);
    expect(parse('{"a":"\\ud83d\\ude00"}')).toEqual({ ok: true, value: { a: '😀' } });
    refused('{"\\ud800":1}', /surrogate/);
  });

  it.each([
    ['an array', '[1]'],
    ['a string', '"a"'],
    ['null', 'null'],
    ['trailing data', '{} {}'],
    ['a trailing comma', '{"a":1,}'],
    ['a trailing comma in an array', '{"a":[1,]}'],
    ['an unterminated string', '{"a":"b'],
    ['a raw control character', '{"a":"\u0007"}'],
    ['an invalid escape', '{"a":"\\q"}'],
    ['a short \\u escape', '{"a":"\\u12"}'],
    ['a leading zero', '{"a":01}'],
    ['a bare minus', '{"a":-}'],
    ['a missing fraction', '{"a":1.}'],
    ['a missing exponent', '{"a":1e}'],
    ['a plus sign', '{"a":+1}'],
    ['a misspelt literal', '{"a":tru}'],
    ['a single-quoted name', "{'a':1}"],
    ['a missing colon', '{"a" 1}'],
    ['a vertical tab as whitespace', '{\u000b"a":1}'],
  ])('refuses %s', (_name, text) => {
    expect(parse(text).ok).toBe(false);
  });

  it('bounds nesting of objects and arrays alike', () => {
    expect(parse('{"a":{"b":[1]}}', 3).ok).toBe(true);
    refused('{"a":{"b":[[1]]}}', /deep/, 3);
    refused('{"a":{"b":{"c":{}}}}', /deep/, 3);
  });

  it('refuses 100 000 levels of nesting without exhausting the stack', () => {
    refused(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, /deep/);
  });

  it('never throws, and accepts only texts JSON.parse reads as objects (property)', () => {
    const jsonish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc
        .tuple(
          fc.json({ maxDepth: 4 }),
          fc.nat(40),
          fc.constantFrom('', '"', '{', '}', ',', '\\', '\\u', '\\ud800', ' ', ':'),
        )
        .map(([text, at, insert]) => text.slice(0, at) + insert + text.slice(at)),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        const r = parse(text);
        if (r.ok) {
          const value: unknown = JSON.parse(text);
          expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with JSON.parse on every object without duplicate names (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 }), (obj) => {
        const text = JSON.stringify(obj);
        expect(parse(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 500 },
    );
  });

  /**
   * Compact JSON objects (no white space, no escapes: the usual claims text) whose names and
   * strings are built from the characters that could make a colon look like the end of a
   * name, with or without a repeated name: each object is text paired with whether it repeats
   * a name anywhere.
   */
  const tricky = fc.stringMatching(/^[a:{[,]{0,3}$/);
  const compactValue: fc.Memo<[string, boolean]> = fc.memo((n) =>
    n <= 1
      ? fc.oneof(
          tricky.map((s): [string, boolean] => [`"${s}"`, false]),
          fc.constantFrom<[string, boolean]>(['1', false], ['true', false], ['null', false]),
        )
      : fc.oneof(
          compactObject(n - 1),
          fc
            .array(compactValue(n - 1), { maxLength: 3 })
            .map((items): [string, boolean] => [
              `[${items.map(([t]) => t).join(',')}]`,
              items.some(([, d]) => d),
            ]),
        ),
  );
  function compactObject(n: number): fc.Arbitrary<[string, boolean]> {
    return fc.array(fc.tuple(tricky, compactValue(n)), { maxLength: 5 }).map((members): [string, boolean] => {
      const names = members.map(([name]) => name);
      const repeats = new Set(names).size !== names.length || members.some(([, [, d]]) => d);
      return [`{${members.map(([name, [text]]) => `"${name}":${text}`).join(',')}}`, repeats];
    });
  }

  it('finds every repeated name in compact text whose names and strings hold :, {, [ and , (property)', () => {
    fc.assert(
      fc.property(compactObject(3), ([text, repeats]) => {
        const r = parse(text);
        expect(r.ok ? 'ok' : r.reason).toBe(repeats ? 'duplicate member name' : 'ok');
      }),
      { numRuns: 3000 },
    );
  });

  it("counts names in text with a colon or a bracket right before a name's closing quote", () => {
    refused('{"a:":1,"a:":2}', /duplicate/);
    refused('{":":":","":1,"":2}', /duplicate/);
    refused('{"x":":","a{":1,"a{":2}', /duplicate/);
    refused('{"x":[":",":"],"a":1,"a":2}', /duplicate/);
    expect(parse('{"a,":":","b[":{":":":"}}').ok).toBe(true);
  });
});
