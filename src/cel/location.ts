import type { Expr } from './ast.js';
import { skipString } from './optional-syntax.js';

/**
 * Where cel-go's parser places a node, for the `<input>:L:C` and caret of a compile error.
 * @bufbuild/cel's offsets agree for identifiers, literals, selects (the `.`) and indexes
 * (the `[`), but not for calls and operators: cel-go puts a call at its `(` (`x.f(` and
 * `f(`), a binary operator at its token, a ternary at its `?` and a chain of `&&` or `||` at
 * its middle operator, where @bufbuild/cel has the `.`, the function name, the end of the
 * left operand and the start of the condition or chain.
 * `source` is the source the parser read (optional markers blanked, offsets unchanged).
 */

const BINARY_TOKENS: ReadonlyMap<string, string> = new Map([
  ['_+_', '+'],
  ['_-_', '-'],
  ['_*_', '*'],
  ['_/_', '/'],
  ['_%_', '%'],
  ['_==_', '=='],
  ['_!=_', '!='],
  ['_<_', '<'],
  ['_<=_', '<='],
  ['_>_', '>'],
  ['_>=_', '>='],
  ['@in', 'in'],
]);

/** Operators @bufbuild/cel already places as cel-go does. */
const PLACED = new Set(['_[_]', '!_', '-_']);

const IDENT_PART = /[A-Za-z0-9_]/;

function skipSpace(src: string, i: number): number {
  while (i < src.length) {
    if (/\s/.test(src[i]!)) i++;
    else if (src.startsWith('//', i)) while (i < src.length && src[i] !== '\n') i++;
    else break;
  }
  return i;
}

/** The ternary's `?` after its condition, which starts at `from`: the first `?` outside brackets and literals. */
function ternaryMark(src: string, from: number): number | undefined {
  let depth = 0;
  let i = from;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      i = skipString(src, i, /[rR]/.test(src[i - 1] ?? '') || /[rR][bB]|[bB][rR]/.test(src.slice(i - 2, i)));
      continue;
    }
    if (src.startsWith('//', i)) {
      i = skipSpace(src, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === '?' && depth === 0) return i;
    i++;
  }
  return undefined;
}

/**
 * cel-go's place for a chain `a || b || c` (or of `&&`) that starts at `from`: the parser
 * balances the chain, so its root is the operator in the middle (of n operators, the one at
 * index ⌊n/2⌋). The chain ends at a `?`, `:` or `,`, a closing bracket, or (for `&&`) `||`.
 */
function chainRoot(src: string, from: number, token: string): number | undefined {
  const ops: number[] = [];
  let depth = 0;
  let i = from;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      i = skipString(src, i, /[rR]/.test(src[i - 1] ?? ''));
      continue;
    }
    if (src.startsWith('//', i)) {
      i = skipSpace(src, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth < 0) break;
    } else if (depth === 0) {
      if (c === '?' || c === ':' || c === ',') break;
      if (src.startsWith(token, i)) {
        ops.push(i);
        i += token.length;
        continue;
      }
      if (token === '&&' && src.startsWith('||', i)) break;
    }
    i++;
  }
  return ops[Math.floor(ops.length / 2)];
}

/** cel-go's source offset for `e`, whose @bufbuild/cel offset is `at`. Call before the checker rewrites `e`. */
export function celGoOffset(source: string, e: Expr, at: number): number {
  if (e.exprKind.case !== 'callExpr') return at;
  const fn = e.exprKind.value.function;
  if (PLACED.has(fn)) return at;
  const token = BINARY_TOKENS.get(fn);
  if (token !== undefined) {
    const i = skipSpace(source, at);
    return source.startsWith(token, i) ? i : at;
  }
  if (fn === '_?_:_') return ternaryMark(source, at) ?? at;
  if (fn === '_&&_' || fn === '_||_') return chainRoot(source, at, fn === '_&&_' ? '&&' : '||') ?? at;
  // A call: `x.f (` or `ns.f (` from the `.`, `f (` from the name.
  let i = source[at] === '.' ? skipSpace(source, at + 1) : at;
  while (i < source.length && IDENT_PART.test(source[i]!)) i++;
  i = skipSpace(source, i);
  return source[i] === '(' ? i : at;
}
