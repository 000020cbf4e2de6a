import {
  celFunc,
  celList,
  celMap,
  celMethod,
  CelScalar,
  celType,
  isCelList,
  isCelMap,
  isCelUint,
  listType,
  type CelFunc,
  type CelList,
  type CelValue,
} from '@bufbuild/cel';

/**
 * cel-go's optional values (`cel.OptionalTypes()`, which kube's base environment enables)
 * for @bufbuild/cel, which has none. An optional is a list of zero or one element whose
 * identity is recorded here: claims never produce these objects, so no data can pass for
 * an optional, and list equality gives the spec's `optional.of(1) == optional.of(1)`.
 *
 * The operators the parser cannot produce get internal `@` names (the planner reserves
 * cel-go's own `_?._` and `_[?_]` for an attribute access that yields no optional); the
 * checker in compile.ts rewrites the tree to call them.
 */

const OPTIONALS = new WeakSet<object>();

export const NONE: CelList = celList([]);
OPTIONALS.add(NONE);

export function optionalOf(value: CelValue): CelList {
  const o = celList([value]);
  OPTIONALS.add(o);
  return o;
}

export function isOptional(value: unknown): value is CelList {
  return typeof value === 'object' && value !== null && OPTIONALS.has(value);
}

export const OPT_SELECT = '@optional_select';
export const OPT_INDEX = '@optional_index';
export const OPT_HAS = '@has_optional';
export const OPT_LIST = '@optional_list';
export const OPT_MAP = '@optional_map';

function noOverload(name: string): Error {
  return new Error(`no such overload: ${name}`);
}

/** The value inside an optional operand, or `undefined` for `optional.none()`. */
function unwrapOperand(operand: CelValue): CelValue | undefined {
  if (!isOptional(operand)) return operand;
  return operand.size === 0 ? undefined : operand.get(0);
}

function selectOptional(operand: CelValue, field: string): CelValue {
  const inner = unwrapOperand(operand);
  if (inner === undefined) return NONE;
  if (isCelMap(inner)) {
    const v = inner.get(field);
    return v === undefined ? NONE : optionalOf(v);
  }
  throw new Error(`no such key: ${field}`);
}

function indexOptional(operand: CelValue, key: CelValue): CelValue {
  const inner = unwrapOperand(operand);
  if (inner === undefined) return NONE;
  if (isCelMap(inner)) {
    if (
      typeof key !== 'string' &&
      typeof key !== 'bigint' &&
      typeof key !== 'boolean' &&
      typeof key !== 'number' &&
      !isCelUint(key)
    ) {
      throw noOverload(OPT_INDEX);
    }
    const v = inner.get(key);
    return v === undefined ? NONE : optionalOf(v);
  }
  if (isCelList(inner)) {
    let i: number;
    if (typeof key === 'bigint') i = Number(key);
    else if (typeof key === 'number' && Number.isInteger(key)) i = key;
    else if (isCelUint(key)) i = Number(key.value);
    else throw noOverload(OPT_INDEX);
    const v = i >= 0 && i < inner.size ? inner.get(i) : undefined;
    return v === undefined ? NONE : optionalOf(v);
  }
  throw noOverload(OPT_INDEX);
}

/** `has(o.f)` on an optional `o`: false for none, else presence in the held map. */
function hasOptional(operand: CelValue, field: string): boolean {
  const inner = unwrapOperand(operand);
  if (inner === undefined) return false;
  if (isCelMap(inner)) return inner.has(field);
  throw noOverload('has');
}

function isZero(v: CelValue): boolean {
  if (v === null || v === false || v === '' || v === 0 || v === 0n) return true;
  if (isCelUint(v)) return v.value === 0n;
  if (v instanceof Uint8Array) return v.length === 0;
  if (isCelList(v) || isCelMap(v)) return v.size === 0;
  return false;
}

