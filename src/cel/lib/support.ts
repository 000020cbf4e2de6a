/**
 * What the libraries share: cel-go's value semantics (equality, ordering, addition) over
 * @bufbuild/cel values, Go's `strconv.Quote`, and a guard for calls whose cost alone is
 * past kube's per-call limit.
 */
import {
  celEnv,
  celMethod,
  CelScalar,
  celType,
  celUint,
  isCelUint,
  type CelFunc,
  type CelType,
  type CelUint,
  type CelValue,
} from '@bufbuild/cel';
import { create } from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { DurationSchema } from '@bufbuild/protobuf/wkt';

const DURATION = 'google.protobuf.Duration';
const TIMESTAMP = 'google.protobuf.Timestamp';

/** The evaluator's own `==` (heterogeneous numbers, deep lists and maps), so `indexOf` agrees with `in`. */
const STD_EQUALS = celEnv().funcs.find('_==_');

/** cel-go's `Equal(...) == types.True`. */
export function celEquals(a: CelValue, b: CelValue): boolean {
  return STD_EQUALS?.call(0, undefined, [a, b]) === true;
}

/** cel-go's `traits.Lister.Contains`: some element equals `v`. */
export function listContains(list: Iterable<CelValue>, v: CelValue): boolean {
  for (const item of list) if (celEquals(v, item)) return true;
  return false;
}

function messageType(v: CelValue): string | undefined {
  return isReflectMessage(v) ? v.desc.typeName : undefined;
}

/** A `google.protobuf.Duration` or `Timestamp` as nanoseconds (Go's `time.Duration` / Unix nanos). */
function nanos(v: ReflectMessage): bigint {
  const m = v.message as unknown as { seconds: bigint; nanos: number };
  return m.seconds * 1_000_000_000n + BigInt(m.nanos);
}

/** cel-go's `traits.Comparer`: int, uint, double, bool, string, bytes, duration, timestamp. */
export function isComparable(v: CelValue): boolean {
  switch (typeof v) {
    case 'bigint':
    case 'number':
    case 'boolean':
    case 'string':
      return true;
  }
  if (v instanceof Uint8Array || isCelUint(v)) return true;
  const t = messageType(v);
  return t === DURATION || t === TIMESTAMP;
}

/* Go's float64(math.MaxInt64), float64(math.MinInt64) and float64(math.MaxUint64). */
const MAX_INT64_AS_DOUBLE = 2 ** 63;
const MIN_INT64_AS_DOUBLE = -(2 ** 63);
const MAX_UINT64_AS_DOUBLE = 2 ** 64;
const MAX_INT64 = 9223372036854775807n;

function sign(n: number | bigint): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareDoubleInt(d: number, i: bigint): -1 | 0 | 1 {
  if (d < MIN_INT64_AS_DOUBLE) return -1;
  if (d > MAX_INT64_AS_DOUBLE) return 1;
  return sign(d - Number(i));
}

function compareDoubleUint(d: number, u: bigint): -1 | 0 | 1 {
  if (d < 0) return -1;
  if (d > MAX_UINT64_AS_DOUBLE) return 1;
  return sign(d - Number(u));
}

function compareIntUint(i: bigint, u: bigint): -1 | 0 | 1 {
  if (i < 0n || u > MAX_INT64) return -1;
  return sign(i - u);
}

/** Go's `strings.Compare`: UTF-8 byte order, which is code point order (not UTF-16 order). */
export function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return sign(a.length - b.length);
}

/**
 * cel-go's `Compare`: -1, 0 or 1, or undefined where cel-go answers an error (different
 * types, a NaN). Numbers compare across int, uint and double as cel-go does.
 */
