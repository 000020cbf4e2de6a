import type { FieldErrorList } from './field-errors.js';

/**
 * Label names, values and selectors as `k8s.io/apimachinery` validates and evaluates them:
 * enough for ClusterRole `aggregationRule` selectors and SubjectAccessReview label
 * selector requirements.
 */

export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: ReadonlyMap<string, string>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const NAME_PART_FORMAT =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_FORMAT =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** apimachinery's `IsQualifiedName`: the messages for a label key, empty when valid. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix))
      errs.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
  } else {
    return [
      `a qualified name ${NAME_PART_FORMAT.slice('name part '.length)} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_NAME_PART.test(name)) errs.push(NAME_PART_FORMAT);
  return errs;
}

/** apimachinery's `IsValidLabelValue`. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) errs.push(LABEL_VALUE_FORMAT);
  return errs;
}

/**
 * `metav1validation.ValidateLabelSelectorRequirement`. With `allowUnknownOperator` (what the
 * SubjectAccessReview validator passes) an unknown operator is not an error here.
 */
export function validateLabelSelectorRequirement(
  req: LabelSelectorRequirement,
  path: string,
  errs: FieldErrorList,
  options: { allowUnknownOperator: boolean; allowInvalidValues: boolean },
): void {
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (req.values.length === 0)
        errs.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (req.values.length > 0)
        errs.forbidden(
          `${path}.values`,
          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        );
      break;
    default:
      if (!options.allowUnknownOperator)
        errs.invalid(`${path}.operator`, req.operator, 'not a valid selector operator');
  }
  for (const msg of qualifiedNameErrors(req.key)) errs.invalid(`${path}.key`, req.key, msg);
  if (!options.allowInvalidValues) {
    req.values.forEach((v, i) => {
      for (const msg of labelValueErrors(v)) errs.invalid(`${path}.values[${i}]`, v, msg);
    });
  }
}

/** `metav1validation.ValidateLabelSelector` (matchLabels keys and values, then each expression). */
export function validateLabelSelector(selector: LabelSelector, path: string, errs: FieldErrorList): void {
  for (const [key, value] of selector.matchLabels) {
    for (const msg of qualifiedNameErrors(key)) errs.invalid(`${path}.matchLabels`, key, msg);
    for (const msg of labelValueErrors(value)) errs.invalid(`${path}.matchLabels`, value, msg);
  }
  selector.matchExpressions.forEach((req, i) =>
    validateLabelSelectorRequirement(req, `${path}.matchExpressions[${i}]`, errs, {
      allowUnknownOperator: false,
      allowInvalidValues: false,
    }),
  );
}

/**
 * `metav1.LabelSelectorAsSelector` then `Matches`: an empty selector matches everything;
 * matchLabels are equality requirements; expressions are ANDed. Only call on validated selectors.
 */
export function selectorMatches(selector: LabelSelector, labels: ReadonlyMap<string, string>): boolean {
  for (const [key, value] of selector.matchLabels) {
    if (labels.get(key) !== value) return false;
  }
  for (const req of selector.matchExpressions) {
    const has = labels.has(req.key);
    switch (req.operator) {
      case 'In':
        if (!has || !req.values.includes(labels.get(req.key)!)) return false;
        break;
      case 'NotIn':
        if (has && req.values.includes(labels.get(req.key)!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
