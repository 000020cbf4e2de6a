import { describe, expect, it } from 'vitest';
import { GoRegexp } from '../../../src/cel/lib/re2.js';
import { regexError, regexLibrary } from '../../../src/cel/lib/regex.js';
import { evaluator } from './helpers.js';

const cel = evaluator(regexLibrary);

/** Go's byte offsets into `text` ("1-4 5-5") as the substrings they delimit. */
function byteSlices(text: string, ranges: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  return ranges === ''
    ? []
    : ranges.split(' ').map((r) => {
        const [a, b] = r.split('-').map(Number);
        return bytes.subarray(a, b).toString('utf8');
      });
}

const PUNCT = `!"#$%&'()*+,-./:;<=>?@[\\]^_{|}~`;

/*
 * Go's src/regexp/find_test.go (findTests): pattern, text, and the [start, end) byte offsets
 * of every match of FindAllString(text, -1), as "start-end ..." (submatches left out, and the
 * rows whose text is not valid UTF-8).
 */
const GO_FIND_TESTS: readonly (readonly [string, string, string])[] = [
  ['', '', '0-0'],
  ['^abcdefg', 'abcdefg', '0-7'],
  ['a+', 'baaab', '1-4'],
  ['abcd..', 'abcdef', '0-6'],
  ['a', 'a', '0-1'],
  ['x', 'y', ''],
  ['b', 'abc', '1-2'],
  ['.', 'a', '0-1'],
  ['.*', 'abcdef', '0-6'],
  ['^', 'abcde', '0-0'],
  ['$', 'abcde', '5-5'],
  ['^abcd$', 'abcd', '0-4'],
  ["^bcd'", 'abcdef', ''],
  ['^abcd$', 'abcde', ''],
  ['a*', 'baaab', '0-0 1-4 5-5'],
  ['[a-z]+', 'abcd', '0-4'],
  ['[^a-z]+', 'ab1234cd', '2-6'],
  [String.raw`[a\-\]z]+`, 'az]-bcz', '0-4 6-7'],
  [String.raw`[^\n]+`, 'abcd\n', '0-4'],
  ['[日本語]+', '日本語日本語', '0-18'],
  ['日本語+', '日本語', '0-9'],
  ['日本語+', '日本語語語語', '0-18'],
  ['()', '', '0-0'],
  ['(a)', 'a', '0-1'],
  ['(.)(.)', '日a', '0-4'],
  ['(.*)', '', '0-0'],
  ['(.*)', 'abcd', '0-4'],
  ['(..)(..)', 'abcd', '0-4'],
  ['(([^xyz]*)(d))', 'abcd', '0-4'],
  ['((a|b|c)*(d))', 'abcd', '0-4'],
  ['(((a|b|c)*)(d))', 'abcd', '0-4'],
  [String.raw`\a\f\n\r\t\v`, '\x07\f\n\r\t\v', '0-6'],
  [String.raw`[\a\f\n\r\t\v]+`, '\x07\f\n\r\t\v', '0-6'],
  ['a*(|(b))c*', 'aacc', '0-4'],
  ['(.*).*', 'ab', '0-2'],
  ['[.]', '.', '0-1'],
  ['/$', '/abc/', '4-5'],
  ['/$', '/abc', ''],
  ['.', 'abc', '0-1 1-2 2-3'],
  ['(.)', 'abc', '0-1 1-2 2-3'],
  ['.(.)', 'abcd', '0-2 2-4'],
  ['ab*', 'abbaab', '0-3 3-4 4-6'],
  ['a(b*)', 'abbaab', '0-3 3-4 4-6'],
  ['ab$', 'cab', '1-3'],
  ['axxb$', 'axxcb', ''],
  ['data', 'daXY data', '5-9'],
  ['da(.)a$', 'daXY data', '5-9'],
  ['zx+', 'zzx', '1-3'],
  ['ab$', 'abcab', '3-5'],
  ['(aa)*$', 'a', '1-1'],
  ['(?:.|(?:.a))', '', ''],
  ['(?:A(?:A|a))', 'Aa', '0-2'],
  ['(?:A|(?:A|a))', 'a', '0-1'],
  ['(a){0}', '', '0-0'],
  ['(?-s)(?:(?:^).)', '\n', ''],
  ['(?s)(?:(?:^).)', '\n', '0-1'],
  ['(?:(?:^).)', '\n', ''],
  [String.raw`\b`, 'x', '0-0 1-1'],
  [String.raw`\b`, 'xx', '0-0 2-2'],
  [String.raw`\b`, 'x y', '0-0 1-1 2-2 3-3'],
  [String.raw`\b`, 'xx yy', '0-0 2-2 3-3 5-5'],
  [String.raw`\B`, 'x', ''],
  [String.raw`\B`, 'xx', '1-1'],
  [String.raw`\B`, 'x y', ''],
  [String.raw`\B`, 'xx yy', '1-1 4-4'],
  ['(|a)*', 'aa', '0-0 1-1 2-2'],
  [String.raw`[^\S\s]`, 'abcd', ''],
  [String.raw`[^\S[:space:]]`, 'abcd', ''],
  [String.raw`[^\D\d]`, 'abcd', ''],
  [String.raw`[^\D[:digit:]]`, 'abcd', ''],
  [String.raw`(?i)\W`, 'x', ''],
  [String.raw`(?i)\W`, 'k', ''],
  [String.raw`(?i)\W`, 's', ''],
  [PUNCT.replace(/./g, (c) => `\\${c}`), PUNCT, '0-31'],
  [`[${PUNCT.replace(/./g, (c) => `\\${c}`)}]+`, PUNCT, '0-31'],
  ['\\`', '`', '0-1'],
  ['[\\`]+', '`', '0-1'],
  [
    '.',
    'qwertyuiopasdfghjklzxcvbnm1234567890',
    Array.from({ length: 36 }, (_, i) => `${i}-${i + 1}`).join(' '),
  ],
];

