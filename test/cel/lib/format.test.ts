import { celList } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import { compileExpression, toCelClaims } from '../../../src/cel/compile.js';
import { isOptional, NONE, optionalFuncs, optionalOf } from '../../../src/cel/optional.js';
import { formatLibrary } from '../../../src/cel/lib/format.js';
import type { CelLibrary } from '../../../src/cel/lib/library.js';
import { evaluator } from './helpers.js';

const optional: CelLibrary = { name: 'optional', funcs: optionalFuncs, results: new Map() };
const cel = evaluator(formatLibrary, optional);

const NAMES = [
  'dns1123Label',
  'dns1123Subdomain',
  'dns1035Label',
  'qualifiedName',
  'dns1123LabelPrefix',
  'dns1123SubdomainPrefix',
  'dns1035LabelPrefix',
  'labelValue',
  'uri',
  'uuid',
  'byte',
  'date',
  'datetime',
];

const DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** What `format.<name>().validate(s)` gives: [] for optional.none(), else the messages. */
function validate(name: string, s: string): string[] {
  const v = cel.value(`format.${name}().validate(s)`.replace('(s)', `(${JSON.stringify(s)})`));
  if (!isOptional(v)) throw new Error(`validate gave no optional: ${String(v)}`);
  return v.size === 0 ? [] : [...(v.get(0) as Iterable<string>)];
}

function expectValidation(name: string, cases: Readonly<Record<string, readonly string[]>>): void {
  for (const [s, errors] of Object.entries(cases))
    expect([name, s, validate(name, s)]).toEqual([name, s, errors]);
}

