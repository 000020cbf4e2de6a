/**
 * cel-go's `ext.Lists` at version 3 (cel.lib.ext.lists): `lists.range(n)`,
 * `l.slice(from, to)`, `l.flatten()`, `l.flatten(depth)`, `l.distinct()`, `l.reverse()`,
 * `l.sort()`, and `@sortByAssociatedKeys`, which the checker in compile.ts expands `sortBy`
 * into. Not here: `first()`/`last()` (version 4).
 *
 * cel-go's cost trackers for these (output size; depth × size for flatten; 2·n² for
 * distinct and sort) are charged against kube's per-call limit, so a call kube stops for
 * its cost alone fails here too instead of taking the process's time or memory.
 */
import {
  celFunc,
  celMethod,
  CelScalar,
  isCelList,
  listType,
  type CelList,
  type CelValue,
} from '@bufbuild/cel';
import { defineLibrary, type CelLibrary } from './library.js';
import { celEquals, chargeCost, compare, isComparable, typeName } from './support.js';

const LIST = listType(CelScalar.DYN);
const { INT } = CelScalar;

/* cel-go's trackAllocatingListCall: size × factor + call + list creation. */
function chargeList(size: number, factor = 1): void {
  chargeCost(size * factor + 1 + 10);
}

/* cel-go's trackListSelfCompare: 2·n² (2.1·n² for strings and bytes). */
function chargeSelfCompare(list: CelList): void {
  const first = list.get(0);
  const factor = typeof first === 'string' || first instanceof Uint8Array ? 2.1 : 2;
  chargeList(list.size * list.size, factor);
}

function range(n: bigint): bigint[] {
  if (n <= 0n) return [];
  chargeList(Number(n));
  return Array.from({ length: Number(n) }, (_, i) => BigInt(i));
}

function slice(this: CelList, start: bigint, end: bigint): CelValue[] {
  if (start < 0n || end < 0n) {
    throw new Error(`cannot slice(${start}, ${end}), negative indexes not supported`);
  }
  if (start > end) {
    throw new Error(`cannot slice(${start}, ${end}), start index must be less than or equal to end index`);
  }
  if (BigInt(this.size) < end) throw new Error(`cannot slice(${start}, ${end}), list is length ${this.size}`);
  const out: CelValue[] = [];
  for (let i = Number(start); i < Number(end); i++) out.push(this.get(i)!);
  return out;
}

function flattenInto(out: CelValue[], list: CelList, depth: bigint): void {
  for (const v of list) {
    if (isCelList(v) && depth > 0n) flattenInto(out, v, depth - 1n);
    else out.push(v);
  }
}

function flatten(list: CelList, depth: bigint): CelValue[] {
  if (depth < 0n) throw new Error('level must be non-negative');
  chargeList(list.size, Number(depth));
  const out: CelValue[] = [];
  flattenInto(out, list, depth);
  return out;
}

function distinct(this: CelList): CelValue[] {
  chargeSelfCompare(this);
  const out: CelValue[] = [];
  for (const v of this) if (!out.some((u) => celEquals(v, u))) out.push(v);
  return out;
}

function reverse(this: CelList): CelValue[] {
  return [...this].reverse();
}

/**
 * cel-go's sortListByAssociatedKeys: `list` ordered by `keys`, which must be comparable and
 * of one type (Go's sort is stable for the short lists claims hold).
 */
function sortByKeys(list: readonly CelValue[], keys: readonly CelValue[]): CelValue[] {
  if (list.length !== keys.length) {
    throw new Error(
      `@sortByAssociatedKeys() expected a list of the same size as the associated keys list, but got ${list.length} and ${keys.length} elements respectively`,
    );
  }
  if (list.length === 0) return [];
  const first = keys[0]!;
  if (!isComparable(first)) throw new Error('list elements must be comparable');
  const type = typeName(first);
  if (keys.length > 1 && keys.some((v) => typeName(v) !== type)) {
    throw new Error('list elements must have the same type');
  }
  const order = keys.map((_, i) => i).sort((i, j) => compare(keys[i]!, keys[j]!) ?? 0);
  return order.map((i) => list[i]!);
}

function sort(this: CelList): CelValue[] {
  chargeSelfCompare(this);
  const items = [...this];
  return sortByKeys(items, items);
}

/** The function cel-go's `sortBy` macro calls. */
export const SORT_BY_KEYS = '@sortByAssociatedKeys';

export const extListsLibrary: CelLibrary = defineLibrary(
  'ext.lists',
  [
    celFunc('lists.range', [INT], listType(INT), range),
    celMethod('slice', LIST, [INT, INT], LIST, slice),
    celMethod('flatten', LIST, [], LIST, function () {
      return flatten(this, 1n);
    }),
    celMethod('flatten', LIST, [INT], LIST, function (depth) {
      return flatten(this, depth);
    }),
    celMethod('distinct', LIST, [], LIST, distinct),
    celMethod('reverse', LIST, [], LIST, reverse),
    celMethod('sort', LIST, [], LIST, sort),
    celMethod(SORT_BY_KEYS, LIST, [LIST], LIST, function (keys) {
      chargeSelfCompare(keys);
      return sortByKeys([...this], [...keys]);
    }),
  ],
  {
    'lists.range': 'list',
    slice: 'list',
    flatten: 'list',
    distinct: 'list',
    reverse: 'list',
    sort: 'list',
    [SORT_BY_KEYS]: 'list',
  },
);
