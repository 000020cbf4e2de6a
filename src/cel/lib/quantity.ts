/**
 * kube's `library.Quantity` (kubernetes.Quantity), in the base environment since 1.28:
 * `quantity(s)`, `isQuantity(s)`, `sign(q)` (a global function in kube, not a method) and the
 * methods `isInteger()`, `asInteger()`, `asApproximateFloat()`, `add(q|int)`, `sub(q|int)`,
 * `isGreaterThan(q)`, `isLessThan(q)`, `compareTo(q)`, over a port of k8s.io/apimachinery's
 * `resource.Quantity` (v0.37.2: quantity.go, amount.go, suffix.go, math.go) and of the parts
 * of gopkg.in/inf.v0's `Dec` it uses, with BigInt for the arbitrary precision.
 *
 * A quantity is held as resource holds it, an int64 mantissa with a base-10 scale (its fast
 * path) or an `inf.Dec`, because that choice shows: `asInteger()` fails for any `inf.Dec`
 * (`quantity('1.5Gi').isInteger()` is false), `asApproximateFloat()` rounds the unscaled value
 * first. Go's int32 scale arithmetic wraps as in Go, and where resource divides by zero
 * (comparing scales more than 2^31 apart) the error is cel-go's "internal error" for that
 * panic. Like kube, `compareTo`, `isLessThan` and `isGreaterThan` turn an int64 receiver into
 * an `inf.Dec` when the operand is one (resource's `Cmp` calls `AsDec` on its receiver), so
 * `x.compareTo(quantity('1.5Gi'))` leaves `x.isInteger()` false afterwards.
 *
 * Two quantities are equal when `Cmp` says so; the opaque value's identity (see opaque.ts) is
 * the exact value, normalised.
 *
 * One deliberate difference: resource materialises powers of ten as big integers, so a value
 * like `quantity('1234567890123456789e2000000000')`, an `add` of quantities 10^2000000000
 * apart, or even comparing `quantity('1e2000000000')` with `quantity('1')`, has
 * kube-apiserver compute with billions of digits. Here a power of ten past 10^100000 is
 * refused with an error; comparisons, and rounding a tiny value up to the nano, need none
 * and answer exactly.
 */
import { celFunc, celMethod, CelScalar, type CelValue } from '@bufbuild/cel';
import { defineLibrary, type CelLibrary } from './library.js';
import { opaqueType } from './opaque.js';
import { chargeCost, comparisonMethods } from './support.js';

export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

/** resource's int64Amount: value × 10^scale, value an int64 and scale an int32. */
interface Int64Amount {
  readonly dec: false;
  readonly value: bigint;
  readonly scale: number;
}

/** An inf.Dec: unscaled × 10^-scale (inf's scale is the other way round), scale an int32. */
interface DecAmount {
  readonly dec: true;
  readonly unscaled: bigint;
  readonly scale: number;
}

type Amount = Int64Amount | DecAmount;

export interface Quantity {
  readonly amount: Amount;
  readonly format: QuantityFormat;
  /** The input, kept by ParseQuantity when it is already canonical (resource's `s`). */
  readonly s: string;
}

const SPLIT_RE = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const ERR_FORMAT_WRONG = `quantities must match the regular expression '${SPLIT_RE}'`;
const ERR_NUMERIC = 'unable to parse numeric part of quantity';
const ERR_SUFFIX = "unable to parse quantity's suffix";
/** What cel-go reports for Go's divide-by-zero panic in resource's divideByScaleInt64. */
const ERR_DIVIDE_BY_ZERO = 'internal error: runtime error: integer divide by zero';

const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;
const NANO = -9;
const MAX_INT64_FACTORS = 18;
/** The largest power of ten computed; see the module comment. */
const MAX_SHIFT = 100_000;

const i32 = (n: number): number => n | 0;
const fits64 = (v: bigint): boolean => v >= MIN_INT64 && v <= MAX_INT64;
const neg64 = (v: bigint): bigint => BigInt.asIntN(64, -v);
const sign = (v: bigint): -1 | 0 | 1 => (v < 0n ? -1 : v > 0n ? 1 : 0);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

const int = (value: bigint, scale: number): Int64Amount => ({ dec: false, value, scale });
const dec = (unscaled: bigint, scale: number): DecAmount => ({ dec: true, unscaled, scale });

