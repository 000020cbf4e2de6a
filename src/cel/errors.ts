import { celType, isCelList, isCelMap, isCelUint, type CelValue } from '@bufbuild/cel';
import { isReflectMessage } from '@bufbuild/protobuf/reflect';
import { isOptional } from './optional.js';

/**
 * cel-go's words for CEL run-time errors (kube prints them inside `expression '...'
 * resulted in error: ...`). The texts were taken from cel-go v0.29.2 under kube-apiserver
 * v1.37.2's claims environment. @bufbuild/cel words its errors its own way; `kubeEvalError`
 * rewrites them, and the functions here name values as cel-go does for the errors the CEL
 * code of this directory raises itself.
 */

/** cel-go's `ref.Val.Type().TypeName()` of a value: `int`, `list`, `null_type`, `kubernetes.URL`. */
export function celGoTypeName(v: CelValue): string {
  if (isOptional(v)) return 'optional_type';
  return baseName(celType(v).name);
}

/** `list(dyn)` → `list`, `map(dyn, dyn)` → `map`: cel-go's run-time type names carry no parameters. */
function baseName(name: string): string {
  const open = name.indexOf('(');
  return open < 0 ? name : name.slice(0, open);
}

/** Go's `%T` of cel-go's value for `v`: `types.String`, `*types.Optional`, `cel.URL`. */
export function goTypeOf(v: CelValue): string {
  if (isOptional(v)) return '*types.Optional';
  switch (typeof v) {
    case 'string':
      return 'types.String';
    case 'bigint':
      return 'types.Int';
    case 'number':
      return 'types.Double';
    case 'boolean':
      return 'types.Bool';
  }
  if (v === null) return 'types.Null';
  if (v instanceof Uint8Array) return 'types.Bytes';
  if (isCelUint(v)) return 'types.Uint';
  if (isCelList(v)) return '*types.baseList';
  if (isCelMap(v)) return '*types.baseMap';
  if (isReflectMessage(v)) return GO_MESSAGE_TYPES[v.desc.typeName] ?? `*${v.desc.typeName}`;
  return '*types.Type';
}

const GO_MESSAGE_TYPES: Readonly<Record<string, string>> = {
  'google.protobuf.Timestamp': 'types.Timestamp',
  'google.protobuf.Duration': 'types.Duration',
  'kubernetes.URL': 'cel.URL',
  'net.IP': 'cel.IP',
  'net.CIDR': 'cel.CIDR',
  'kubernetes.Semver': 'cel.Semver',
};

/** The same, from the type name @bufbuild/cel puts in its messages. */
function goTypeOfName(name: string): string {
  switch (baseName(name)) {
    case 'string':
      return 'types.String';
    case 'int':
      return 'types.Int';
    case 'uint':
      return 'types.Uint';
    case 'double':
      return 'types.Double';
    case 'bool':
      return 'types.Bool';
    case 'null_type':
      return 'types.Null';
    case 'bytes':
      return 'types.Bytes';
    case 'type':
      return '*types.Type';
  }
  return GO_MESSAGE_TYPES[name] ?? `*${name}`;
}

/** Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): `1.5`, `1e+06`, `1e-05`. */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mantissa, exponent] = f.toExponential().split('e') as [string, string];
  const exp = Number(exponent);
  return exp < -4 || exp >= 6 ? `${mantissa}e${goExponent(exp)}` : String(f);
}

function goExponent(exp: number): string {
  const digits = String(Math.abs(exp)).padStart(2, '0');
  return `${exp < 0 ? '-' : '+'}${digits}`;
}

/** Go's `%v` of cel-go's value for `v`, as in `no such key: %v`. */
export function goValueText(v: CelValue): string {
  if (typeof v === 'number') return goFloat(v);
  if (v === null) return 'NULL_VALUE';
  if (isCelUint(v)) return String(v.value);
  return String(v);
}

/**
 * The standard operators cel-go binds once for all types and dispatches by a trait of the
 * first operand: a value with the trait (or a `traits.Receiver`: string, timestamp,
 * duration) answers a bare `no such overload` itself; any other is `no such overload: <fn>`.
 */
