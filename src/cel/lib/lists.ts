/**
 * kube's `library.Lists` (kubernetes.lists, version 0 as the base environment has it):
 * `isSorted()`, `sum()`, `min()`, `max()`, `indexOf(x)`, `lastIndexOf(x)` on lists.
 *
 * kube declares one overload per element type (`list(int).sum()`, `list(string).min()`...);
 * for a list whose type is only known at run time (a claim) cel-go picks the overload by the
 * first element's type, so that is what happens here: the first element decides the kind
 * (an empty list is `list(int)`: `[].sum()` is 0), a first element of no such type is
 * "no such overload: sum(list)", and a later element of another type is cel-go's
 * "no such overload" (sum) or is skipped by the comparison (isSorted, min, max), as cel-go's
 * `Compare` errors are.
 */
import { celMethod, CelScalar, listType, type CelList, type CelValue } from '@bufbuild/cel';
import { defineLibrary, type CelLibrary } from './library.js';
import { add, celEquals, compare, isComparable, summableKind, zeroOf } from './support.js';

const LIST = listType(CelScalar.DYN);
const { BOOL, DYN, INT } = CelScalar;

function noOverload(name: string): Error {
  return new Error(`no such overload: ${name}(list)`);
}

/** The first element, which must be comparable (cel-go's dispatch on it). */
function checkComparable(list: CelList, name: string): void {
  const first = list.get(0);
  if (first !== undefined && !isComparable(first)) throw noOverload(name);
}

function isSorted(this: CelList): boolean {
  checkComparable(this, 'isSorted');
  let prev: CelValue | undefined;
  for (const next of this) {
    if (!isComparable(next)) throw new Error('no such overload');
    if (prev !== undefined && compare(prev, next) === 1) return false;
    prev = next;
  }
  return true;
}

function sum(this: CelList): CelValue {
  const first = this.get(0);
  if (first === undefined) return 0n;
  const kind = summableKind(first);
  if (kind === undefined) throw noOverload('sum');
  let acc = zeroOf(kind);
  for (const next of this) acc = add(acc, next);
  return acc;
}

/** min keeps the element the running result compares greater than; max, less than. */
function extreme(name: 'min' | 'max', replaceWhen: 1 | -1) {
  return function (this: CelList): CelValue {
    if (this.size === 0) throw new Error(`${name} called on empty list`);
    checkComparable(this, name);
    let result: CelValue | undefined;
    for (const next of this) {
      if (!isComparable(next)) throw new Error('no such overload');
      if (result === undefined || compare(result, next) === replaceWhen) result = next;
    }
    return result!;
  };
}

function indexOf(this: CelList, item: CelValue): bigint {
  for (let i = 0; i < this.size; i++) if (celEquals(this.get(i)!, item)) return BigInt(i);
  return -1n;
}

function lastIndexOf(this: CelList, item: CelValue): bigint {
  for (let i = this.size - 1; i >= 0; i--) if (celEquals(this.get(i)!, item)) return BigInt(i);
  return -1n;
}

export const listsLibrary: CelLibrary = defineLibrary(
  'lists',
  [
    celMethod('isSorted', LIST, [], BOOL, isSorted),
    celMethod('sum', LIST, [], DYN, sum),
    celMethod('min', LIST, [], DYN, extreme('min', 1)),
    celMethod('max', LIST, [], DYN, extreme('max', -1)),
    celMethod('indexOf', LIST, [DYN], INT, indexOf),
    celMethod('lastIndexOf', LIST, [DYN], INT, lastIndexOf),
  ],
  {
    isSorted: 'bool',
    sum: 'unknown',
    min: 'unknown',
    max: 'unknown',
    indexOf: 'int',
    lastIndexOf: 'int',
  },
);
