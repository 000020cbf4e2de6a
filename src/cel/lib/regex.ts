/**
 * kube's `library.Regex` (kubernetes.regex): `s.find(re)`, `s.findAll(re)` and
 * `s.findAll(re, n)`, with Go's RE2 semantics (see re2.ts). An invalid pattern is kube's
 * run-time error `Illegal regex: error parsing regexp: ...`; kube reports a constant invalid
 * pattern when the program is built, and `regexError` lets the load-time checker do so too.
 * `findAll`'s list is a Go `[]string` in kube (`types.NewStringList`), which kube's
 * claim mappings refuse: see string-lists.ts.
 */
import { celMethod, CelScalar, listType } from '@bufbuild/cel';
import { goStringList } from '../string-lists.js';
import { defineLibrary, type CelLibrary } from './library.js';
import { GoRegexp } from './re2.js';

const CACHE_SIZE = 256;
const cache = new Map<string, GoRegexp | Error>();

function compiled(pattern: string): GoRegexp | Error {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = GoRegexp.compile(pattern);
    } catch (err) {
      re = err instanceof Error ? err : new Error(String(err));
    }
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(pattern, re);
  }
  return re;
}

/**
 * Why `pattern` cannot be compiled, worded as Go's `regexp.Compile` error
 * ("error parsing regexp: missing closing ): `(`"), or undefined when it can.
 */
export function regexError(pattern: string): string | undefined {
  const re = compiled(pattern);
  return re instanceof Error ? re.message : undefined;
}

function compile(pattern: string): GoRegexp {
  const re = compiled(pattern);
  if (re instanceof Error) throw new Error(`Illegal regex: ${re.message}`);
  return re;
}

const { STRING, INT } = CelScalar;
const LIST_STRING = listType(STRING);

export const regexLibrary: CelLibrary = defineLibrary(
  'regex',
  [
    celMethod('find', STRING, [STRING], STRING, function (pattern) {
      return compile(pattern).find(this);
    }),
    celMethod('findAll', STRING, [STRING], LIST_STRING, function (pattern) {
      return goStringList(compile(pattern).findAll(this, -1));
    }),
    celMethod('findAll', STRING, [STRING, INT], LIST_STRING, function (pattern, n) {
      // Go's int(n): a limit beyond the string's length is no limit.
      const limit = n < 0n ? -1 : n > BigInt(this.length) ? this.length + 1 : Number(n);
      return goStringList(compile(pattern).findAll(this, limit));
    }),
  ],
  { find: 'string', findAll: 'list' },
);