const POW10 = [1n];
/** 10^k; `bounded` false where k is at most the digits of a value already held. */
function pow10(k: number, bounded = true): bigint {
  if (bounded && k > MAX_SHIFT) {
    throw new Error(`quantity out of range: computing it exactly needs 10^${k}, past 10^${MAX_SHIFT}`);
  }
  while (POW10.length <= Math.min(k, 64)) POW10.push(POW10[POW10.length - 1]! * 10n);
  return k < POW10.length ? POW10[k]! : 10n ** BigInt(k);
}

/** The number of decimal digits of |v|, v ≠ 0. */
const digits = (v: bigint): number => abs(v).toString().length;

/* ---- math.go ---- */

/** positiveScaleInt64: base × 10^scale, undefined on overflow; a negative scale is a no-op. */
function positiveScaleInt64(base: bigint, scale: number): bigint | undefined {
  if (scale <= 0 || base === 0n) return base;
  if (scale > 19) return undefined;
  const r = base * pow10(scale);
  return fits64(r) ? r : undefined;
}

/** negativeScaleInt64: base / 10^scale rounded away from zero, and whether exact. */
function negativeScaleInt64(base: bigint, scale: number): [bigint, boolean] {
  if (scale === 0) return [base, true];
  let value = base;
  let fraction = false;
  for (let i = 0; i < scale; i++) {
    if (!fraction && value % 10n !== 0n) fraction = true;
    value /= 10n;
    if (value === 0n) {
      if (fraction) return [base > 0n ? 1n : -1n, false];
      return [0n, true];
    }
  }
  if (fraction) value += base > 0n ? 1n : -1n;
  return [value, !fraction];
}

/** divideByScaleInt64: [result, remainder, exact]. */
function divideByScaleInt64(base: bigint, scale: number): [bigint, bigint, boolean] {
  if (scale === 0) return [base, 0n, true];
  if (scale >= 18) return [0n, base, false];
  if (scale < 0) throw new Error(ERR_DIVIDE_BY_ZERO); // pow10Int64 of a negative scale is 0
  const divisor = pow10(scale);
  return [base / divisor, base % divisor, true];
}

/** removeInt64Factors / removeBigIntFactors: [result, times] with value = result × base^times. */
function removeFactors(value: bigint, base: bigint): [bigint, number] {
  if (value === 0n) return [0n, 0];
  if (base === 10n) {
    const text = abs(value).toString();
    const kept = text.replace(/0+$/, '');
    const times = text.length - kept.length;
    return [value < 0n ? -BigInt(kept) : BigInt(kept), times];
  }
  let result = value;
  let times = 0;
  while (result % base === 0n) {
    result /= base;
    times++;
  }
  return [result, times];
}

/* ---- inf.Dec ---- */

/** `x` at a larger scale, as inf's rescale; zero needs no power of ten. */
function upscaled(x: DecAmount, scale: number, bounded = true): bigint {
  return x.unscaled === 0n ? 0n : x.unscaled * pow10(scale - x.scale, bounded);
}

function decAdd(x: DecAmount, y: DecAmount): DecAmount {
  const scale = Math.max(x.scale, y.scale);
  return dec(upscaled(x, scale) + upscaled(y, scale), scale);
}

function decSub(x: DecAmount, y: DecAmount): DecAmount {
  const scale = Math.max(x.scale, y.scale);
  return dec(upscaled(x, scale) - upscaled(y, scale), scale);
}

/** inf's Cmp, computed without inf's rescaling when the magnitudes differ. */
function decCmp(x: DecAmount, y: DecAmount): -1 | 0 | 1 {
  const sx = sign(x.unscaled);
  const sy = sign(y.unscaled);
  if (sx !== sy) return sx < sy ? -1 : 1;
  if (sx === 0) return 0;
  if (x.scale !== y.scale) {
    // |v| lies in [10^(m-1), 10^m) for m = digits - scale.
    const mx = digits(x.unscaled) - x.scale;
    const my = digits(y.unscaled) - y.scale;
    if (mx !== my) return (mx > my ? sx : -sx) as -1 | 1;
  }
  // Same magnitude: the scales differ by no more than the digits of either value.
  const scale = Math.max(x.scale, y.scale);
  return sign(upscaled(x, scale, false) - upscaled(y, scale, false));
}

