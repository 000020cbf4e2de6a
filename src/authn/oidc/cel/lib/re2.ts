/**
 * Go's `regexp` (RE2 syntax, leftmost-first matching) for `find` and `findAll`.
 *
 * A pattern is first compiled by @bufbuild/re2 (the RE2 port @bufbuild/cel's `matches` uses),
 * which accepts exactly RE2's syntax and words its errors as Go does ("error parsing regexp:
 * ..."); a valid pattern is then parsed here, simplified and compiled as Go's
 * regexp/syntax does (`x{2,5}` is `xx(x(x(x)?)?)?`, a star of something that can match
 * empty is `(x+)?`), and run on a Pike VM, as Go's regexp runs it. So matches are Go's, in
 * time linear in the input: no backtracking, whatever the pattern.
 *
 * Character sets (classes, `\pL`, `\w`, case folding under `(?i)`) are decided one code
 * point at a time by a one-character JavaScript RegExp with the `u` flag (and `i` for
 * `(?i)`), whose Unicode tables and simple case folding are the ones RE2 uses, up to the
 * Unicode version. A Unicode class name JavaScript does not know is refused with an error
 * rather than guessed.
 */
import { RE2JS } from '@bufbuild/re2';

type Matcher = (cp: number) => boolean;

/* Go's syntax.EmptyOp bits. */
const BEGIN_LINE = 1;
const END_LINE = 2;
const BEGIN_TEXT = 4;
const END_TEXT = 8;
const WORD_BOUNDARY = 16;
const NO_WORD_BOUNDARY = 32;

type Node =
  | { readonly k: 'empty' }
  | { readonly k: 'char'; readonly m: Matcher }
  | { readonly k: 'assert'; readonly op: number }
  | { readonly k: 'cat' | 'alt'; readonly subs: readonly Node[] }
  | { readonly k: 'star' | 'plus' | 'quest'; readonly sub: Node; readonly lazy: boolean }
  | {
      readonly k: 'repeat';
      readonly sub: Node;
      readonly min: number;
      readonly max: number;
      readonly lazy: boolean;
    }
  | { readonly k: 'cap'; readonly sub: Node };

const EMPTY: Node = { k: 'empty' };

/** A pattern RE2 accepts but this engine cannot run exactly (an unknown Unicode class). */
export class UnsupportedRegexError extends Error {}

function unsupported(reason: string): never {
  throw new UnsupportedRegexError(`unsupported by tokenwarden: ${reason}`);
}

type Ranges = readonly (readonly [number, number])[];

/* Go's perlGroup and posixGroup (regexp/syntax/perl_groups.go). */
const PERL: Readonly<Record<string, Ranges>> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX: Readonly<Record<string, Ranges>> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/* Go's unicode.Categories names (scripts are every other name RE2 accepts). */
const CATEGORY = /^(?:L[ultmo]?|M[nce]?|N[dlo]?|P[cdsefio]?|S[mcko]?|Z[slp]?|C[cfso])$/;

const hex = (cp: number): string => `\\u{${cp.toString(16)}}`;

function rangesBody(ranges: Ranges): string {
  return ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
}

function jsRegExp(source: string, fold: boolean): RegExp {
  try {
    return new RegExp(source, fold ? 'iu' : 'u');
  } catch {
    return unsupported(`JavaScript cannot express ${source}`);
  }
}

/** A matcher for the JavaScript class `[body]` (or `[^body]`), folded under `(?i)`. */
function classMatcher(body: string, negate: boolean, fold: boolean): Matcher {
  const re = jsRegExp(`^[${negate ? '^' : ''}${body}]$`, fold);
  const ascii = new Int8Array(128);
  return (cp) => {
    if (cp < 128) {
      let v = ascii[cp]!;
      if (v === 0) ascii[cp] = v = re.test(String.fromCharCode(cp)) ? 1 : -1;
      return v > 0;
    }
    return re.test(String.fromCodePoint(cp));
  };
}