function requireOptional(target: CelValue, name: string): CelList {
  if (!isOptional(target)) throw noOverload(name);
  return target;
}

/** A method of optionals called on another value: @bufbuild/cel's words, which kubeEvalError rewrites to cel-go's. */
function requireOptionalReceiver(target: CelValue, name: string, args: readonly CelValue[]): CelList {
  if (isOptional(target)) return target;
  const types = args.map((a) => celType(a).name).join(', ');
  throw new Error(`found no matching overload for '${name}' applied to '${celType(target).name}.(${types})'`);
}

const DYN = CelScalar.DYN;

export const optionalFuncs: readonly CelFunc[] = [
  celFunc(OPT_SELECT, [DYN, CelScalar.STRING], DYN, selectOptional),
  celFunc(OPT_INDEX, [DYN, DYN], DYN, indexOptional),
  celFunc(OPT_HAS, [DYN, CelScalar.STRING], CelScalar.BOOL, hasOptional),
  celFunc('optional.of', [DYN], DYN, (v) => optionalOf(v)),
  celFunc('optional.none', [], DYN, () => NONE),
  celFunc('optional.ofNonZeroValue', [DYN], DYN, (v) => (isZero(v) ? NONE : optionalOf(v))),
  celFunc('optional.unwrap', [listType(DYN)], DYN, (l) => unwrapList(l, 'optional.unwrap')),
  celMethod('unwrapOpt', listType(DYN), [], DYN, function (this: CelList) {
    return unwrapList(this, 'unwrapOpt');
  }),
  celMethod('hasValue', DYN, [], CelScalar.BOOL, function (this: CelValue) {
    return requireOptionalReceiver(this, 'hasValue', []).size > 0;
  }),
  celMethod('value', DYN, [], DYN, function (this: CelValue) {
    const o = requireOptionalReceiver(this, 'value', []);
    if (o.size === 0) throw new Error('optional.none() dereference');
    return o.get(0)!;
  }),
  celMethod('orValue', DYN, [DYN], DYN, function (this: CelValue, fallback: CelValue) {
    const o = requireOptionalReceiver(this, 'orValue', [fallback]);
    return o.size > 0 ? o.get(0)! : fallback;
  }),
  celMethod('or', DYN, [DYN], DYN, function (this: CelValue, other: CelValue) {
    const o = requireOptionalReceiver(this, 'or', [other]);
    if (o.size > 0) return o;
    return requireOptional(other, 'or');
  }),
  celFunc(OPT_LIST, [listType(DYN), listType(DYN)], DYN, (elements, optional) => {
    const out: CelValue[] = [];
    for (let i = 0; i < elements.size; i++) {
      const e = elements.get(i)!;
      if (optional.get(i) !== true) out.push(e);
      else if (requireOptional(e, 'optional list element').size > 0) out.push((e as CelList).get(0)!);
    }
    return celList(out);
  }),
  celFunc(OPT_MAP, [listType(DYN), listType(DYN), listType(DYN)], DYN, (keys, values, optional) => {
    const out = new Map<string | bigint | boolean, CelValue>();
    for (let i = 0; i < keys.size; i++) {
      const k = keys.get(i)!;
      if (typeof k !== 'string' && typeof k !== 'bigint' && typeof k !== 'boolean') {
        throw new Error('unsupported key type');
      }
      if (out.has(k)) throw new Error(`Failed with repeated key: ${String(k)}`);
      let v = values.get(i)!;
      if (optional.get(i) === true) {
        const o = requireOptional(v, 'optional map entry');
        if (o.size === 0) continue;
        v = o.get(0)!;
      }
      out.set(k, v);
    }
    return celMap(out);
  }),
];

function unwrapList(list: CelList, name: string): CelList {
  const out: CelValue[] = [];
  for (const item of list) {
    const o = requireOptional(item, name);
    if (o.size > 0) out.push(o.get(0)!);
  }
  return celList(out);
}