/** inf's Round(x, scale, RoundUp): away from zero. */
function decRoundUp(x: DecAmount, scale: number): DecAmount {
  if (x.scale <= scale) return dec(upscaled(x, scale), scale);
  const k = x.scale - scale;
  if (x.unscaled === 0n) return dec(0n, scale);
  if (digits(x.unscaled) <= k) return dec(BigInt(sign(x.unscaled)), scale);
  const d = pow10(k);
  const q = x.unscaled / d;
  return dec(x.unscaled % d === 0n ? q : q + BigInt(sign(x.unscaled)), scale);
}

/** inf's SetString (scan) of resource's numeric part: [+-]?digits with at most one '.'. */
function decSetString(s: string): DecAmount {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(s);
  if (!m || m[2]! + (m[3] ?? '') === '') throw new Error(ERR_NUMERIC);
  const frac = m[3] ?? '';
  return dec(BigInt(m[1]! + m[2]! + frac), frac.length);
}

/* ---- amount.go ---- */

const intAsDec = (a: Int64Amount): DecAmount => dec(a.value, i32(-a.scale));
const asDec = (a: Amount): DecAmount => (a.dec ? a : intAsDec(a));

function intAsInt64(a: Int64Amount): bigint | undefined {
  if (a.scale === 0) return a.value;
  if (a.scale < 0) return undefined;
  return positiveScaleInt64(a.value, a.scale);
}

function intCmp(a: Int64Amount, b: Int64Amount): -1 | 0 | 1 {
  let av = a.value;
  let bv = b.value;
  if (a.scale > b.scale) {
    const [result, remainder, exact] = divideByScaleInt64(b.value, i32(a.scale - b.scale));
    if (!exact) return decCmp(intAsDec(a), intAsDec(b));
    if (result === a.value) return remainder === 0n ? 0 : remainder > 0n ? -1 : 1;
    bv = result;
  } else if (a.scale < b.scale) {
    const [result, remainder, exact] = divideByScaleInt64(a.value, i32(b.scale - a.scale));
    if (!exact) return decCmp(intAsDec(a), intAsDec(b));
    if (result === b.value) return remainder === 0n ? 0 : remainder > 0n ? 1 : -1;
    av = result;
  }
  return av === bv ? 0 : av < bv ? -1 : 1;
}

/** int64Amount.Add: undefined on overflow. */
function intAdd(a: Int64Amount, b: Int64Amount): Int64Amount | undefined {
  if (b.value === 0n) return a;
  if (a.value === 0n) return b;
  if (a.scale === b.scale) {
    const c = a.value + b.value;
    return fits64(c) ? int(c, a.scale) : undefined;
  }
  if (a.scale > b.scale) {
    const c = positiveScaleInt64(a.value, i32(a.scale - b.scale));
    if (c === undefined || !fits64(c + b.value)) return undefined;
    return int(c + b.value, b.scale);
  }
  const c = positiveScaleInt64(b.value, i32(b.scale - a.scale));
  if (c === undefined || !fits64(a.value + c)) return undefined;
  return int(a.value + c, a.scale);
}

/* ---- suffix.go ---- */

const DEC_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);
const BIN_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
]);

/** [base, exponent, format], or undefined for an unknown suffix. */
function interpret(suffix: string): [10 | 2, number, QuantityFormat] | undefined {
  const d = DEC_SUFFIXES.get(suffix);
  if (d !== undefined) return [10, d, 'DecimalSI'];
  const b = BIN_SUFFIXES.get(suffix);
  if (b !== undefined) return [2, b, 'BinarySI'];
  if (suffix.length > 1 && (suffix[0] === 'E' || suffix[0] === 'e')) {
    const n = suffix.slice(1);
    if (!/^[+-]?[0-9]+$/.test(n) || !fits64(BigInt(n))) return undefined; // strconv.ParseInt
    return [10, Number(BigInt.asIntN(32, BigInt(n))), 'DecimalExponent']; // int32(parsed)
  }
  return undefined;
}

function constructSuffix(base: 10 | 2, exponent: number, format: QuantityFormat): string {
  switch (format) {
    case 'DecimalSI':
      for (const [s, e] of DEC_SUFFIXES) if (e === exponent && base === 10) return s;
      return '';
    case 'BinarySI':
      for (const [s, e] of BIN_SUFFIXES) if (e === exponent && base === 2) return s;
      return '';
    case 'DecimalExponent':
      return base !== 10 || exponent === 0 ? '' : `e${exponent}`;
  }
}