export function compare(a: CelValue, b: CelValue): -1 | 0 | 1 | undefined {
  if (typeof a === 'bigint') {
    if (typeof b === 'bigint') return sign(a - b);
    if (isCelUint(b)) return compareIntUint(a, b.value);
    if (typeof b === 'number') return Number.isNaN(b) ? undefined : sign(-compareDoubleInt(b, a));
    return undefined;
  }
  if (isCelUint(a)) {
    if (isCelUint(b)) return sign(a.value - b.value);
    if (typeof b === 'bigint') return sign(-compareIntUint(b, a.value));
    if (typeof b === 'number') return Number.isNaN(b) ? undefined : sign(-compareDoubleUint(b, a.value));
    return undefined;
  }
  if (typeof a === 'number') {
    if (Number.isNaN(a)) return undefined;
    if (typeof b === 'number') return Number.isNaN(b) ? undefined : sign(a - b);
    if (typeof b === 'bigint') return compareDoubleInt(a, b);
    if (isCelUint(b)) return compareDoubleUint(a, b.value);
    return undefined;
  }
  if (typeof a === 'boolean') return typeof b === 'boolean' ? sign(Number(a) - Number(b)) : undefined;
  if (typeof a === 'string') return typeof b === 'string' ? compareStrings(a, b) : undefined;
  if (a instanceof Uint8Array) return b instanceof Uint8Array ? compareBytes(a, b) : undefined;
  const ta = messageType(a);
  if ((ta === DURATION || ta === TIMESTAMP) && messageType(b) === ta) {
    return sign(nanos(a as ReflectMessage) - nanos(b as ReflectMessage));
  }
  return undefined;
}

/** The name cel-go's `Type()` would give, for "list elements must have the same type". */
export function typeName(v: CelValue): string {
  return celType(v).name;
}

const MIN_INT64 = -9223372036854775808n;
const MAX_UINT64 = 18446744073709551615n;

function durationOf(totalNanos: bigint): ReflectMessage {
  const seconds = totalNanos / 1_000_000_000n;
  const rest = Number(totalNanos % 1_000_000_000n);
  return reflect(DurationSchema, create(DurationSchema, { seconds, nanos: rest }));
}

/** The kinds `sum()` adds: cel-go's int, uint, double and duration `Adder`s. */
export type Summable = 'int' | 'uint' | 'double' | 'duration';

export function summableKind(v: CelValue): Summable | undefined {
  if (typeof v === 'bigint') return 'int';
  if (isCelUint(v)) return 'uint';
  if (typeof v === 'number') return 'double';
  return messageType(v) === DURATION ? 'duration' : undefined;
}

export function zeroOf(kind: Summable): CelValue {
  switch (kind) {
    case 'int':
      return 0n;
    case 'uint':
      return celUint(0n);
    case 'double':
      return 0;
    case 'duration':
      return durationOf(0n);
  }
}

/**
 * cel-go's `Add` for two values of the same summable kind: checked int64 and uint64
 * arithmetic, durations as int64 nanoseconds. A different kind is "no such overload".
 */
export function add(a: CelValue, b: CelValue): CelValue {
  const kind = summableKind(a);
  if (kind === undefined || summableKind(b) !== kind) throw new Error('no such overload');
  switch (kind) {
    case 'int': {
      const r = (a as bigint) + (b as bigint);
      if (r > MAX_INT64 || r < MIN_INT64) throw new Error('integer overflow');
      return r;
    }
    case 'uint': {
      const r = (a as CelUint).value + (b as CelUint).value;
      if (r > MAX_UINT64) throw new Error('unsigned integer overflow');
      return celUint(r);
    }
    case 'double':
      return (a as number) + (b as number);
    case 'duration': {
      const r = nanos(a as ReflectMessage) + nanos(b as ReflectMessage);
      if (r > MAX_INT64 || r < MIN_INT64) throw new Error('integer overflow');
      return durationOf(r);
    }
  }
}

/** kube's `celconfig.PerCallLimit`: the runtime cost one expression may spend. */
export const PER_CALL_LIMIT = 1_000_000;

/**
 * cel-go stops an evaluation whose cost passes the limit. tokenwarden tracks no cost, but a
 * call whose cost alone passes it (a `lists.range(10000000)`, a quadratic `distinct()` of a
 * long list) fails in kube whatever the rest of the expression costs, and would otherwise
 * let one expression take the process's memory or time.
 */
export function chargeCost(cost: number): void {
  if (cost > PER_CALL_LIMIT) throw new Error('operation cancelled: actual cost limit exceeded');
}

/** kube's `isGreaterThan`, `isLessThan` and `compareTo` on one of its types, from a three-way comparison. */
export function comparisonMethods(
  type: CelType,
  cmp: (self: CelValue, other: CelValue) => -1 | 0 | 1,
): CelFunc[] {
  return [
    celMethod('isGreaterThan', type, [type], CelScalar.BOOL, function (other) {
      return cmp(this, other) === 1;
    }),
    celMethod('isLessThan', type, [type], CelScalar.BOOL, function (other) {
      return cmp(this, other) === -1;
    }),
    celMethod('compareTo', type, [type], CelScalar.INT, function (other) {
      return BigInt(cmp(this, other));
    }),
  ];
}
