import { describe, expect, it } from 'vitest';
import { markOptionalSyntax } from '../../src/cel/optional-syntax.js';

describe('markOptionalSyntax', () => {
  it('replaces the marker after a select dot by a space and records the dot', () => {
    const m = markOptionalSyntax('claims.?email_verified.orValue(true)');
    expect(m.source).toBe('claims. email_verified.orValue(true)');
    expect([...m.marks.selects]).toEqual([6]);
    expect(m.count).toBe(1);
  });

  it('tells an optional index from an optional list element by what precedes the bracket', () => {
    const m = markOptionalSyntax("claims[?'a'] + [?x, y, ?z]");
    expect([...m.marks.indexes]).toEqual([6]);
    expect([...m.marks.lists]).toEqual([[15, [0, 2]]]);
    expect(m.source).toBe("claims[ 'a'] + [ x, y,  z]");
  });

  it('records optional map entries by their index', () => {
    const m = markOptionalSyntax("{'a': 1, ?'b': claims.?b}");
    expect([...m.marks.maps]).toEqual([[0, [1]]]);
    expect([...m.marks.selects]).toEqual([21]);
  });

  it('leaves a ternary alone, and a question mark inside strings and comments', () => {
    const src = `claims.a ? '.?x' : r"[?y]" // .?z\n + """{?'k': v}"""`;
    const m = markOptionalSyntax(src);
    expect(m.source).toBe(src);
    expect(m.count).toBe(0);
  });

  it('allows whitespace and comments between the dot and the marker, as the grammar does', () => {
    const m = markOptionalSyntax('claims. // c\n ?x');
    expect([...m.marks.selects]).toEqual([6]);
  });

  it('keeps every offset, so error carets still point at the source', () => {
    const src = 'claims.?a[?0].?b + [?claims.?c]';
    expect(markOptionalSyntax(src).source).toHaveLength(src.length);
  });

  it('does not mark a question mark after a comma in call arguments', () => {
    const m = markOptionalSyntax('f(a, ?b)');
    expect(m.count).toBe(0);
    expect(m.source).toBe('f(a, ?b)');
  });
});
