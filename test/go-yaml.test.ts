import { LineCounter, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GO_YAML_OPTIONS, mergeOrderProblem } from '../src/go-yaml.js';

const read = (text: string): unknown => parseDocument(text, GO_YAML_OPTIONS).toJS();
function problem(text: string): string | undefined {
  const lineCounter = new LineCounter();
  return mergeOrderProblem(parseDocument(text, { ...GO_YAML_OPTIONS, lineCounter }), lineCounter);
}

describe('YAML read as go-yaml v2 (sigs.k8s.io/yaml) reads it', () => {
  it('resolves plain scalars as YAML 1.1 with Go integer spellings', () => {
    // Expected values are sigs.k8s.io/yaml YAMLToJSON's output for the same text.
    expect(read('a: [yes, no, on, off, y, n, Yes, TRUE, ~]')).toEqual({
      a: [true, false, true, false, true, false, true, true, null],
    });
    expect(read('a: [0777, 0o17, 0x1F, 1_000, 0b11, +12, 1e3, .5]')).toEqual({
      a: [511, 15, 31, 1000, 3, 12, 1000, 0.5],
    });
    expect(read('a: [190:20:30, 2001-12-14, "yes"]')).toEqual({ a: ['190:20:30', '2001-12-14', 'yes'] });
  });

  it('applies merge keys, the first source winning, and keeps a quoted "<<" as a key', () => {
    expect(read('a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n  i: 0\n')).toMatchObject({
      c: { k: 1, j: 3, i: 0 },
    });
    expect(read("c:\n  '<<': {a: 1}\n")).toEqual({ c: { '<<': { a: 1 } } });
  });

  it('finds a merge key that would override a key set above it, through nested merges too', () => {
    expect(problem('b: &b {x: 2}\nm:\n  x: 1\n  <<: *b\n')).toMatch(/^line 4: "<<" merges key "x"/);
    expect(problem('i: &i {x: 2}\nb: &b {<<: *i, y: 1}\nm:\n  x: 1\n  <<: [*b]\n')).toMatch(
      /^line 5: "<<" merges key "x"/,
    );
    expect(problem('b: &b {x: 2}\nm:\n  <<: *b\n  x: 1\n')).toBeUndefined();
    expect(problem('b: &b {x: 2}\nm:\n  y: 1\n  <<: *b\n')).toBeUndefined();
  });
});