/** The JavaScript class body of a Unicode class name as Go's `\p{name}` means it. */
function unicodeBody(name: string): string {
  if (name === 'Any') return `${hex(0)}-${hex(0x10ffff)}`;
  // Go's C is Cc, Cf, Co and Cs; JavaScript's C also has the unassigned code points.
  if (name === 'C') return '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}';
  if (CATEGORY.test(name)) return `\\p{${name}}`;
  for (const body of [`\\p{Script=${name}}`, `\\p{${name}}`]) {
    try {
      new RegExp(`[${body}]`, 'u');
      return body;
    } catch {
      // try the next spelling
    }
  }
  return unsupported(`JavaScript has no Unicode class ${name}`);
}

interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
  readonly U: boolean;
}

const REPEAT = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/;

/** A set of code points being built: a class body plus negated groups (`\W`, `\P{L}`). */
class CharSet {
  body = '';
  readonly extras: Matcher[] = [];

  constructor(private readonly fold: boolean) {}

  ranges(r: Ranges, negate: boolean): void {
    if (negate) this.extras.push(classMatcher(rangesBody(r), true, this.fold));
    else this.body += rangesBody(r);
  }

  unicode(name: string, negate: boolean): void {
    const body = unicodeBody(name);
    if (negate) this.extras.push(classMatcher(body, true, this.fold));
    else this.body += body;
  }

  matcher(negate: boolean): Matcher {
    const main = this.body === '' ? undefined : classMatcher(this.body, false, this.fold);
    const extras = this.extras;
    if (!main && extras.length === 1 && !negate) return extras[0]!;
    return (cp) => ((main?.(cp) ?? false) || extras.some((m) => m(cp))) !== negate;
  }
}

/** RE2 syntax (as Go's regexp/syntax with its Perl flags) to the tree the compiler takes. */
class Parser {
  private i = 0;
  private flags: Flags = { i: false, m: false, s: false, U: false };
  private readonly src: readonly string[];

