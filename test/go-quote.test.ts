import { describe, expect, it } from 'vitest';
import { goQuote, goQuoteList } from '../src/go-quote.js';

describe("Go's strconv.Quote", () => {
  it("prints lists as Go's %q of a string slice", () => {
    expect(goQuoteList([])).toBe('[]');
    expect(goQuoteList(['a'])).toBe('["a"]');
    expect(goQuoteList(['a', 'b "c"'])).toBe('["a" "b \\"c\\""]');
  });

  it('escapes what Go escapes and keeps printable Unicode', () => {
    expect(goQuote('a"b\\c\n\x01\x7f\u00a0é\u2028😀')).toBe('"a\\"b\\\\c\\n\\x01\\x7f\\u00a0é\\u2028😀"');
  });
});