/* ---- quantity.go ---- */

interface QuantityParts {
  positive: boolean;
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

const SUFFIX_CHARS = 'eEinumkKMGTP';

/** The index of the first non-digit at or after `i`. */
function digitsEnd(str: string, i: number): number {
  while (i < str.length && isDigit(str[i])) i++;
  return i;
}

/** resource's parseQuantityString. */
function parseQuantityString(str: string): QuantityParts {
  const p: QuantityParts = { positive: true, value: '', num: '', denom: '', suffix: '' };
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      p.positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  for (let i = pos; ; i++) {
    if (i >= end) {
      p.num = '0';
      p.value = p.num;
      return p;
    }
    if (str[i] !== '0') break;
    pos++;
  }
  const numEnd = digitsEnd(str, pos);
  if (numEnd >= end) {
    p.num = str.slice(pos);
    p.value = str;
    return p;
  }
  p.num = str.slice(pos, numEnd) || '0';
  pos = numEnd;
  if (str[pos] === '.') {
    pos++;
    const denomEnd = digitsEnd(str, pos);
    if (denomEnd >= end) {
      p.denom = str.slice(pos);
      p.value = str;
      return p;
    }
    p.denom = str.slice(pos, denomEnd);
    pos = denomEnd;
  }
  p.value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos]!)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  if (digitsEnd(str, pos) >= end) {
    p.suffix = str.slice(suffixStart);
    return p;
  }
  throw new Error(ERR_FORMAT_WRONG);
}

/** resource.ParseQuantity, with its error texts. */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw new Error(ERR_FORMAT_WRONG);
  if (str === '0') return { amount: int(0n, 0), format: 'DecimalSI', s: str };
  const { positive, value, num, denom, suffix } = parseQuantityString(str);
  const interpreted = interpret(suffix);
  if (!interpreted) throw new Error(ERR_SUFFIX);
  const [base, exponent] = interpreted;
  let format = interpreted[2];

  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = MAX_INT64_FACTORS - (num.length + denom.length);
  }

  if (precision >= 0) {
    scale = i32(scale - denom.length);
    if (scale >= NANO) {
      const shifted = num + denom;
      const v = BigInt(shifted); // at most 18 digits: strconv.ParseInt cannot fail
      const product = v * mantissa;
      if (fits64(product)) {
        const result = positive ? product : -product;
        const canonical =
          format === 'BinarySI'
            ? exponent % 10 === 0 && (v & 7n) !== 0n
            : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        return { amount: int(result, scale), format, s: canonical ? str : '' };
      }
    }
  }

  let amount = decSetString(value);
  if (base === 10) amount = dec(amount.unscaled, i32(amount.scale + i32(-exponent)));
  else amount = dec(amount.unscaled << BigInt(exponent), amount.scale);

  const negative = amount.unscaled < 0n;
  if (negative) amount = dec(-amount.unscaled, amount.scale);
  // Non-zero values round up to the nearest nano, so that no request for some is zero.
  if (amount.unscaled !== 0n) amount = decRoundUp(amount, -NANO);
  if (format === 'BinarySI' && decCmp(amount, dec(MAX_INT64, 0)) > 0) amount = dec(MAX_INT64, 0);
  if (format === 'BinarySI' && decCmp(amount, dec(1n, 0)) < 0 && amount.unscaled > 0n) format = 'DecimalSI';
  if (negative) amount = dec(-amount.unscaled, amount.scale);
  return { amount, format, s: '' };
}

/** resource.NewQuantity. */
export const newQuantity = (value: bigint, format: QuantityFormat): Quantity => ({
  amount: int(value, 0),
  format,
  s: '',
});

const isZero = (q: Quantity): boolean => (q.amount.dec ? q.amount.unscaled : q.amount.value) === 0n;

export const quantitySign = (q: Quantity): -1 | 0 | 1 =>
  sign(q.amount.dec ? q.amount.unscaled : q.amount.value);

/** Quantity.Cmp, which has no effect on its operands when both are int64 amounts. */
function cmpAmounts(a: Amount, b: Amount): -1 | 0 | 1 {
  if (!a.dec && !b.dec) return intCmp(a, b);
  return decCmp(asDec(a), asDec(b));
}

export const compareQuantities = (q: Quantity, y: Quantity): -1 | 0 | 1 => cmpAmounts(q.amount, y.amount);