  constructor(pattern: string) {
    this.src = Array.from(pattern);
  }

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) unsupported(`unexpected ${this.src[this.i]}`);
    return node;
  }

  private peek(k = 0): string | undefined {
    return this.src[this.i + k];
  }

  private next(): string {
    const c = this.src[this.i++];
    if (c === undefined) unsupported('unexpected end of pattern');
    return c;
  }

  private rest(): string {
    return this.src.slice(this.i, this.i + 16).join('');
  }

  private alternation(): Node {
    const subs = [this.concatenation()];
    while (this.peek() === '|') {
      this.i++;
      subs.push(this.concatenation());
    }
    return subs.length === 1 ? subs[0]! : { k: 'alt', subs };
  }

  private concatenation(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      if (c === '*' || c === '+' || c === '?') {
        this.i++;
        this.repeat(items, c === '*' ? 'star' : c === '+' ? 'plus' : 'quest', 0, 0);
        continue;
      }
      if (c === '{') {
        const m = REPEAT.exec(this.rest());
        if (m) {
          this.i += m[0].length;
          const min = Number(m[1]);
          const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
          this.repeat(items, 'repeat', min, max);
          continue;
        }
      }
      this.atom(items);
    }
    return items.length === 0 ? EMPTY : items.length === 1 ? items[0]! : { k: 'cat', subs: items };
  }

  private repeat(items: Node[], k: 'star' | 'plus' | 'quest' | 'repeat', min: number, max: number): void {
    const sub = items.pop();
    if (!sub) unsupported('missing argument to repetition operator');
    let lazy = this.flags.U;
    if (this.peek() === '?') {
      this.i++;
      lazy = !lazy;
    }
    items.push(k === 'repeat' ? { k, sub, min, max, lazy } : { k, sub, lazy });
  }

  private literal(cp: number): Node {
    if (this.flags.i && /\p{Cased}/u.test(String.fromCodePoint(cp))) {
      return { k: 'char', m: classMatcher(hex(cp), false, true) };
    }
    return { k: 'char', m: (c) => c === cp };
  }

  private atom(items: Node[]): void {
    const c = this.next();
    switch (c) {
      case '(':
        return this.group(items);
      case '[':
        items.push({ k: 'char', m: this.charClass() });
        return;
      case '.':
        items.push({ k: 'char', m: this.flags.s ? () => true : (cp) => cp !== 0x0a });
        return;
      case '^':
        items.push({ k: 'assert', op: this.flags.m ? BEGIN_LINE : BEGIN_TEXT });
        return;
      case '$':
        items.push({ k: 'assert', op: this.flags.m ? END_LINE : END_TEXT });
        return;
      case '\\':
        return this.escape(items);
      default:
        items.push(this.literal(c.codePointAt(0)!));
    }
  }

  private group(items: Node[]): void {
    const saved = this.flags;
    let capture = true;
    if (this.peek() === '?') {
      if (this.peek(1) === 'P' && this.peek(2) === '<') this.i += 2;
      else if (this.peek(1) === '<') this.i += 1;
      else {
        this.i++;
        let negate = false;
        const flags = { ...this.flags };
        for (;;) {
          const f = this.next();
          if (f === '-') negate = true;
          else if (f === 'i' || f === 'm' || f === 's' || f === 'U') flags[f] = !negate;
          else if (f === ')') {
            this.flags = flags; // (?i): to the end of the enclosing group
            return;
          } else if (f === ':') break;
          else unsupported(`invalid flag ${f}`);
        }
        this.flags = flags;
        capture = false;
      }
      if (capture) while (this.next() !== '>');
    }
    const sub = this.alternation();
    if (this.next() !== ')') unsupported('missing )');
    this.flags = saved;
    items.push(capture ? { k: 'cap', sub } : sub);
  }

  /** `\d`, `\pL` and the like at the cursor (after the backslash), into `set`. */
  private group2(set: CharSet): boolean {
    const c = this.peek();
    if (c !== undefined && 'dDsSwW'.includes(c)) {
      this.i++;
      set.ranges(PERL[c.toLowerCase()]!, c !== c.toLowerCase());
      return true;
    }
    if (c === 'p' || c === 'P') {
      this.i++;
      let name = this.next();
      if (name === '{') {
        name = '';
        for (let ch = this.next(); ch !== '}'; ch = this.next()) name += ch;
      }
      let negate = c === 'P';
      if (name.startsWith('^')) {
        negate = !negate;
        name = name.slice(1);
      }
      set.unicode(name, negate);
      return true;
    }
    return false;
  }

  private escape(items: Node[]): void {
    const c = this.peek();
    const asserts: Record<string, number> = {
      A: BEGIN_TEXT,
      z: END_TEXT,
      b: WORD_BOUNDARY,
      B: NO_WORD_BOUNDARY,
    };
    if (c !== undefined && asserts[c] !== undefined) {
      this.i++;
      items.push({ k: 'assert', op: asserts[c] });
      return;
    }
    if (c === 'Q') {
      this.i++;
      while (this.i < this.src.length && !(this.peek() === '\\' && this.peek(1) === 'E')) {
        items.push(this.literal(this.next().codePointAt(0)!));
      }
      if (this.i < this.src.length) this.i += 2;
      return;
    }
    const set = new CharSet(this.flags.i);
    if (this.group2(set)) {
      items.push({ k: 'char', m: set.matcher(false) });
      return;
    }
    items.push(this.literal(this.escapedChar()));
  }

  /** Go's parseEscape, after the backslash. */
  private escapedChar(): number {
    const c = this.next();
    if (c >= '0' && c <= '7' && (c === '0' || ((this.peek() ?? '') >= '0' && (this.peek() ?? '') <= '7'))) {
      let v = Number(c);
      for (let n = 1; n < 3; n++) {
        const d = this.peek();
        if (d === undefined || d < '0' || d > '7') break;
        v = v * 8 + Number(d);
        this.i++;
      }
      return v;
    }
    switch (c) {
      case 'x': {
        let digits = '';
        if (this.peek() === '{') {
          this.i++;
          for (let ch = this.next(); ch !== '}'; ch = this.next()) digits += ch;
        } else digits = this.next() + this.next();
        return parseInt(digits, 16);
      }
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 't':
        return 9;
      case 'v':
        return 11;
    }
    const cp = c.codePointAt(0)!;
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp;
    return unsupported(`invalid escape \\${c}`);
  }

  private classChar(): number {
    const c = this.next();
    return c === '\\' ? this.escapedChar() : c.codePointAt(0)!;
  }

  /** Go's parseClass, after the `[`. */
  private charClass(): Matcher {
    let negate = false;
    if (this.peek() === '^') {
      this.i++;
      negate = true;
    }
    const set = new CharSet(this.flags.i);
    for (let first = true; ; first = false) {
      const c = this.peek();
      if (c === undefined) unsupported('missing closing ]');
      if (c === ']' && !first) {
        this.i++;
        return set.matcher(negate);
      }
      if (c === '[' && this.peek(1) === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.rest());
        if (m && POSIX[m[2]!]) {
          this.i += m[0].length;
          set.ranges(POSIX[m[2]!]!, m[1] === '^');
          continue;
        }
      }
      if (c === '\\') {
        this.i++;
        if (this.group2(set)) continue;
        this.i--;
      }
      const lo = this.classChar();
      let hi = lo;
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.i++;
        hi = this.classChar();
      }
      set.ranges([[lo, hi]], false);
    }
  }
}

