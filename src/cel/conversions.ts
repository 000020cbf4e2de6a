import { celFunc, CelScalar, celUint, type CelFunc } from '@bufbuild/cel';
import { goFloat } from './errors.js';

/**
 * cel-go's conversions from and to strings, which are Go's `strconv` (cel-go v0.29.2
 * common/types): `int(s)` is `ParseInt(s, 10, 64)`, `uint(s)` `ParseUint(s, 10, 64)`,
 * `double(s)` `ParseFloat(s, 64)`, `bool(s)` `ParseBool(s)`, and `string(d)`
 * `FormatFloat(d, 'g', -1, 64)`. @bufbuild/cel's differ: `int('0x10')` is 16 there, `int('')`
 * 0, `double('x')` NaN, and `string(1000000.0)` '1000000' where kube says '1e+06'. A string
 * that does not convert is cel-go's `type conversion error from 'string' to '<type>'`.
 * These replace @bufbuild/cel's functions of the same signatures.
 */

const { STRING, INT, UINT, DOUBLE, BOOL } = CelScalar;

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
const MAX_UINT64 = 2n ** 64n - 1n;

function conversionError(to: string): Error {
  return new Error(`type conversion error from 'string' to '${to}'`);
}

function parseInt64(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw conversionError('int');
  const n = BigInt(s);
  if (n < MIN_INT64 || n > MAX_INT64) throw conversionError('int');
  return n;
}

function parseUint64(s: string): bigint {
  if (!/^\d+$/.test(s)) throw conversionError('uint');
  const n = BigInt(s);
  if (n > MAX_UINT64) throw conversionError('uint');
  return n;
}

// Go's floating-point literal syntax, `_` between digits allowed.
const DEC = String.raw`\d(?:_?\d)*`;
const HEX = String.raw`[0-9a-fA-F](?:_?[0-9a-fA-F])*`;
const DECIMAL_FLOAT = new RegExp(
  String.raw`^[+-]?(?:${DEC}(?:\.(?:${DEC})?)?|\.${DEC})(?:[eE][+-]?${DEC})?$`,
);
const HEX_FLOAT = new RegExp(String.raw`^([+-]?)0[xX]_?(${HEX})?(?:\.(${HEX})?)?[pP]([+-]?${DEC})$`);

/** Go's `strconv.ParseFloat(s, 64)`. */
export function goParseFloat(s: string): number {
  if (/^[+-]?inf(?:inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  let f: number;
  if (DECIMAL_FLOAT.test(s)) {
    f = Number(s.replaceAll('_', ''));
  } else {
    const m = HEX_FLOAT.exec(s);
    if (!m || (m[2] === undefined && m[3] === undefined)) throw conversionError('double');
    const whole = (m[2] ?? '').replaceAll('_', '');
    const frac = (m[3] ?? '').replaceAll('_', '');
    const mantissa = Number.parseInt(whole + frac || '0', 16);
    f = mantissa * 2 ** (Number(m[4]!.replaceAll('_', '')) - 4 * frac.length);
    if (m[1] === '-') f = -f;
  }
  // Out of range is an error in Go (ErrRange), not an infinity.
  if (!Number.isFinite(f)) throw conversionError('double');
  return f;
}

function parseBool(s: string): boolean {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
  }
  throw conversionError('bool');
}

export const conversionFuncs: readonly CelFunc[] = [
  celFunc('int', [STRING], INT, parseInt64),
  celFunc('uint', [STRING], UINT, (s) => celUint(parseUint64(s))),
  celFunc('double', [STRING], DOUBLE, goParseFloat),
  celFunc('bool', [STRING], BOOL, parseBool),
  celFunc('string', [DOUBLE], STRING, goFloat),
];