describe('format (kube library.Format)', () => {
  // k8s.io/apiserver@v0.37.2/pkg/cel/library/format_test.go (TestFormat).
  it('kube’s cases', () => {
    expectValidation('dns1123Label', { 'my-label-name': [], 'contains a space': [DNS1123_LABEL] });
    expectValidation('dns1123Subdomain', {
      'apiextensions.k8s.io': [],
      'example.com': [],
      'contains a space': [DNS1123_SUBDOMAIN],
    });
    expectValidation('dns1035Label', { 'my-label-name': [], 'contains a space': [DNS1035_LABEL] });
    expectValidation('qualifiedName', {
      'apiextensions.k8s.io/v1beta1': [],
      'my.name': [],
      'contains a space': [NAME_PART],
    });
    expectValidation('dns1123LabelPrefix', { 'my-label-prefix-': [], 'contains a space-': [DNS1123_LABEL] });
    expectValidation('dns1123SubdomainPrefix', {
      'mysubdomain.prefix.-': [],
      'contains a space-': [DNS1123_SUBDOMAIN],
    });
    expectValidation('dns1035LabelPrefix', { 'my-label-prefix-': [], 'contains a space-': [DNS1035_LABEL] });
    expectValidation('uri', { 'http://example.com': [] });
    expectValidation('uuid', { '123e4567-e89b-12d3-a456-426614174000': [] });
    expectValidation('byte', { 'aGVsbG8=': [], aGVsbG8: ['invalid base64'] });
    expectValidation('date', { '2021-01-01': [], '2020-01-01': [], '2020-01-32': ['invalid date'] });
    expectValidation('datetime', {
      '2021-01-01T00:00:00Z': [],
      '2020-01-01T00:00:00Z': [],
      '2020-01-32T00:00:00Z': ['invalid datetime'],
    });
    expectValidation('labelValue', {
      'my-cool-label-Value': [],
      'my-cool-label-Value!!\n\n!!!': [LABEL_VALUE],
    });
    cel.expectTrue(["!format.named('unknown').hasValue()"]);
    for (const lhs of NAMES) {
      cel.expectTrue([
        `format.named('${lhs}').hasValue()`,
        `format.named('${lhs}').value() == format.${lhs}()`,
      ]);
      for (const rhs of NAMES) if (rhs !== lhs) cel.expectTrue([`!(format.${lhs}() == format.${rhs}())`]);
    }
  });

  // The doc comment of k8s.io/apiserver@v0.37.2/pkg/cel/library/format.go.
  it('kube’s documented examples', () => {
    cel.expectTrue([
      "!format.dns1123Label().validate('my-label-name').hasValue()",
      "!format.dns1123Subdomain().validate('apiextensions.k8s.io').hasValue()",
      "!format.dns1035Label().validate('my-label-name').hasValue()",
      "!format.qualifiedName().validate('apiextensions.k8s.io/v1beta1').hasValue()",
      "!format.dns1123LabelPrefix().validate('my-label-prefix-').hasValue()",
      "!format.dns1123SubdomainPrefix().validate('mysubdomain.prefix.-').hasValue()",
      "!format.dns1035LabelPrefix().validate('my-label-prefix-').hasValue()",
      "!format.uri().validate('http://example.com').hasValue()",
      "!format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()",
      "!format.byte().validate('aGVsbG8=').hasValue()",
      "!format.date().validate('2021-01-01').hasValue()",
      "!format.datetime().validate('2021-01-01T00:00:00Z').hasValue()",
      `format.dns1123Label().validate('Bad').value().join('\\n') == "${DNS1123_LABEL}"`,
    ]);
  });

  // Each answer below was confirmed against k8s.io/apiserver v0.37.2.
  it('words every message as kube', () => {
    const long = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl'; // 64 bytes
    expectValidation('dns1123Label', {
      'Contains.Dots': [DNS1123_LABEL],
      'contains.dots': ['must not contain dots'],
      [long]: ['must be no more than 63 characters'],
      [`${long.slice(0, 63)}-`]: ['must be no more than 63 characters', DNS1123_LABEL],
      '': [DNS1123_LABEL],
      é: [DNS1123_LABEL],
    });
    // maskTrailingDash drops the byte before the dash too, and makes the dash an 'a'.
    expectValidation('dns1123LabelPrefix', {
      [`${long}-`]: ['must be no more than 63 characters'],
      'a-': [],
      '-': [DNS1123_LABEL],
      'ab.-': [],
    });
    expectValidation('dns1123SubdomainPrefix', { 'my.-': [] });
    expectValidation('dns1035Label', { '1abc': [DNS1035_LABEL] });
    expectValidation('qualifiedName', {
      'example.com/MyName': [],
      '/name': ['prefix part must be non-empty'],
      'Example.com/name': [`prefix part ${DNS1123_SUBDOMAIN}`],
      [`${'a'.repeat(254)}/name`]: ['prefix part must be no more than 253 bytes'],
      'a/b/c': [
        "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
      'example.com/': ['name part must be non-empty', NAME_PART],
      '': ['name part must be non-empty', NAME_PART],
      [long]: ['name part must be no more than 63 bytes'],
      '-bad-': [NAME_PART],
      éa: [NAME_PART],
    });
    expectValidation('labelValue', {
      '': [],
      '-x': [LABEL_VALUE],
      [long]: ['must be no more than 63 bytes'],
      ééééééééééééééééééééééééééééééééa: ['must be no more than 63 bytes', LABEL_VALUE],
    });
    expectValidation('uri', {
      '/relative/path': [],
      foo: ['parse "foo": invalid URI for request'],
      'http://[::1': [`parse "http://[::1": missing ']' in host`],
      'http://a b.com/': ['parse "http://a b.com/": invalid character " " in host name'],
      '': ['parse "": empty url'],
    });
    expectValidation('uuid', {
      '123E4567E89B12D3A456426614174000': [],
      '123e4567-e89b-12d3-a456-42661417400': ['does not match the UUID format'],
    });
    expectValidation('byte', { '': ['invalid base64'], 'aGVsbA==': [], 'aGV_bA==': ['invalid base64'] });
    expectValidation('date', {
      '2020-02-29': [],
      '2000-02-29': [],
      '2021-02-29': ['invalid date'],
      '1900-02-29': ['invalid date'],
      '2021-13-01': ['invalid date'],
      '2021-1-01': ['invalid date'],
      '2021-01-01T00:00:00Z': ['invalid date'],
    });
    // strfmt.IsDateTime lowercases, splits at every 't' and looks at the first two parts.
    expectValidation('datetime', {
      '2021-01-01t00:00:00z': [],
      '2021-01-01T23:59:59.999999999+05:30': [],
      '2021-01-01T00:00:00,5Z': [],
      '2021-01-01T00:00:00ZT99': [],
      '2021-01-01T00:00:00\r5Z': [],
      '2021-01-01T00:00:00\u01305Z': [],
      '2021-01-01T00:00:00\n5Z': ['invalid datetime'],
      '2021-01-01T24:00:00Z': ['invalid datetime'],
      '2021-01-01T00:00:00': ['invalid datetime'],
      '2021-01-01 00:00:00Z': ['invalid datetime'],
    });
  });

  it('gives optionals: none when valid, else the list of messages', () => {
    const some = cel.value("format.labelValue().validate('not ok')");
    expect([isOptional(some), some]).toEqual([true, optionalOf(celList([LABEL_VALUE]))]);
    expect(cel.value("format.labelValue().validate('ok')")).toBe(NONE);
    cel.expectTrue([
      "!format.named('labelValue').value().validate('ok').hasValue()",
      "format.named('labelValue').value().validate('not ok').value().size() == 1",
      "format.dns1123Label().validate('ok').orValue(['fine']) == ['fine']",
      "!format.named('URI').hasValue() && !format.named('').hasValue() && !format.named('toString').hasValue()",
      'type(format.uri()) == type(format.uuid())',
    ]);
  });

  // kube's runtime cost of validate: ceil((1 + length) × 0.1) × ceil(MaxRegexSize × 0.25).
  it('fails a call past kube’s per-call cost limit', () => {
    const claims = { long: `http://example.com/${'a'.repeat(50_000)}` };
    expect(cel.run('format.uri().validate(claims.long)', claims)).toEqual({
      ok: false,
      error: 'operation cancelled: actual cost limit exceeded',
    });
    cel.expectTrue(['format.labelValue().validate(claims.long).hasValue()'], claims);
    cel.expectTrue(['!format.uri().validate(claims.long.substring(0, 30000)).hasValue()'], claims);
  });

  it('evaluates in tokenwarden’s claim expressions', () => {
    const claims = toCelClaims({ sub: 'system-user-1', tenant: 'Not_A_Label!' });
    const rule = compileExpression(
      '!format.dns1123Label().validate(claims.sub).hasValue() && format.labelValue().validate(claims.tenant).hasValue()',
      'claims',
      'bool',
    );
    expect(rule.evaluate(claims)).toEqual({ ok: true, value: true });
    const message = compileExpression(
      "format.named('labelValue').value().validate(claims.tenant).value().join('; ')",
      'claims',
      'any',
    );
    expect(message.evaluate(claims)).toEqual({ ok: true, value: LABEL_VALUE });
    expect(() => compileExpression("format.named('uri')", 'claims', 'bool')).toThrow('must evaluate to bool');
  });
});
