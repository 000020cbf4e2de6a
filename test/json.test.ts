import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonString } from '../src/json.js';

describe('jsonString', () => {
  it('writes what JSON.stringify writes for every character that needs escaping', () => {
    for (const s of [
      '',
      'plain',
      'q"',
      'b\\',
      '\u0000',
      '\n\t\b\f\r',
      '\u001f',
      '\u007f',
      '\u2028',
      '\ud800',
      'x\udfff',
      '😀',
    ])
      expect(jsonString(s)).toBe(JSON.stringify(s));
  });

  it('writes what JSON.stringify writes for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });
});