/* Go's simplify1: x** is x*, and repeating the empty match matches it once. */
function simplify1(k: 'star' | 'plus' | 'quest', lazy: boolean, sub: Node): Node {
  if (sub.k === 'empty') return sub;
  if (sub.k === k && sub.lazy === lazy) return sub;
  return { k, sub, lazy };
}

/* Go's Regexp.Simplify: counted repetition becomes concatenation, star, plus and quest. */
function simplify(n: Node): Node {
  switch (n.k) {
    case 'cat':
    case 'alt':
      return { k: n.k, subs: n.subs.map(simplify) };
    case 'cap':
      return { k: 'cap', sub: simplify(n.sub) };
    case 'star':
    case 'plus':
    case 'quest':
      return simplify1(n.k, n.lazy, simplify(n.sub));
    case 'repeat': {
      if (n.min === 0 && n.max === 0) return EMPTY;
      const sub = simplify(n.sub);
      if (n.max === -1) {
        if (n.min === 0) return simplify1('star', n.lazy, sub);
        if (n.min === 1) return simplify1('plus', n.lazy, sub);
        return { k: 'cat', subs: [...Array<Node>(n.min - 1).fill(sub), simplify1('plus', n.lazy, sub)] };
      }
      if (n.min === 1 && n.max === 1) return sub;
      const parts: Node[] = Array<Node>(n.min).fill(sub);
      if (n.max > n.min) {
        let suffix = simplify1('quest', n.lazy, sub);
        for (let i = n.min + 1; i < n.max; i++) {
          suffix = simplify1('quest', n.lazy, { k: 'cat', subs: [sub, suffix] });
        }
        parts.push(suffix);
      }
      return parts.length === 1 ? parts[0]! : { k: 'cat', subs: parts };
    }
    default:
      return n;
  }
}

function nullable(n: Node): boolean {
  switch (n.k) {
    case 'empty':
    case 'assert':
    case 'star':
    case 'quest':
      return true;
    case 'char':
      return false;
    case 'cat':
      return n.subs.every(nullable);
    case 'alt':
      return n.subs.some(nullable);
    case 'plus':
    case 'cap':
      return nullable(n.sub);
    case 'repeat':
      return n.min === 0 || nullable(n.sub);
  }
}

const enum Op {
  Char,
  Split,
  Empty,
  Match,
}

interface Inst {
  op: Op;
  /** Char and Empty: the next instruction. Split: the preferred one. */
  out: number;
  /** Split: the other one. Empty: the EmptyOp it needs. */
  arg: number;
  m?: Matcher;
}

const MAX_INSTRUCTIONS = 1_000_000;

/** Compiles as Go's regexp/syntax compiler does, back to front: each node gets its continuation. */
class Compiler {
  readonly prog: Inst[] = [];

