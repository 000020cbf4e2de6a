import {
  celFunc,
  celList,
  celMap,
  CelScalar,
  isCelList,
  isCelMap,
  type CelFunc,
  type CelValue,
} from '@bufbuild/cel';
import type { Expr, NodeFactory } from './ast.js';
import { goTypeOf } from './errors.js';
import { isOptional } from './optional.js';

/**
 * cel-go's two-variable comprehensions (`ext.TwoVarComprehensions`, in kube's base
 * environment since 1.32): `all`, `exists`, `existsOne`/`exists_one`, `transformList`,
 * `transformMap` and `transformMapEntry` with an index-or-key and a value variable.
 *
 * @bufbuild/cel expands only the one-variable macros and folds over one variable. So the
 * range is turned into a list of [key, value] pairs (`@entries`), the fold runs over the
 * pairs, and each step binds the two names to the pair's halves (cel.bind's fold over
 * nothing). Accumulator, condition, step and result are cel-go's (ext/comprehensions.go).
 */

export const TWO_VAR_MACROS: ReadonlyMap<string, readonly number[]> = new Map([
  ['all', [3]],
  ['exists', [3]],
  ['existsOne', [3]],
  ['exists_one', [3]],
  ['transformList', [3, 4]],
  ['transformMap', [3, 4]],
  ['transformMapEntry', [3, 4]],
]);

export const ENTRIES = '@entries';
const MAP_INSERT = '@map_insert';
const MAP_MERGE = '@map_merge';
const ACCU = '@result';
const PAIR = '@pair';

/** The problem, cel-go's words, when the two names cannot be iteration variables. */
export function twoVarProblem(args: readonly Expr[]): { at: Expr; message: string } | undefined {
  const [a, b] = args;
  for (const arg of [a!, b!]) {
    if (arg.exprKind.case !== 'identExpr') return { at: arg, message: 'argument must be a simple name' };
  }
  const first = (a!.exprKind.value as { name: string }).name;
  const second = (b!.exprKind.value as { name: string }).name;
  if (first === second) return { at: b!, message: `duplicate variable name: ${first}` };
  for (const [arg, name] of [
    [a!, first],
    [b!, second],
  ] as const) {
    if (name === ACCU || name === '__result__') {
      return { at: arg, message: 'iteration variable overwrites accumulator variable' };
    }
  }
  return undefined;
}

/** The comprehension for `range.<macro>(k, v, ...)`; the names were checked by twoVarProblem. */
export function expandTwoVarComprehension(
  nodes: NodeFactory,
  at: Expr,
  macro: string,
  range: Expr,
  args: readonly Expr[],
): Expr['exprKind'] {
  const key = (args[0]!.exprKind.value as { name: string }).name;
  const value = (args[1]!.exprKind.value as { name: string }).name;
  const accu = (): Expr => nodes.ident(at, ACCU);
  const half = (i: bigint): Expr =>
    nodes.callNode(at, '_[_]', [nodes.ident(at, PAIR), nodes.constant(at, i)]);
  const bound = (step: Expr): Expr => nodes.bind(at, key, half(0n), nodes.bind(at, value, half(1n), step));
  const filtered = (step: Expr): Expr =>
    args.length === 4 ? nodes.callNode(at, '_?_:_', [args[2]!, step, accu()]) : step;
  const last = args[args.length - 1]!;

  let accuInit: Expr;
  let loopCondition: Expr = nodes.constant(at, true);
  let loopStep: Expr;
  let result: Expr = accu();
  switch (macro) {
    case 'all':
      accuInit = nodes.constant(at, true);
      loopCondition = nodes.callNode(at, '@not_strictly_false', [accu()]);
      loopStep = nodes.callNode(at, '_&&_', [accu(), last]);
      break;
    case 'exists':
      accuInit = nodes.constant(at, false);
      loopCondition = nodes.callNode(at, '@not_strictly_false', [nodes.callNode(at, '!_', [accu()])]);
      loopStep = nodes.callNode(at, '_||_', [accu(), last]);
      break;
    case 'existsOne':
    case 'exists_one':
      accuInit = nodes.constant(at, 0n);
      loopStep = nodes.callNode(at, '_?_:_', [
        last,
        nodes.callNode(at, '_+_', [accu(), nodes.constant(at, 1n)]),
        accu(),
      ]);
      result = nodes.callNode(at, '_==_', [accu(), nodes.constant(at, 1n)]);
      break;
    case 'transformList':
      accuInit = nodes.list(at, []);
      loopStep = filtered(nodes.callNode(at, '_+_', [accu(), nodes.list(at, [last])]));
      break;
    case 'transformMap':
      accuInit = nodes.emptyMap(at);
      loopStep = filtered(nodes.callNode(at, MAP_INSERT, [accu(), nodes.ident(at, key), last]));
      break;
    default:
      accuInit = nodes.emptyMap(at);
      loopStep = filtered(nodes.callNode(at, MAP_MERGE, [accu(), last]));
  }
  return nodes.fold(at, {
    iterVar: PAIR,
    iterRange: nodes.callNode(at, ENTRIES, [range]),
    accuVar: ACCU,
    accuInit,
    loopCondition,
    loopStep: bound(loopStep),
    result,
  });
}

type MapKey = string | bigint | boolean;

function insert(into: Map<MapKey, CelValue>, key: CelValue, value: CelValue): void {
  if (typeof key !== 'string' && typeof key !== 'bigint' && typeof key !== 'boolean') {
    throw new Error('unsupported key type');
  }
  if (into.has(key)) throw new Error(`insert failed: key ${String(key)} already exists`);
  into.set(key, value);
}

export const twoVarFuncs: readonly CelFunc[] = [
  // A list iterates as (index, value), a map as (key, value).
  celFunc(ENTRIES, [CelScalar.DYN], CelScalar.DYN, (range) => {
    const pairs: CelValue[] = [];
    if (isOptional(range)) {
      throw new Error(`unsupported comprehension range type: ${goTypeOf(range)}`);
    }
    if (isCelList(range)) {
      let i = 0n;
      for (const v of range) pairs.push(celList([i++, v]));
    } else if (isCelMap(range)) {
      for (const [k, v] of range) pairs.push(celList([k as CelValue, v]));
    } else {
      // cel-go's words (interpreter/interpretable.go evalFold), with Go's %T of the range.
      throw new Error(`unsupported comprehension range type: ${goTypeOf(range)}`);
    }
    return celList(pairs);
  }),
  // cel.@mapInsert's two overloads: a new map with one entry, or all of another map's, added;
  // a repeated key is an error.
  celFunc(MAP_INSERT, [CelScalar.DYN, CelScalar.DYN, CelScalar.DYN], CelScalar.DYN, (target, key, value) => {
    const out = copyMap(target, MAP_INSERT);
    insert(out, key, value);
    return celMap(out);
  }),
  celFunc(MAP_MERGE, [CelScalar.DYN, CelScalar.DYN], CelScalar.DYN, (target, update) => {
    const out = copyMap(target, MAP_MERGE);
    if (!isCelMap(update)) throw new Error(`no such overload: ${MAP_MERGE}`);
    for (const [k, v] of update) insert(out, k as CelValue, v);
    return celMap(out);
  }),
];

function copyMap(target: CelValue, name: string): Map<MapKey, CelValue> {
  if (!isCelMap(target)) throw new Error(`no such overload: ${name}`);
  return new Map<MapKey, CelValue>(target as ReadonlyMap<MapKey, CelValue>);
}
