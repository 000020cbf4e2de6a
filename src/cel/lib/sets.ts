/**
 * cel-go's `ext.Sets` (cel.lib.ext.sets), in kube's base environment since 1.29:
 * `sets.contains(a, b)`, `sets.equivalent(a, b)`, `sets.intersects(a, b)` over lists, with
 * CEL equality (so `sets.contains([1], [1.0, 1u])`).
 */
import { celFunc, CelScalar, listType, type CelList } from '@bufbuild/cel';
import { defineLibrary, type CelLibrary } from './library.js';
import { chargeCost, listContains } from './support.js';

const LIST = listType(CelScalar.DYN);

/* cel-go's trackSetsCost: 1 + |a|·|b|·factor. */
function charge(a: CelList, b: CelList, factor: number): void {
  chargeCost(1 + a.size * b.size * factor);
}

function contains(list: CelList, sublist: CelList): boolean {
  for (const item of sublist) if (!listContains(list, item)) return false;
  return true;
}

export const setsLibrary: CelLibrary = defineLibrary(
  'sets',
  [
    celFunc('sets.contains', [LIST, LIST], CelScalar.BOOL, (list, sublist) => {
      charge(list, sublist, 1);
      return contains(list, sublist);
    }),
    celFunc('sets.equivalent', [LIST, LIST], CelScalar.BOOL, (a, b) => {
      charge(a, b, 2);
      return contains(a, b) && contains(b, a);
    }),
    celFunc('sets.intersects', [LIST, LIST], CelScalar.BOOL, (a, b) => {
      charge(a, b, 1);
      for (const item of a) if (listContains(b, item)) return true;
      return false;
    }),
  ],
  { 'sets.contains': 'bool', 'sets.equivalent': 'bool', 'sets.intersects': 'bool' },
);
