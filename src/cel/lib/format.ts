/**
 * kube's `library.Format` (kubernetes.NamedFormat), in the base environment since 1.31:
 * `format.named(name)` → optional Format, the constants `format.dns1123Label()` …
 * `format.datetime()`, and `<Format>.validate(s)` → `optional.none()` when `s` is valid, else
 * an optional list of kube's error messages. The validators are apimachinery's name checks
 * (name-validation.ts), Go's `url.ParseRequestURI` (go-url.ts) and kube-openapi's strfmt
 * `uuid`, `byte`, `date` and `datetime` (k8s.io/kube-openapi 20260721132016-d427ff9ee9ad).
 *
 * Two formats are equal when their names are. The Format value is opaque (see opaque.ts).
 * `validate` charges kube's runtime cost for the call (the string's length times an estimate
 * of the format's regex size), so an input past kube's per-call limit fails as in kube.
 */
import { celFunc, celList, celMethod, CelScalar } from '@bufbuild/cel';
import { NONE, optionalOf } from '../optional.js';
import { parseRequestURI, toBytes } from './go-url.js';
import { defineLibrary, type CelLibrary } from './library.js';
import {
  isQualifiedName,
  isValidLabelValue,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
} from './name-validation.js';
import { opaqueType } from './opaque.js';
import { chargeCost } from './support.js';

interface NamedFormat {
  /** kube's Format.Name: its identity. */
  readonly name: string;
  readonly validate: (s: string) => string[];
  /** kube's MaxRegexSize, for the cost of `validate`. */
  readonly maxRegexSize: number;
}

const UUID_PATTERN = '(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$';
const DATE_TIME_PATTERN = '^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$';

const uuidRe = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
/* DATE_TIME_PATTERN, with Go's `.` (any rune but \n). */
const dateTimeRe = /^([0-9]{2}):([0-9]{2}):([0-9]{2})([^\n][0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/u;

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** strfmt.IsDate: Go's time.Parse("2006-01-02", s) succeeds. */
function isDate(s: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(s);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12) return false;
  const days = month === 2 && isLeap(year) ? 29 : DAYS_IN[month - 1]!;
  return day >= 1 && day <= days;
}

/** Go's unicode.ToLower of each rune (strings.ToLower): simple case mapping. */
function goToLower(s: string): string {
  let out = '';
  for (const ch of s) {
    const lower = ch.toLowerCase();
    // Only U+0130 has a longer full mapping than its simple one (U+0069).
    out += [...lower].length === 1 ? lower : ch === '\u0130' ? 'i' : ch;
  }
  return out;
}

/** strfmt.IsDateTime. */
function isDateTime(s: string): boolean {
  if (Buffer.byteLength(s, 'utf8') < 4) return false;
  const parts = goToLower(s).split('t');
  if (parts.length < 2 || !isDate(parts[0]!)) return false;
  const m = dateTimeRe.exec(parts[1]!);
  if (!m) return false;
  return m[1]! <= '23' && m[2]! <= '59' && m[3]! <= '59';
}

function uriErrors(s: string): string[] {
  try {
    parseRequestURI(toBytes(s));
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

const check =
  (valid: (s: string) => boolean, message: string) =>
  (s: string): string[] =>
    valid(s) ? [] : [message];

/* kube's ConstantFormats, by the name `format.named` takes. */
const FORMATS: ReadonlyMap<string, NamedFormat> = new Map<string, NamedFormat>([
  [
    'dns1123Label',
    { name: 'DNS1123Label', validate: (s) => nameIsDNSLabel(toBytes(s), false), maxRegexSize: 30 },
  ],
  [
    'dns1123Subdomain',
    { name: 'DNS1123Subdomain', validate: (s) => nameIsDNSSubdomain(toBytes(s), false), maxRegexSize: 60 },
  ],
  [
    'dns1035Label',
    { name: 'DNS1035Label', validate: (s) => nameIsDNS1035Label(toBytes(s), false), maxRegexSize: 30 },
  ],
  [
    'qualifiedName',
    { name: 'QualifiedName', validate: (s) => isQualifiedName(toBytes(s)), maxRegexSize: 60 },
  ],
  [
    'dns1123LabelPrefix',
    { name: 'DNS1123LabelPrefix', validate: (s) => nameIsDNSLabel(toBytes(s), true), maxRegexSize: 30 },
  ],
  [
    'dns1123SubdomainPrefix',
    {
      name: 'DNS1123SubdomainPrefix',
      validate: (s) => nameIsDNSSubdomain(toBytes(s), true),
      maxRegexSize: 60,
    },
  ],
  [
    'dns1035LabelPrefix',
    { name: 'DNS1035LabelPrefix', validate: (s) => nameIsDNS1035Label(toBytes(s), true), maxRegexSize: 30 },
  ],
  ['labelValue', { name: 'LabelValue', validate: (s) => isValidLabelValue(toBytes(s)), maxRegexSize: 40 }],
  ['uri', { name: 'URI', validate: uriErrors, maxRegexSize: 1103 }],
  [
    'uuid',
    {
      name: 'uuid',
      validate: check((s) => uuidRe.test(s), 'does not match the UUID format'),
      maxRegexSize: UUID_PATTERN.length,
    },
  ],
  ['byte', { name: 'byte', validate: check((s) => base64Re.test(s), 'invalid base64'), maxRegexSize: 84 }],
  ['date', { name: 'date', validate: check(isDate, 'invalid date'), maxRegexSize: DATE_TIME_PATTERN.length }],
  [
    'datetime',
    {
      name: 'datetime',
      validate: check(isDateTime, 'invalid datetime'),
      maxRegexSize: DATE_TIME_PATTERN.length,
    },
  ],
]);

const BY_NAME = new Map([...FORMATS.values()].map((f) => [f.name, f]));

const FORMAT = opaqueType<NamedFormat>('kubernetes.NamedFormat', (name) => {
  const f = BY_NAME.get(name);
  if (!f) throw new Error(`no format ${name}`);
  return f;
});

const formatValue = (f: NamedFormat) => FORMAT.make(f.name, f);

/** kube's runtime cost of `validate`: (1 + runes) × 0.1 times the regex size × 0.25, each rounded up. */
function validateCost(f: NamedFormat, s: string): number {
  const runes = s.length - (s.match(/[\ud800-\udbff][\udc00-\udfff]/g)?.length ?? 0);
  return Math.ceil((1 + runes) * 0.1) * Math.ceil(f.maxRegexSize * 0.25);
}

const { STRING } = CelScalar;

export const formatLibrary: CelLibrary = defineLibrary(
  'format',
  [
    celFunc('format.named', [STRING], CelScalar.DYN, (name) => {
      const f = FORMATS.get(name);
      return f ? optionalOf(formatValue(f)) : NONE;
    }),
    ...[...FORMATS].map(([name, f]) => celFunc(`format.${name}`, [], FORMAT.type, () => formatValue(f))),
    celMethod('validate', FORMAT.type, [STRING], CelScalar.DYN, function (s) {
      const f = FORMAT.read(this)!;
      chargeCost(validateCost(f, s));
      const errors = f.validate(s);
      return errors.length === 0 ? NONE : optionalOf(celList(errors));
    }),
  ],
  {
    'format.named': 'dyn',
    ...Object.fromEntries([...FORMATS.keys()].map((name) => [`format.${name}`, 'dyn' as const])),
    validate: 'dyn',
  },
);
