/**
 * Go's `regexp` (RE2 syntax, leftmost-first matching) for `find` and `findAll`, on re2js, a
 * port of RE2/J: it accepts exactly RE2's syntax, words its errors as Go does ("error
 * parsing regexp: ..."), carries RE2's Unicode tables and case folding, and matches in time
 * linear in the input. Only Go's rule for successive matches is written here.
 */
import { RE2JS } from 're2js';

/** The UTF-16 length of the code point at `i` (1 past the end, as Go steps past it). */
function runeWidth(s: string, i: number): number {
  const cp = s.codePointAt(i);
  return cp !== undefined && cp > 0xffff ? 2 : 1;
}

export class GoRegexp {
  private constructor(private readonly re: RE2JS) {}

  /** Go's `regexp.Compile`: throws an Error worded as Go's for what RE2 refuses. */
  static compile(pattern: string): GoRegexp {
    try {
      return new GoRegexp(RE2JS.compile(pattern));
    } catch (err) {
      throw new Error(err instanceof Error ? err.message : String(err));
    }
  }

  /** Go's `FindString`. */
  find(s: string): string {
    const m = this.re.matcher(s);
    return m.find() ? (m.group() ?? '') : '';
  }

  /**
   * Go's `FindAllString(s, n)` (regexp.go's allMatches): at most n matches (all for n < 0);
   * an empty match right after the previous match is dropped, and the search moves on one
   * code point past an empty match.
   */
  findAll(s: string, n: number): string[] {
    const out: string[] = [];
    const limit = n < 0 ? s.length + 1 : n;
    const m = this.re.matcher(s);
    let pos = 0;
    let prevMatchEnd = -1;
    while (out.length < limit && pos <= s.length && m.find(pos)) {
      const start = m.start();
      const end = m.end();
      let accept = true;
      if (end === pos) {
        if (start === prevMatchEnd) accept = false;
        pos += runeWidth(s, pos);
      } else {
        pos = end;
      }
      prevMatchEnd = end;
      if (accept) out.push(s.slice(start, end));
    }
    return out;
  }
}
