/**
 * Kubernetes field errors (`k8s.io/apimachinery/pkg/util/validation/field`), rendered as kube
 * renders them: `<path>: <Type>[: <value>][: <detail>]`. Policy files and SubjectAccessReview
 * validation both report through this, so an operator sees the text `kubectl apply` would show.
 */

export type FieldValue = string | number | boolean | null | readonly string[];

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Go's `strconv.Quote` (what `%q` prints) for the strings we meet: backslash escapes for
 * quotes, backslashes and control characters, printable Unicode kept as is.
 */
export function goQuote(s: string): string {
  // Names are almost always plain ASCII: skip the per-character walk (it shows in RBAC reasons).
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** The value part of `Invalid value: ...`, as `field.Error.ErrorBody` prints it. */
export function goValue(value: FieldValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `[]string{${value.map(goQuote).join(', ')}}`;
}

export interface FieldError {
  readonly field: string;
  /** kube's `StatusCause.reason`, e.g. `FieldValueInvalid`. */
  readonly type:
    'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden';
  /** `ErrorBody()`: the message without the field path. */
  readonly body: string;
}

export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${e.body}`;
}

/** Collects field errors in the order kube's validators append them. */
export class FieldErrorList {
  readonly errors: FieldError[] = [];

  invalid(field: string, value: FieldValue, detail: string): void {
    this.errors.push({
      field,
      type: 'FieldValueInvalid',
      body: `Invalid value: ${goValue(value)}: ${detail}`,
    });
  }

  required(field: string, detail = ''): void {
    this.errors.push({
      field,
      type: 'FieldValueRequired',
      body: detail ? `Required value: ${detail}` : 'Required value',
    });
  }

  forbidden(field: string, detail: string): void {
    this.errors.push({ field, type: 'FieldValueForbidden', body: `Forbidden: ${detail}` });
  }

  notSupported(field: string, value: FieldValue, supported: readonly string[]): void {
    const detail = supported.length > 0 ? `: supported values: ${supported.map(goQuote).join(', ')}` : '';
    this.errors.push({
      field,
      type: 'FieldValueNotSupported',
      body: `Unsupported value: ${goValue(value)}${detail}`,
    });
  }

  /** Not a kube validator error: the document's shape is wrong (kube's decoder would refuse it). */
  wrongType(field: string, expected: string, got: unknown): void {
    const actual =
      got === null ? 'null' : Array.isArray(got) ? 'list' : typeof got === 'object' ? 'object' : typeof got;
    this.errors.push({
      field,
      type: 'FieldValueInvalid',
      body: `Invalid type: expected ${expected}, got ${actual}`,
    });
  }

  get length(): number {
    return this.errors.length;
  }
}
