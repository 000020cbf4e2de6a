/**
 * kube's `library.SemverLib` at version 1 (kubernetes.Semver), in the base environment since
 * 1.33: `semver(s)`, `semver(s, normalize)`, `isSemver(s)`, `isSemver(s, normalize)` and the
 * methods `major()`, `minor()`, `patch()`, `isLessThan(v)`, `isGreaterThan(v)`,
 * `compareTo(v)`, over a port of github.com/blang/semver/v4's `Parse` and `Compare` (errors
 * worded as its). Two versions are equal when `Compare` says so: build metadata is ignored.
 * The `kubernetes.Semver` value is opaque (see opaque.ts).
 */
import { celFunc, celMethod, CelScalar } from '@bufbuild/cel';
import { defineLibrary, type CelLibrary } from './library.js';
import { opaqueType } from './opaque.js';
import { comparisonMethods } from './support.js';
import { goQuote } from '../../go-quote.js';

/** A prerelease identifier: a number (uint64) or an alphanumeric string. */
type PreRelease = bigint | string;

interface Version {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: readonly PreRelease[];
  readonly build: readonly string[];
}

const MAX_UINT64 = 18446744073709551615n;
const NUMBERS = /^[0-9]*$/;
const ALPHANUM = /^[0-9A-Za-z-]*$/;

const hasLeadingZeroes = (s: string): boolean => s.length > 1 && s[0] === '0';

/** Go's strings.SplitN(s, ".", 3). */
function splitN3(s: string): string[] {
  const first = s.indexOf('.');
  if (first < 0) return [s];
  const second = s.indexOf('.', first + 1);
  if (second < 0) return [s.slice(0, first), s.slice(first + 1)];
  return [s.slice(0, first), s.slice(first + 1, second), s.slice(second + 1)];
}

/** Go's strconv.ParseUint(s, 10, 64) over a string of digits. */
function parseUint(s: string): bigint {
  if (s === '') throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > MAX_UINT64) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
  return n;
}

function number(s: string, what: string): bigint {
  if (!NUMBERS.test(s)) throw new Error(`Invalid character(s) found in ${what} number ${goQuote(s)}`);
  const capital = what[0]!.toUpperCase() + what.slice(1);
  if (hasLeadingZeroes(s)) throw new Error(`${capital} number must not contain leading zeroes ${goQuote(s)}`);
  return parseUint(s);
}

function preRelease(s: string): PreRelease {
  if (s === '') throw new Error('Prerelease is empty');
  if (NUMBERS.test(s)) {
    if (hasLeadingZeroes(s)) {
      throw new Error(`Numeric PreRelease version must not contain leading zeroes ${goQuote(s)}`);
    }
    return parseUint(s);
  }
  if (ALPHANUM.test(s)) return s;
  throw new Error(`Invalid character(s) found in prerelease ${goQuote(s)}`);
}

/** blang/semver's Parse. */
function parse(s: string): Version {
  if (s === '') throw new Error('Version string empty');
  const parts = splitN3(s);
  if (parts.length !== 3) throw new Error('No Major.Minor.Patch elements found');
  const major = number(parts[0]!, 'major');
  const minor = number(parts[1]!, 'minor');
  let patchStr = parts[2]!;
  let build: string[] = [];
  let pre: string[] = [];
  const plus = patchStr.indexOf('+');
  if (plus !== -1) {
    build = patchStr.slice(plus + 1).split('.');
    patchStr = patchStr.slice(0, plus);
  }
  const dash = patchStr.indexOf('-');
  if (dash !== -1) {
    pre = patchStr.slice(dash + 1).split('.');
    patchStr = patchStr.slice(0, dash);
  }
  const patch = number(patchStr, 'patch');
  const prerelease = pre.map(preRelease);
  for (const b of build) {
    if (b === '') throw new Error('Build meta data is empty');
    if (!ALPHANUM.test(b)) throw new Error(`Invalid character(s) found in build meta data ${goQuote(b)}`);
  }
  return { major, minor, patch, pre: prerelease, build };
}

/** kube's normalizeAndParse: no "v" prefix, missing minor and patch as 0, no leading zeros. */
function normalizeAndParse(s: string): Version {
  if (s.startsWith('v')) s = s.slice(1);
  const parts = splitN3(s).map((p) => {
    if (p.length <= 1) return p;
    p = p.replace(/^0+/, '');
    return p === '' || !/^[0-9]/.test(p) ? `0${p}` : p;
  });
  if (parts.length < 3) {
    if (/[+-]/.test(parts[parts.length - 1]!)) {
      throw new Error('short version cannot contain PreRelease/Build meta data');
    }
    while (parts.length < 3) parts.push('0');
  }
  return parse(parts.join('.'));
}

function comparePre(a: PreRelease, b: PreRelease): -1 | 0 | 1 {
  if (typeof a === 'bigint' && typeof b !== 'bigint') return -1;
  if (typeof a !== 'bigint' && typeof b === 'bigint') return 1;
  return a === b ? 0 : a > b ? 1 : -1;
}

/** blang/semver's Compare: build metadata has no precedence. */
function compare(v: Version, o: Version): -1 | 0 | 1 {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (v[k] !== o[k]) return v[k] > o[k] ? 1 : -1;
  }
  if (v.pre.length === 0 || o.pre.length === 0) {
    return v.pre.length === o.pre.length ? 0 : v.pre.length === 0 ? 1 : -1;
  }
  const n = Math.min(v.pre.length, o.pre.length);
  for (let i = 0; i < n; i++) {
    const c = comparePre(v.pre[i]!, o.pre[i]!);
    if (c !== 0) return c;
  }
  return v.pre.length === o.pre.length ? 0 : v.pre.length < o.pre.length ? -1 : 1;
}

/** The version without build metadata: equal for exactly the versions Compare calls equal. */
function identity(v: Version): string {
  const pre = v.pre.length === 0 ? '' : `-${v.pre.join('.')}`;
  return `${v.major}.${v.minor}.${v.patch}${pre}`;
}

const SEMVER = opaqueType<Version>('kubernetes.Semver', parse);

const semverValue = (v: Version) => SEMVER.make(identity(v), v);

function valid(s: string, normalize: boolean): boolean {
  try {
    if (normalize) normalizeAndParse(s);
    else parse(s);
    return true;
  } catch {
    return false;
  }
}

const { STRING, BOOL, INT } = CelScalar;

function part(name: 'major' | 'minor' | 'patch') {
  return celMethod(name, SEMVER.type, [], INT, function () {
    return BigInt.asIntN(64, SEMVER.read(this)![name]); // Go's types.Int(uint64)
  });
}

export const semverLibrary: CelLibrary = defineLibrary(
  'semver',
  [
    celFunc('semver', [STRING], SEMVER.type, (s) => semverValue(parse(s))),
    celFunc('semver', [STRING, BOOL], SEMVER.type, (s, normalize) =>
      semverValue(normalize ? normalizeAndParse(s) : parse(s)),
    ),
    celFunc('isSemver', [STRING], BOOL, (s) => valid(s, false)),
    celFunc('isSemver', [STRING, BOOL], BOOL, valid),
    part('major'),
    part('minor'),
    part('patch'),
    ...comparisonMethods(SEMVER.type, (self, other) => compare(SEMVER.read(self)!, SEMVER.read(other)!)),
  ],
  {
    semver: 'dyn',
    isSemver: 'bool',
    major: 'int',
    minor: 'int',
    patch: 'int',
    isGreaterThan: 'bool',
    isLessThan: 'bool',
    compareTo: 'int',
  },
);