const NUMBERS = ['int', 'uint', 'double'];
const TIME = ['google.protobuf.Timestamp', 'google.protobuf.Duration'];
const RECEIVERS = new Set(['string', ...TIME]);
const COMPARABLE = [...NUMBERS, 'string', 'bytes', 'bool', ...TIME];
const TRAIT_DISPATCHED: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['_+_', new Set([...NUMBERS, 'string', 'bytes', 'list', ...TIME])],
  ['_-_', new Set([...NUMBERS, ...TIME])],
  ['_*_', new Set(NUMBERS)],
  ['_/_', new Set(NUMBERS)],
  ['_%_', new Set(['int', 'uint'])],
  ['-_', new Set(['int', 'double', 'bool', 'google.protobuf.Duration'])],
  ['_<_', new Set(COMPARABLE)],
  ['_<=_', new Set(COMPARABLE)],
  ['_>_', new Set(COMPARABLE)],
  ['_>=_', new Set(COMPARABLE)],
  ['size', new Set(['string', 'bytes', 'list', 'map'])],
]);

/** Functions whose implementation itself refuses a wrong operand: always a bare `no such overload`. */
const BARE = new Set(['!_', '@in', 'contains', 'startsWith', 'endsWith', 'matches', 'orValue', 'or']);

const NO_OVERLOAD = /^found no matching overload for '([^']+)' applied to '(.*)'$/s;

/** `double.(string)` / `list(dyn).()` / `(null_type, string)` → the operand types, receiver first, in cel-go's names. */
function operandTypes(applied: string): string[] {
  // The argument list is the parenthesized group that ends the text; a type name may hold parentheses too.
  let depth = 0;
  let open = applied.length - 1;
  for (; open >= 0; open--) {
    if (applied[open] === ')') depth++;
    else if (applied[open] === '(' && --depth === 0) break;
  }
  const receiver = open > 0 ? [applied.slice(0, open).replace(/\.$/, '')] : [];
  const args: string[] = [];
  depth = 0;
  let start = open + 1;
  for (let i = start; i < applied.length - 1; i++) {
    const c = applied[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(applied.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = applied.slice(start, -1).trim();
  if (last !== '' || args.length > 0) args.push(last);
  return [...receiver, ...args].map(baseName);
}

function noSuchOverload(fn: string, types: readonly string[]): string {
  if (BARE.has(fn)) return 'no such overload';
  const trait = TRAIT_DISPATCHED.get(fn);
  if (trait) {
    const first = types[0] ?? '';
    return trait.has(first) || RECEIVERS.has(first) ? 'no such overload' : `no such overload: ${fn}`;
  }
  return `no such overload: ${fn}(${types.join(', ')})`;
}

const REWRITES: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/^field not found: (.*)$/s, (m) => `no such key: ${m[1]}`],
  [NO_OVERLOAD, (m) => noSuchOverload(m[1]!, operandTypes(m[2]!))],
  // The ternary's condition and the operands of && and || that are not bool.
  [/^found no matching overload for _\?_:_ applied to /, () => 'no such overload'],
  [/^type mismatch: expected bool, got /, () => 'no such overload'],
  [/^type mismatch: iterable vs (.*)$/s, (m) => `got '${goTypeOfName(m[1]!)}', expected iterable type`],
  [/^u?int divide by zero$/, () => 'division by zero'],
  [/^u?int modulus by zero$/, () => 'modulus by zero'],
  [/^int overflow during /, () => 'integer overflow'],
  [/^uint overflow during /, () => 'unsigned integer overflow'],
  // The strings extension's index checks (charAt, indexOf, lastIndexOf, substring).
  [/^index (-?\d+) out of bounds \[0, \d+\)$/, (m) => `index out of range: ${m[1]}`],
  [
    /^Failed to parse timestamp: /,
    () => "type conversion error from 'string' to 'google.protobuf.Timestamp'",
  ],
  [/^Failed to parse duration: /, () => "type conversion error from 'string' to 'google.protobuf.Duration'"],
];

/** An evaluation error in cel-go's words, as kube reports it. */
export function kubeEvalError(message: string): string {
  for (const [pattern, rewrite] of REWRITES) {
    const m = pattern.exec(message);
    if (m) return rewrite(m);
  }
  return message;
}
