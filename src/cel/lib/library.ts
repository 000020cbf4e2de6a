import type { CelFunc } from '@bufbuild/cel';

/** Static result kinds the load-time checker in compile.ts understands. */
export type StaticType = 'bool' | 'string' | 'int' | 'double' | 'list' | 'map' | 'null' | 'dyn' | 'unknown';

/**
 * One of the CEL libraries kube-apiserver's base environment has and @bufbuild/cel lacks,
 * written as @bufbuild/cel functions.
 *
 * `results` gives the static result type of each function by the name the parsed AST uses:
 * `sets.contains` for a namespaced global, `isSorted` for a method. A function whose result
 * depends on its arguments (`min`, `sum`) is 'unknown'; one that returns an opaque kube type
 * (`url`, `ip`, `cidr`, `masked`) is 'dyn': never bool, string or int, as in kube's checker.
 */
export interface CelLibrary {
  readonly name: string;
  readonly funcs: readonly CelFunc[];
  readonly results: ReadonlyMap<string, StaticType>;
}

/** A library whose every function name has a result type, and no result type a function. */
export function defineLibrary(
  name: string,
  funcs: readonly CelFunc[],
  results: Readonly<Record<string, StaticType>>,
): CelLibrary {
  const names = new Set(funcs.map((f) => f.name));
  for (const n of names) {
    if (!Object.hasOwn(results, n)) throw new Error(`CEL library ${name}: no result type for ${n}`);
  }
  for (const n of Object.keys(results)) {
    if (!names.has(n)) throw new Error(`CEL library ${name}: result type for unknown function ${n}`);
  }
  return Object.freeze({
    name,
    funcs: Object.freeze([...funcs]),
    results: new Map(Object.entries(results)) as ReadonlyMap<string, StaticType>,
  });
}
