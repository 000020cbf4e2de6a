/**
 * CEL's optional syntax (`claims.?x`, `m[?k]`, `[?e]`, `{?k: v}`) for a parser that lacks it.
 *
 * @bufbuild/cel's parser refuses the `?` marker. Every place the marker may stand is one
 * where `?` can only be that marker: right after `.` or `[` or `{`, or after a `,` inside a
 * list or map literal (a ternary's `?` always follows a finished operand). So the marker is
 * replaced by a space, which the grammar allows there, and its place is recorded by the
 * source offset the parser gives the node it marks: the `.` of a select, the `[` of an index
 * or list, the `{` of a map. Offsets do not move, so error carets stay right.
 */

export interface OptionalMarks {
  /** Offsets of the `.` of `x.?f`. */
  readonly selects: ReadonlySet<number>;
  /** Offsets of the `[` of `x[?k]`. */
  readonly indexes: ReadonlySet<number>;
  /** Offset of a list literal's `[` → indices of its `?e` elements. */
  readonly lists: ReadonlyMap<number, readonly number[]>;
  /** Offset of a map literal's `{` → indices of its `?k: v` entries. */
  readonly maps: ReadonlyMap<number, readonly number[]>;
}

export interface MarkedSource {
  /** The source with each optional marker replaced by a space. */
  readonly source: string;
  readonly marks: OptionalMarks;
  readonly count: number;
}

type Open = { kind: 'paren' | 'index' | 'list' | 'map'; at: number; commas: number };

/** Tokens after which an expression has ended: `[` after them is an index, not a list. */
type Last = 'operand' | 'punct';

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?|\.\d+(?:[eE][+-]?\d+)?)/;

/** The end offset of the string literal whose opening quote is at `at`. */
export function skipString(src: string, at: number, raw: boolean): number {
  const q = src[at]!;
  const triple = src.startsWith(q.repeat(3), at);
  const close = triple ? q.repeat(3) : q;
  let i = at + close.length;
  while (i < src.length) {
    if (!raw && src[i] === '\\') {
      i += 2;
      continue;
    }
    if (src.startsWith(close, i)) return i + close.length;
    if (!triple && src[i] === '\n') return i;
    i++;
  }
  return i;
}

export function markOptionalSyntax(src: string): MarkedSource {
  const selects = new Set<number>();
  const indexes = new Set<number>();
  const lists = new Map<number, number[]>();
  const maps = new Map<number, number[]>();
  const chars = src.split('');
  const stack: Open[] = [];
  let last: Last = 'punct';
  let prev: { char: string; at: number } | undefined;
  let count = 0;

  const markElement = (open: Open, into: Map<number, number[]>): void => {
    const list = into.get(open.at) ?? [];
    list.push(open.commas);
    into.set(open.at, list);
  };

  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < src.length && IDENT_PART.test(src[j]!)) j++;
      const word = src.slice(i, j);
      if (/^(?:[rRbB]|[rR][bB]|[bB][rR])$/.test(word) && (src[j] === '"' || src[j] === "'")) {
        i = skipString(src, j, /[rR]/.test(word));
      } else {
        i = j;
      }
      last = 'operand';
      prev = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipString(src, i, false);
      last = 'operand';
      prev = undefined;
      continue;
    }
    const number = NUMBER.exec(src.slice(i, i + 64));
    if (number && (/\d/.test(c) || last === 'punct')) {
      i += number[0].length;
      last = 'operand';
      prev = undefined;
      continue;
    }
    const top = stack[stack.length - 1];
    switch (c) {
      case '?':
        if (prev?.char === '.') {
          selects.add(prev.at);
        } else if (prev?.char === '[' && top?.kind === 'index') {
          indexes.add(prev.at);
        } else if ((prev?.char === '[' || prev?.char === ',') && top?.kind === 'list') {
          markElement(top, lists);
        } else if ((prev?.char === '{' || prev?.char === ',') && top?.kind === 'map') {
          markElement(top, maps);
        } else {
          // A ternary, or a marker where the grammar has none: the parser decides.
          last = 'punct';
          prev = { char: c, at: i };
          i++;
          continue;
        }
        chars[i] = ' ';
        count++;
        prev = undefined;
        i++;
        continue;
      case '(':
        stack.push({ kind: 'paren', at: i, commas: 0 });
        break;
      case '[':
        stack.push({ kind: last === 'operand' ? 'index' : 'list', at: i, commas: 0 });
        break;
      case '{':
        stack.push({ kind: 'map', at: i, commas: 0 });
        break;
      case ')':
      case ']':
      case '}':
        stack.pop();
        i++;
        last = 'operand';
        prev = undefined;
        continue;
      case ',':
        if (top) top.commas++;
        break;
    }
    last = 'punct';
    prev = { char: c, at: i };
    i++;
  }
  return { source: chars.join(''), marks: { selects, indexes, lists, maps }, count };
}
