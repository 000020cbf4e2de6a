import {
  celFunc,
  CelScalar,
  isCelList,
  isCelMap,
  isCelUint,
  type CelFunc,
  type CelValue,
} from '@bufbuild/cel';
import { celGoTypeName, goFloat, goValueText } from './errors.js';
import { isOptional } from './optional.js';

/**
 * `x[k]` as cel-go resolves it (interpreter/attributes.go `refQualify`), errors included:
 * a map answers `no such key: k`; a list takes an int, a uint or a whole double and answers
 * `index out of bounds: k` past its end, `unsupported index type/value` for other keys;
 * anything else (string, number, null...) is `no such key: k`. @bufbuild/cel's own access
 * says `index k out of bounds [0, -1)` for all of these. The checker in compile.ts points every
 * `_[_]` that is not optional (`x[?k]`) at this function.
 */
export const KUBE_INDEX = '@index';

const MAX_INT64_AS_DOUBLE = 2 ** 63;
const MAX_INT64 = 2n ** 63n - 1n;

/** cel-go's `types.IndexOrError`. */
function listIndex(key: CelValue): number {
  if (typeof key === 'bigint') return Number(key);
  if (isCelUint(key)) {
    if (key.value > MAX_INT64) throw new Error(`unsupported index value ${key.value} in list`);
    return Number(key.value);
  }
  if (typeof key === 'number') {
    if (Number.isInteger(key) && key >= -MAX_INT64_AS_DOUBLE && key < MAX_INT64_AS_DOUBLE) return key;
    throw new Error(`unsupported index value ${goFloat(key)} in list`);
  }
  throw new Error(`unsupported index type '${celGoTypeName(key)}' in list`);
}

function index(operand: CelValue, key: CelValue): CelValue {
  if (isOptional(operand)) throw new Error(`no such key: ${goValueText(key)}`);
  if (isCelMap(operand)) {
    const v = operand.get(key as never) as CelValue | undefined;
    if (v === undefined) throw new Error(`no such key: ${goValueText(key)}`);
    return v;
  }
  if (isCelList(operand)) {
    const i = listIndex(key);
    if (i < 0 || i >= operand.size) throw new Error(`index out of bounds: ${goValueText(key)}`);
    return operand.get(i) as CelValue;
  }
  throw new Error(`no such key: ${goValueText(key)}`);
}

export const indexFuncs: readonly CelFunc[] = [
  celFunc(KUBE_INDEX, [CelScalar.DYN, CelScalar.DYN], CelScalar.DYN, index),
];
