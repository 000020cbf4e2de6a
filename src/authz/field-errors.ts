/**
 * Kubernetes field errors (`k8s.io/apimachinery/pkg/util/validation/field`), rendered as kube
 * renders them: `<path>: <Type>[: <value>][: <detail>]`. Policy files and SubjectAccessReview
 * validation both report through this, so an operator sees the text `kubectl apply` would show.
 */

import { goQuote } from '../go-quote.js';

/** kube's `field.OmitValueType{}`: the value is not printed (a certificate bundle, a secret). */
export const OMITTED_VALUE: unique symbol = Symbol('omitted');

export type FieldValue = string | number | boolean | null | readonly string[] | typeof OMITTED_VALUE;

/** The value part of `Invalid value: ...`, as `field.Error.ErrorBody` prints it. */
export function goValue(value: FieldValue): string {
  if (value === OMITTED_VALUE) return 'value omitted';
  if (value === null) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `[]string{${value.map(goQuote).join(', ')}}`;
}

export interface FieldError {
  readonly field: string;
  /** kube's `StatusCause.reason`, e.g. `FieldValueInvalid`. */
  readonly type:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueDuplicate';
  /** `ErrorBody()`: the message without the field path. */
  readonly body: string;
}

export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${e.body}`;
}

/** `field.Invalid`. */
export function invalidField(field: string, value: FieldValue, detail: string): FieldError {
  return { field, type: 'FieldValueInvalid', body: `Invalid value: ${goValue(value)}: ${detail}` };
}

/** `field.Required`. */
export function requiredField(field: string, detail = ''): FieldError {
  return { field, type: 'FieldValueRequired', body: detail ? `Required value: ${detail}` : 'Required value' };
}

/** `field.Duplicate`. */
export function duplicateField(field: string, value: FieldValue): FieldError {
  return { field, type: 'FieldValueDuplicate', body: `Duplicate value: ${goValue(value)}` };
}

/** Collects field errors in the order kube's validators append them. */
export class FieldErrorList {
  readonly errors: FieldError[] = [];

  invalid(field: string, value: FieldValue, detail: string): void {
    this.errors.push(invalidField(field, value, detail));
  }

  required(field: string, detail = ''): void {
    this.errors.push(requiredField(field, detail));
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
