/**
 * The name validators behind kube's CEL `format` library, from k8s.io/apimachinery v0.37.2:
 * `api/validation.NameIsDNSLabel`, `NameIsDNSSubdomain`, `NameIsDNS1035Label` (over
 * `util/validation`'s IsDNS1123Label, IsDNS1123Subdomain, IsDNS1035Label), and
 * `api/validate/content`'s IsLabelKey (util/validation.IsQualifiedName) and IsLabelValue,
 * with their messages word for word; the two packages word a length error differently
 * ("characters" and "bytes").
 *
 * Go measures and slices strings in bytes, so these take the string's UTF-8 bytes, one char
 * per byte (go-url.ts's `toBytes`); a non-ASCII byte matches none of the patterns.
 */

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrorMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const labelKeyFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelKeyErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelValueFmt = `(${labelKeyFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const dns1123Label = anchored(dns1123LabelFmt);
const dns1123Subdomain = anchored(dns1123SubdomainFmt);
const dns1035Label = anchored(dns1035LabelFmt);
const labelKey = anchored(labelKeyFmt);
const labelValue = anchored(labelValueFmt);

/** util/validation's MaxLenError. */
const maxLenChars = (n: number): string => `must be no more than ${n} characters`;
/** content's MaxLenError. */
const maxLenBytes = (n: number): string => `must be no more than ${n} bytes`;
const EMPTY = 'must be non-empty';

/** RegexError (the same in both packages). */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

/** util/validation.IsDNS1123Label. */
function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenChars(63));
  if (!dns1123Label.test(value)) {
    if (dns1123Subdomain.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return errs;
}

/** util/validation.IsDNS1123Subdomain (`maxLen` as worded by the calling package). */
function isDNS1123Subdomain(value: string, maxLen: (n: number) => string = maxLenChars): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLen(253));
  if (!dns1123Subdomain.test(value))
    errs.push(regexError(dns1123SubdomainErrorMsg, dns1123SubdomainFmt, 'example.com'));
  return errs;
}

/** util/validation.IsDNS1035Label. */
function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenChars(63));
  if (!dns1035Label.test(value))
    errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'));
  return errs;
}

/**
 * api/validation's maskTrailingDash, for a name that gets a suffix appended: a trailing '-'
 * becomes 'a', and (as kube has it) the byte before it goes too.
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSLabel = (bytes: string, prefix: boolean): string[] =>
  isDNS1123Label(prefix ? maskTrailingDash(bytes) : bytes);

export const nameIsDNSSubdomain = (bytes: string, prefix: boolean): string[] =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(bytes) : bytes);

export const nameIsDNS1035Label = (bytes: string, prefix: boolean): string[] =>
  isDNS1035Label(prefix ? maskTrailingDash(bytes) : bytes);

/** content.IsLabelKey, which is util/validation.IsQualifiedName. */
export function isQualifiedName(bytes: string): string[] {
  const errs: string[] = [];
  const parts = bytes.split('/');
  let name: string;
  switch (parts.length) {
    case 1:
      name = parts[0]!;
      break;
    case 2: {
      const prefix = parts[0]!;
      name = parts[1]!;
      if (prefix.length === 0) errs.push(`prefix part ${EMPTY}`);
      else errs.push(...isDNS1123Subdomain(prefix, maxLenBytes).map((m) => `prefix part ${m}`));
      break;
    }
    default:
      return [
        `a valid label key ${regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc')}` +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ];
  }
  if (name.length === 0) errs.push(`name part ${EMPTY}`);
  else if (name.length > 63) errs.push(`name part ${maxLenBytes(63)}`);
  if (!labelKey.test(name)) {
    errs.push(`name part ${regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

/** content.IsLabelValue, which is util/validation.IsValidLabelValue. */
export function isValidLabelValue(bytes: string): string[] {
  const errs: string[] = [];
  if (bytes.length > 63) errs.push(maxLenBytes(63));
  if (!labelValue.test(bytes)) {
    errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}