/** Quantity.AsInt64: undefined for an inf.Dec, or when the value is no int64. */
export const quantityAsInt64 = (q: Quantity): bigint | undefined =>
  q.amount.dec ? undefined : intAsInt64(q.amount);

/** Quantity.Add. */
export function addQuantities(q: Quantity, y: Quantity): Quantity {
  let format = q.format;
  const a = q.amount;
  const b = y.amount;
  if (!a.dec && !b.dec) {
    if (a.value === 0n) format = y.format;
    const sum = intAdd(a, b);
    if (sum) return { amount: sum, format, s: '' };
  } else if (isZero(q)) {
    format = y.format;
  }
  return { amount: decAdd(asDec(a), asDec(b)), format, s: '' };
}

/** Quantity.Sub (whose int64 path negates the operand as Go does: -MinInt64 is MinInt64). */
export function subQuantities(q: Quantity, y: Quantity): Quantity {
  const format = isZero(q) ? y.format : q.format;
  const a = q.amount;
  const b = y.amount;
  if (!a.dec && !b.dec) {
    const diff = intAdd(a, int(neg64(b.value), b.scale));
    if (diff) return { amount: diff, format, s: '' };
  }
  return { amount: decSub(asDec(a), asDec(b)), format, s: '' };
}

/* Go's math.Pow10 tables, so that the products round as Go's do. */
const POW10_TAB = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
];
const POW10_POS_TAB32 = [1, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288];
const POW10_NEG_TAB32 = [1, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320];

function goPow10(n: number): number {
  if (n >= 0 && n <= 308) return POW10_POS_TAB32[Math.trunc(n / 32)]! * POW10_TAB[n % 32]!;
  if (n >= -323 && n <= 0) return POW10_NEG_TAB32[Math.trunc(-n / 32)]! / POW10_TAB[-n % 32]!;
  return n > 0 ? Infinity : 0;
}

/** Quantity.AsApproximateFloat64. */
export function quantityAsApproximateFloat64(q: Quantity): number {
  const a = q.amount;
  const base = Number(a.dec ? a.unscaled : a.value); // rounds to nearest even, as big.Float's Float64
  const exponent = a.dec ? -a.scale : a.scale;
  return exponent === 0 ? base : base * goPow10(exponent);
}

/* Quantity.String, which CEL cannot reach; for the canonical forms of resource's tests. */

function intCanonical(a: Int64Amount): [string, number] {
  const [amount, times] = removeFactors(a.value, 10n);
  let exponent = i32(a.scale + times);
  let mantissa = amount;
  const r = exponent % 3;
  if (r === 1 || r === -2) {
    mantissa *= 10n;
    exponent -= 1;
  } else if (r === 2 || r === -1) {
    mantissa *= 100n;
    exponent -= 2;
  }
  if (!fits64(mantissa)) return decCanonical(intAsDec(a));
  return [mantissa.toString(), exponent];
}

