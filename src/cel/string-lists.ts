import {
  celFunc,
  celList,
  celListConcat,
  celMethod,
  CelScalar,
  listType,
  type CelFunc,
  type CelList,
} from '@bufbuild/cel';

/**
 * The lists cel-go holds as a Go `[]string`: what the strings extension's `split`, kube's
 * regex `findAll` and the values of kube's URL `getQuery()` return. kube's
 * `convertCELValueToStringList` (the groups and extra mappings) takes a list only when its
 * Go value is `[]interface{}` or `[]ref.Val`, so it refuses these with `expression must
 * return a string or a list of strings`, although they hold strings. Every other list
 * (literals, JSON claims, comprehension results, the lists extension) passes.
 *
 * Such a list is marked here by identity. What passes the value through unchanged keeps
 * the mark, as in cel-go: `dyn(l)`, a ternary, `optional.of(l).value()`, `[l][0]`, and `+`
 * with an empty list (cel-go's concatenation returns the other operand). What builds a new
 * list (`l.map(x, x)`, `l + ['x']`, `l.sort()`) does not.
 */
const GO_STRING_LISTS = new WeakSet<object>();

/** A list whose cel-go value would be a Go `[]string`. */
export function goStringList(values: readonly string[]): CelList {
  const list = celList([...values]);
  GO_STRING_LISTS.add(list);
  return list;
}

export function isGoStringList(value: unknown): boolean {
  return typeof value === 'object' && value !== null && GO_STRING_LISTS.has(value);
}

/** Go's `strings.SplitN(s, sep, n)` (`strings.Split` is n = -1); separators and runes as Go counts them. */
export function goSplitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const runes = Array.from(s);
    if (n < 0 || n > runes.length) n = runes.length;
    if (n === 0) return [];
    return [...runes.slice(0, n - 1), runes.slice(n - 1).join('')];
  }
  const out: string[] = [];
  let rest = s;
  while (n < 0 || out.length < n - 1) {
    const m = rest.indexOf(sep);
    if (m < 0) break;
    out.push(rest.slice(0, m));
    rest = rest.slice(m + sep.length);
  }
  out.push(rest);
  return out;
}

const { STRING, INT } = CelScalar;
const LIST_STRING = listType(STRING);
const LIST = listType(CelScalar.DYN);

/**
 * The strings extension's `split` as cel-go's (Go's `strings.Split`/`SplitN`: a limit keeps
 * the rest of the string in the last item, `''` splits into runes), and list `+` as cel-go's
 * (an empty operand gives the other list back). They replace @bufbuild/cel's functions of the
 * same signatures.
 */
export const stringListFuncs: readonly CelFunc[] = [
  celMethod('split', STRING, [STRING], LIST_STRING, function (sep) {
    return goStringList(goSplitN(this, sep, -1));
  }),
  celMethod('split', STRING, [STRING, INT], LIST_STRING, function (sep, n) {
    const limit = n < -1n ? -1 : n > BigInt(this.length) + 1n ? this.length + 1 : Number(n);
    return goStringList(goSplitN(this, sep, limit));
  }),
  celFunc('_+_', [LIST, LIST], LIST, (a, b) => (a.size === 0 ? b : b.size === 0 ? a : celListConcat(a, b))),
];