  emit(inst: Inst): number {
    if (this.prog.length >= MAX_INSTRUCTIONS) unsupported('expression too large');
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  private split(preferred: number, other: number, lazy: boolean): Inst {
    return lazy ? { op: Op.Split, out: other, arg: preferred } : { op: Op.Split, out: preferred, arg: other };
  }

  /** x+ (Go's plus, via loop): x, then a split back to x or on to next. */
  private plus(sub: Node, next: number, lazy: boolean): number {
    const loop = this.emit({ op: Op.Split, out: -1, arg: -1 });
    const start = this.compile(sub, loop);
    this.prog[loop] = this.split(start, next, lazy);
    return start;
  }

  compile(n: Node, next: number): number {
    switch (n.k) {
      case 'empty':
        return next;
      case 'char':
        return this.emit({ op: Op.Char, out: next, arg: 0, m: n.m });
      case 'assert':
        return this.emit({ op: Op.Empty, out: next, arg: n.op });
      case 'cap':
        return this.compile(n.sub, next);
      case 'cat':
        for (let i = n.subs.length - 1; i >= 0; i--) next = this.compile(n.subs[i]!, next);
        return next;
      case 'alt': {
        const starts = n.subs.map((s) => this.compile(s, next));
        let pc = starts[starts.length - 1]!;
        for (let i = starts.length - 2; i >= 0; i--) pc = this.emit(this.split(starts[i]!, pc, false));
        return pc;
      }
      case 'quest':
        return this.emit(this.split(this.compile(n.sub, next), next, n.lazy));
      case 'plus':
        return this.plus(n.sub, next, n.lazy);
      case 'star': {
        if (nullable(n.sub)) {
          // Go compiles x* as (x+)? when x can match empty (golang.org/issue/46123).
          return this.emit(this.split(this.plus(n.sub, next, n.lazy), next, n.lazy));
        }
        const loop = this.emit({ op: Op.Split, out: -1, arg: -1 });
        this.prog[loop] = this.split(this.compile(n.sub, loop), next, n.lazy);
        return loop;
      }
      case 'repeat':
        return this.compile(simplify(n), next);
    }
  }
}

const isWordChar = (r: number): boolean =>
  (r >= 0x30 && r <= 0x39) || (r >= 0x41 && r <= 0x5a) || r === 0x5f || (r >= 0x61 && r <= 0x7a);

/** Go's syntax.EmptyOpContext: the assertions that hold between runes r1 and r2 (-1: the text's end). */
function context(r1: number, r2: number): number {
  let op = NO_WORD_BOUNDARY;
  let boundary = 0;
  if (isWordChar(r1)) boundary = 1;
  else if (r1 === 0x0a) op |= BEGIN_LINE;
  else if (r1 < 0) op |= BEGIN_TEXT | BEGIN_LINE;
  if (isWordChar(r2)) boundary ^= 1;
  else if (r2 === 0x0a) op |= END_LINE;
  else if (r2 < 0) op |= END_TEXT | END_LINE;
  if (boundary !== 0) op ^= WORD_BOUNDARY | NO_WORD_BOUNDARY;
  return op;
}

function runeAt(s: string, pos: number): number {
  return pos < s.length ? s.codePointAt(pos)! : -1;
}

function width(r: number): number {
  return r < 0 ? 0 : r > 0xffff ? 2 : 1;
}

function runeBefore(s: string, pos: number): number {
  if (pos === 0) return -1;
  const c = s.charCodeAt(pos - 1);
  if (c >= 0xdc00 && c <= 0xdfff && pos >= 2) {
    const h = s.charCodeAt(pos - 2);
    if (h >= 0xd800 && h <= 0xdbff) return s.codePointAt(pos - 2)!;
  }
  return c;
}

/** A thread queue with Go's sparse-set rule: a pc already queued is not queued again. */
class Queue {
  readonly pcs: number[] = [];
  readonly starts: number[] = [];
  private readonly seen: Int32Array;
  private gen = 1;

  constructor(size: number) {
    this.seen = new Int32Array(size);
  }

  clear(): void {
    this.pcs.length = 0;
    this.starts.length = 0;
    this.gen++;
  }