function decCanonical(d: DecAmount): [string, number] {
  const [amount, times] = removeFactors(d.unscaled, 10n);
  let exponent = i32(i32(-d.scale) + times);
  let mantissa = amount;
  while (exponent % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  return [mantissa.toString(), exponent];
}

function canonicalBase1024(a: Amount): [string, number] {
  let value: bigint | undefined;
  if (!a.dec) {
    value = a.scale < 0 ? negativeScaleInt64(a.value, -a.scale)[0] : positiveScaleInt64(a.value, a.scale);
  }
  if (value === undefined) value = decRoundUp(asDec(a), 0).unscaled;
  const [amount, exponent] = removeFactors(value, 1024n);
  return [amount.toString(), exponent];
}

/** Quantity.String (CanonicalizeBytes). */
export function quantityString(q: Quantity): string {
  if (q.s !== '') return q.s;
  if (isZero(q)) return '0';
  let format = q.format;
  let rounded: Amount | undefined;
  if (format === 'BinarySI') {
    if (cmpAmounts(q.amount, int(-1024n, 0)) > 0 && cmpAmounts(q.amount, int(1024n, 0)) < 0) {
      format = 'DecimalSI';
    } else {
      const a = q.amount;
      if (a.dec) {
        const r = decRoundUp(a, 0);
        rounded = r;
        if (decCmp(r, a) !== 0) format = 'DecimalSI';
      } else if (a.scale >= 0) {
        rounded = a;
      } else {
        const [v, exact] = negativeScaleInt64(a.value, -a.scale);
        rounded = int(v, 0);
        if (!exact) format = 'DecimalSI';
      }
    }
  }
  if (format === 'BinarySI') {
    const [number, exponent] = canonicalBase1024(rounded!);
    return number + constructSuffix(2, exponent * 10, format);
  }
  const [number, exponent] = q.amount.dec ? decCanonical(q.amount) : intCanonical(q.amount);
  return number + constructSuffix(10, exponent, format);
}

/** The exact value, normalised: equal for exactly the quantities Cmp calls equal. */
function identity(q: Quantity): string {
  const a = q.amount;
  const [mantissa, times] = removeFactors(a.dec ? a.unscaled : a.value, 10n);
  if (mantissa === 0n) return '0';
  return `${mantissa}e${(a.dec ? -a.scale : a.scale) + times}`;
}

/**
 * The CEL value holds a mutable cell: kube's compareTo/isLessThan/isGreaterThan convert the
 * receiver in place (resource's `Cmp` calls `AsDec` on it).
 */
interface Cell {
  q: Quantity;
}

const QUANTITY = opaqueType<Cell>('kubernetes.Quantity', (id) => ({ q: parseQuantity(id) }));

const quantityValue = (q: Quantity) => QUANTITY.make(identity(q), { q });
const cell = (v: CelValue): Cell => QUANTITY.read(v)!;

/** Quantity.Cmp through the receiver's pointer, as kube's bindings call it. */
function cmpInPlace(receiver: Cell, other: Quantity): -1 | 0 | 1 {
  const a = receiver.q.amount;
  if (!a.dec && !other.amount.dec) return intCmp(a, other.amount);
  if (!a.dec) receiver.q = { ...receiver.q, amount: intAsDec(a) };
  return decCmp(asDec(receiver.q.amount), asDec(other.amount));
}

/** cel-go's runtime cost of `quantity(s)` / `isQuantity(s)`: the string traversal. */
function chargeString(s: string): void {
  const runes = s.length - (s.match(/[\ud800-\udbff][\udc00-\udfff]/g)?.length ?? 0);
  chargeCost(Math.ceil(runes * 0.1));
}

function valid(s: string): boolean {
  try {
    parseQuantity(s);
    return true;
  } catch {
    return false;
  }
}

const { STRING, BOOL, INT, DOUBLE } = CelScalar;
const T = QUANTITY.type;

function arithmetic(name: 'add' | 'sub', op: (q: Quantity, y: Quantity) => Quantity) {
  return [
    celMethod(name, T, [T], T, function (other) {
      return quantityValue(op(cell(this).q, cell(other).q));
    }),
    celMethod(name, T, [INT], T, function (n) {
      return quantityValue(op(cell(this).q, newQuantity(n, 'DecimalExponent')));
    }),
  ];
}

export const quantityLibrary: CelLibrary = defineLibrary(
  'quantity',
  [
    celFunc('quantity', [STRING], T, (s) => {
      chargeString(s);
      return quantityValue(parseQuantity(s));
    }),
    celFunc('isQuantity', [STRING], BOOL, (s) => {
      chargeString(s);
      return valid(s);
    }),
    celFunc('sign', [T], INT, (q) => BigInt(quantitySign(cell(q).q))),
    celMethod('isInteger', T, [], BOOL, function () {
      return quantityAsInt64(cell(this).q) !== undefined;
    }),
    celMethod('asInteger', T, [], INT, function () {
      const v = quantityAsInt64(cell(this).q);
      if (v === undefined) throw new Error('cannot convert value to integer');
      return v;
    }),
    celMethod('asApproximateFloat', T, [], DOUBLE, function () {
      return quantityAsApproximateFloat64(cell(this).q);
    }),
    ...arithmetic('add', addQuantities),
    ...arithmetic('sub', subQuantities),
    ...comparisonMethods(T, (self, other) => cmpInPlace(cell(self), cell(other).q)),
  ],
  {
    quantity: 'dyn',
    isQuantity: 'bool',
    sign: 'int',
    isInteger: 'bool',
    asInteger: 'int',
    asApproximateFloat: 'double',
    add: 'dyn',
    sub: 'dyn',
    isGreaterThan: 'bool',
    isLessThan: 'bool',
    compareTo: 'int',
  },
);
