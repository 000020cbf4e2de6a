import { describe, expect, it } from 'vitest';
import { goTrimSpace, hasGoSpace, isGoSpaceCode } from '../src/go-space.js';

describe('isGoSpaceCode', () => {
  it('takes exactly the code units the Go space class takes, every one of the 65,536', () => {
    const differ: number[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      if (isGoSpaceCode(c) !== hasGoSpace(String.fromCharCode(c))) differ.push(c);
    }
    expect(differ).toEqual([]);
  });

  it("agrees with strings.TrimSpace's set on the characters JavaScript and Go disagree about", () => {
    // U+0085 is a Go space and not a JavaScript one; U+FEFF the other way round.
    expect(isGoSpaceCode(0x85)).toBe(true);
    expect(isGoSpaceCode(0xfeff)).toBe(false);
    expect(goTrimSpace('\u0085x\ufeff')).toBe('x\ufeff');
  });
});