  mark(pc: number): boolean {
    if (this.seen[pc] === this.gen) return false;
    this.seen[pc] = this.gen;
    return true;
  }
}

export class GoRegexp {
  private readonly prog: readonly Inst[];
  private readonly start: number;
  private queues: [Queue, Queue] | undefined;

  private constructor(pattern: string) {
    const compiler = new Compiler();
    const match = compiler.emit({ op: Op.Match, out: -1, arg: 0 });
    this.start = compiler.compile(simplify(new Parser(pattern).parse()), match);
    this.prog = compiler.prog;
  }

  /**
   * Go's `regexp.Compile`. Throws an Error worded as Go's ("error parsing regexp: ...") for
   * what RE2 refuses, and an UnsupportedRegexError for what this engine cannot run exactly.
   */
  static compile(pattern: string): GoRegexp {
    try {
      RE2JS.compile(pattern);
    } catch (err) {
      throw new Error(err instanceof Error ? err.message : String(err));
    }
    return new GoRegexp(pattern);
  }

  /** Go's machine.add: follows splits (preferred first) and assertions, queues the rest. */
  private add(q: Queue, pc0: number, cond: number, start: number, stack: number[]): void {
    stack.push(pc0);
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (!q.mark(pc)) continue;
      const inst = this.prog[pc]!;
      switch (inst.op) {
        case Op.Split:
          stack.push(inst.arg, inst.out);
          break;
        case Op.Empty:
          if ((inst.arg & ~cond) === 0) stack.push(inst.out);
          break;
        default:
          q.pcs.push(pc);
          q.starts.push(start);
      }
    }
  }

  /** The leftmost-first match starting at or after `from`: [start, end) in UTF-16 units. */
  exec(s: string, from: number): [number, number] | undefined {
    this.queues ??= [new Queue(this.prog.length), new Queue(this.prog.length)];
    let [run, next] = this.queues;
    run.clear();
    next.clear();
    const stack: number[] = [];
    let matched: [number, number] | undefined;
    let pos = from;
    let r = runeAt(s, pos);
    let w = width(r);
    let r1 = r < 0 ? -1 : runeAt(s, pos + w);
    let cond = context(runeBefore(s, pos), r);
    for (;;) {
      if (run.pcs.length === 0 && matched) break;
      if (!matched) this.add(run, this.start, cond, pos, stack);
      const nextCond = context(r, r1);
      for (let j = 0; j < run.pcs.length; j++) {
        const inst = this.prog[run.pcs[j]!]!;
        if (inst.op === Op.Match) {
          matched = [run.starts[j]!, pos];
          break; // leftmost-first: the lower-priority threads are cut
        }
        if (r >= 0 && inst.m!(r)) this.add(next, inst.out, nextCond, run.starts[j]!, stack);
      }
      if (w === 0) break;
      pos += w;
      r = r1;
      w = width(r);
      r1 = r < 0 ? -1 : runeAt(s, pos + w);
      cond = nextCond;
      [run, next] = [next, run];
      next.clear();
    }
    return matched;
  }

  /** Go's `FindString`. */
  find(s: string): string {
    const m = this.exec(s, 0);
    return m ? s.slice(m[0], m[1]) : '';
  }

  /** Go's `FindAllString(s, n)`: at most n matches (all for n < 0), no empty match right after a match. */
  findAll(s: string, n: number): string[] {
    const out: string[] = [];
    if (n < 0) n = s.length + 1;
    let pos = 0;
    let prevMatchEnd = -1;
    while (out.length < n && pos <= s.length) {
      const m = this.exec(s, pos);
      if (!m) break;
      let accept = true;
      if (m[1] === pos) {
        // An empty match: none right after the previous match; move on one rune.
        if (m[0] === prevMatchEnd) accept = false;
        pos += pos < s.length ? width(runeAt(s, pos)) : 1;
      } else {
        pos = m[1];
      }
      prevMatchEnd = m[1];
      if (accept) out.push(s.slice(m[0], m[1]));
    }
    return out;
  }
}
