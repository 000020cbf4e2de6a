import { describe, expect, it } from 'vitest';
import {
  duplicateField,
  fieldErrorText,
  FieldErrorList,
  invalidField,
  OMITTED_VALUE,
  requiredField,
} from '../../src/authz/field-errors.js';

describe('kube field errors', () => {
  it('renders invalid, required and duplicate values as field.Error does, strings quoted as Go quotes them', () => {
    expect(fieldErrorText(invalidField('spec.user', 'a\u0001b', 'bad'))).toBe(
      'spec.user: Invalid value: "a\\x01b": bad',
    );
    expect(fieldErrorText(requiredField('jwt[0].issuer.url'))).toBe('jwt[0].issuer.url: Required value');
    expect(fieldErrorText(requiredField('a', 'claim or expression is required'))).toBe(
      'a: Required value: claim or expression is required',
    );
    expect(fieldErrorText(duplicateField('jwt[1].issuer.url', 'https://x'))).toBe(
      'jwt[1].issuer.url: Duplicate value: "https://x"',
    );
  });

  it('never prints an omitted value, only that it was omitted', () => {
    expect(fieldErrorText(invalidField('ca', OMITTED_VALUE, 'no certificates'))).toBe(
      'ca: Invalid value: value omitted: no certificates',
    );
  });

  it('collects through the same renderers', () => {
    const list = new FieldErrorList();
    list.invalid('f', 3, 'too big');
    list.required('g');
    expect(list.errors).toEqual([invalidField('f', 3, 'too big'), requiredField('g')]);
  });
});