describe('regex (kube library.Regex)', () => {
  // Cases from k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation_test.go
  // (TestValidationExpressions, "stdlib regex functions").
  it('kube’s cases', () => {
    const claims = { str: 'this is a 123 string 456' };
    cel.expectTrue(
      [
        "claims.str.find('[0-9]+') == '123'",
        "claims.str.find('[0-9]+') != '456'",
        "claims.str.find('xyz') == ''",
        "claims.str.findAll('[0-9]+') == ['123', '456']",
        "claims.str.findAll('[0-9]+', 0) == []",
        "claims.str.findAll('[0-9]+', 1) == ['123']",
        "claims.str.findAll('[0-9]+', 2) == ['123', '456']",
        "claims.str.findAll('[0-9]+', 3) == ['123', '456']",
        "claims.str.findAll('[0-9]+', -1) == ['123', '456']",
        "claims.str.findAll('xyz') == []",
        "claims.str.findAll('xyz', 1) == []",
      ],
      claims,
    );
    // kube reports these when it builds the program (the pattern is a constant); here they
    // are run-time errors, worded as kube's run-time error for a pattern that is not.
    cel.expectErrors(
      {
        "claims.str.find(')') == ''": 'Illegal regex: error parsing regexp: unexpected ): `)`',
        "claims.str.findAll(')') == []": 'Illegal regex: error parsing regexp: unexpected ): `)`',
        "claims.str.findAll(')', 1) == []": 'Illegal regex: error parsing regexp: unexpected ): `)`',
      },
      claims,
    );
    expect(regexError(')')).toBe('error parsing regexp: unexpected ): `)`');
    expect(regexError('[0-9]+')).toBeUndefined();
  });

  it('matches as Go’s regexp does (Go’s find_test.go)', () => {
    for (const [pattern, text, ranges] of GO_FIND_TESTS) {
      const re = GoRegexp.compile(pattern);
      const want = byteSlices(text, ranges);
      expect([pattern, text, re.findAll(text, -1)]).toEqual([pattern, text, want]);
      expect([pattern, text, re.find(text)]).toEqual([pattern, text, want[0] ?? '']);
    }
  });

  it('kube’s documented examples, with Go’s answer for a pattern that matches empty', () => {
    cel.expectTrue([
      // kube's doc comment says '123' for this one; Go's leftmost match is the empty one at 0.
      "'abc 123'.find('[0-9]*') == ''",
      "'abc 123'.find('[0-9]+') == '123'",
      "'abc 123'.find('xyz') == ''",
      "'123 abc 456'.findAll('[0-9]*') == ['123', '', '', '', '', '456']",
      "'123 abc 456'.findAll('[0-9]+', 1) == ['123']",
      "'123 abc 456'.findAll('xyz') == []",
    ]);
  });

  it('has RE2’s syntax and Unicode semantics', () => {
    cel.expectTrue([
      String.raw`'k\u212a'.findAll('(?i)k') == ['k', '\u212a']`, // simple case folding: K (Kelvin) is k
      "'STRASSE Straße'.find('(?i)straße') == 'Straße'", // ß does not fold to ss
      "'a\\nb'.find('(?m)^b') == 'b'",
      "'a\\n'.find('a$') == ''", // $ is the end of the text, not before a final newline
      "' \\v\\t'.findAll('\\\\s') == [' ', '\\t']", // RE2's \s has no \v
      "'x\\u0663\\u0664y'.find('\\\\pN+') == '\\u0663\\u0664'",
      "'abc \\u03b1\\u03b2\\u03b3'.find('\\\\p{Greek}+') == '\\u03b1\\u03b2\\u03b3'",
      "'12ab34'.find('[[:alpha:]]+') == 'ab'",
      "'axb a.b'.find('\\\\Qa.b\\\\E') == 'a.b'",
      "'aaaa'.findAll('a{2,3}?') == ['aa', 'aa']",
      "'aaa'.find('(?U)a+') == 'a'",
      "'ab'.find('a|ab') == 'a'", // leftmost-first, not leftmost-longest
      "'a\\U0001F600b'.find('\\\\x{1F600}') == '\\U0001F600'",
      "'\\U0001F600'.find('^.$') == '\\U0001F600'", // . is one code point
      "'x(?P<n>y)'.find('x(?P<n>y)') == ''",
      "'xy'.find('x(?P<n>y)') == 'xy'",
    ]);
  });

  it('refuses what RE2 refuses, with Go’s messages', () => {
    cel.expectErrors({
      [String.raw`'aa'.find('(a)\\1')`]:
        'Illegal regex: error parsing regexp: invalid escape sequence: `\\1`',
      "'ab'.find('a(?=b)')": 'Illegal regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
      "'ab'.find('(?<=a)b')": 'Illegal regex: error parsing regexp: invalid named capture: `(?<=a)b`',
      "'a'.find('a**')": 'Illegal regex: error parsing regexp: invalid nested repetition operator: `**`',
      "'a'.find('a{1001}')": 'Illegal regex: error parsing regexp: invalid repeat count: `{1001}`',
      "'a'.find('[z-a]')": 'Illegal regex: error parsing regexp: invalid character class range: `z-a`',
      "'a'.find('\\\\Z')": 'Illegal regex: error parsing regexp: invalid escape sequence: `\\Z`',
    });
  });

  it('takes linear time where a backtracking engine takes exponential time', () => {
    const start = Date.now();
    const text = `${'a'.repeat(20000)}!`;
    cel.expectTrue(["claims.s.find('(a+)+$') == ''", "claims.s.find('(a|aa)*!') != ''"], { s: text });
    expect(Date.now() - start).toBeLessThan(5000);
  });
});
