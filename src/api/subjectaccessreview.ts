import { nonResourceAttributes, resourceAttributes } from '../authz/attributes.js';
import type { Attributes, AuthzResult } from '../authz/authorizer.js';
import { FieldErrorList, fieldErrorText, type FieldError } from '../authz/field-errors.js';
import { labelValueErrors, qualifiedNameErrors, validateLabelSelectorRequirement } from '../authz/labels.js';
import { aggregateMessage } from '../errors.js';
import { isObject, own, type JsonObject } from '../json.js';
import type { UserInfo } from '../user.js';
import { badRequest, failure, type HttpAnswer } from './outcomes.js';
import {
  AUTHZ_GROUP,
  statusOf,
  type ApiVersionName,
  type Status,
  type SubjectAccessReviewResponse,
  type SubjectAccessReviewStatus,
} from './types.js';

/**
 * SubjectAccessReview on the wire, as kube-apiserver's REST handler answers it
 * (`pkg/registry/authorization/subjectaccessreview/rest.go`, `.../util/helpers.go`,
 * `pkg/apis/authorization/validation/validation.go`). The only code that knows the SAR shape.
 * Decoding never throws: whatever the body holds, it gives a review or the answer refusing it.
 */

const KIND = 'SubjectAccessReview';

/** A decoded, valid review: what to ask the authorizer, and what to echo. */
export interface SubjectAccessReviewInput {
  readonly attributes: Attributes;
  readonly spec: Spec;
}

export type SubjectAccessReviewDecoded =
  | { readonly ok: true; readonly input: SubjectAccessReviewInput }
  | { readonly ok: false; readonly answer: HttpAnswer };

export function decodeSubjectAccessReview(
  body: unknown,
  pathVersion: ApiVersionName,
): SubjectAccessReviewDecoded {
  let decoded: DecodedReview;
  try {
    decoded = decodeReview(body, pathVersion);
  } catch (err) {
    const message =
      err instanceof DecodeError
        ? err.message
        : `${KIND} in version "${pathVersion}" cannot be handled as a ${KIND}`;
    return { ok: false, answer: badRequest(message) };
  }
  const { spec } = decoded;
  const invalid = validateSpec(spec);
  if (invalid.length > 0) return { ok: false, answer: failure(invalidStatus(invalid)) };
  return { ok: true, input: { spec, attributes: toAttributes(spec) } };
}

/** The review's answer in the path's apiVersion: the spec echoed, the decision as `status`. */
export function encodeSubjectAccessReview(
  input: SubjectAccessReviewInput,
  result: AuthzResult,
  pathVersion: ApiVersionName,
): SubjectAccessReviewResponse {
  const evaluationErrors: string[] = [];
  if (result.error) evaluationErrors.push(result.error);
  evaluationErrors.push(...selectorNotes(input.spec.resourceAttributes));

  const status: SubjectAccessReviewStatus = { allowed: result.decision === 'allow' };
  if (result.decision === 'deny') status.denied = true;
  if (result.reason !== '') status.reason = result.reason;
  if (evaluationErrors.length > 0) status.evaluationError = evaluationErrors.join('; ');
  return {
    kind: KIND,
    apiVersion: `${AUTHZ_GROUP}/${pathVersion}`,
    metadata: {},
    spec: encodeSpec(input.spec, pathVersion),
    status,
  };
}

function invalidStatus(errors: readonly FieldError[]): Status {
  const status = statusOf(
    422,
    'Invalid',
    // kube 1.37 builds this from the internal object, whose kind is empty: `.authorization.k8s.io "" is invalid`.
    `.${AUTHZ_GROUP} "" is invalid: ${aggregateMessage(errors.map(fieldErrorText))}`,
  );
  status.details = {
    group: AUTHZ_GROUP,
    causes: errors.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  };
  return status;
}

// ---- decoding: the body's shape, checked field by field; wrong types are a 400 ----

interface SelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

interface SelectorAttributes {
  readonly rawSelector: string;
  readonly requirements: readonly SelectorRequirement[];
}

interface ResourceAttributes {
  readonly namespace: string;
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  readonly fieldSelector: SelectorAttributes | undefined;
  readonly labelSelector: SelectorAttributes | undefined;
}

interface NonResourceAttributes {
  readonly path: string;
  readonly verb: string;
}

export interface Spec {
  readonly resourceAttributes: ResourceAttributes | undefined;
  readonly nonResourceAttributes: NonResourceAttributes | undefined;
  readonly user: string;
  readonly groups: readonly string[];
  /** A Map: keys are the client's, and `__proto__` is a legal extra key. */
  readonly extra: ReadonlyMap<string, readonly string[]>;
  readonly uid: string;
}

interface DecodedReview {
  readonly spec: Spec;
}

class DecodeError extends Error {}

function decodeReview(body: unknown, pathVersion: ApiVersionName): DecodedReview {
  if (!isObject(body)) throw new DecodeError('the request body must be a JSON object');
  const expectedApiVersion = `${AUTHZ_GROUP}/${pathVersion}`;
  // A missing apiVersion or kind is taken from the path, as kube-apiserver's decoder defaults
  // them (Vault-style clients send only `spec`); only a different one is refused.
  const apiVersion = own(body, 'apiVersion');
  if (
    apiVersion !== undefined &&
    apiVersion !== null &&
    apiVersion !== '' &&
    apiVersion !== expectedApiVersion
  ) {
    throw new DecodeError(
      `the API version in the data does not match the expected API version (${expectedApiVersion})`,
    );
  }
  const kind = own(body, 'kind');
  if (kind !== undefined && kind !== null && kind !== '' && kind !== KIND) {
    throw new DecodeError(`the kind in the data does not match the expected kind (${KIND})`);
  }
  const rawSpec = own(body, 'spec');
  if (rawSpec !== undefined && rawSpec !== null && !isObject(rawSpec))
    throw fieldTypeError(pathVersion, 'spec');
  const spec = isObject(rawSpec) ? rawSpec : {};
  const d = new Decoder(pathVersion);
  // v1beta1 calls the groups field `group`; each version ignores the other's name, as kube's
  // decoder ignores unknown fields.
  const groupsField = pathVersion === 'v1' ? 'groups' : 'group';
  return {
    spec: {
      resourceAttributes: d.optionalObject(spec, 'resourceAttributes', 'spec.resourceAttributes', (o, p) =>
        d.resourceAttributes(o, p),
      ),
      nonResourceAttributes: d.optionalObject(
        spec,
        'nonResourceAttributes',
        'spec.nonResourceAttributes',
        (o, p) => ({
          path: d.string(o, 'path', `${p}.path`),
          verb: d.string(o, 'verb', `${p}.verb`),
        }),
      ),
      user: d.string(spec, 'user', 'spec.user'),
      groups: d.stringList(spec, groupsField, `spec.${groupsField}`),
      extra: d.extra(spec),
      uid: d.string(spec, 'uid', 'spec.uid'),
    },
  };
}

function fieldTypeError(version: string, path: string): DecodeError {
  // Names the field but never echoes the value or a parser message.
  return new DecodeError(
    `${KIND} in version "${version}" cannot be handled as a ${KIND}: ${path}: wrong type`,
  );
}

class Decoder {
  constructor(private readonly version: string) {}

  string(obj: JsonObject, key: string, path: string): string {
    const v = own(obj, key);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw fieldTypeError(this.version, path);
    return v;
  }

  stringList(obj: JsonObject, key: string, path: string): string[] {
    const v = own(obj, key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw fieldTypeError(this.version, path);
    return v.map((item, i) => {
      if (typeof item !== 'string') throw fieldTypeError(this.version, `${path}[${i}]`);
      return item;
    });
  }

  optionalObject<T>(
    obj: JsonObject,
    key: string,
    path: string,
    read: (o: JsonObject, path: string) => T,
  ): T | undefined {
    const v = own(obj, key);
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw fieldTypeError(this.version, path);
    return read(v, path);
  }

  extra(spec: JsonObject): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const v = own(spec, 'extra');
    if (v === undefined || v === null) return out;
    if (!isObject(v)) throw fieldTypeError(this.version, 'spec.extra');
    for (const key of Object.keys(v)) out.set(key, this.stringList(v, key, 'spec.extra'));
    return out;
  }

  resourceAttributes(o: JsonObject, p: string): ResourceAttributes {
    return {
      namespace: this.string(o, 'namespace', `${p}.namespace`),
      verb: this.string(o, 'verb', `${p}.verb`),
      group: this.string(o, 'group', `${p}.group`),
      version: this.string(o, 'version', `${p}.version`),
      resource: this.string(o, 'resource', `${p}.resource`),
      subresource: this.string(o, 'subresource', `${p}.subresource`),
      name: this.string(o, 'name', `${p}.name`),
      fieldSelector: this.optionalObject(o, 'fieldSelector', `${p}.fieldSelector`, (s, sp) =>
        this.selector(s, sp),
      ),
      labelSelector: this.optionalObject(o, 'labelSelector', `${p}.labelSelector`, (s, sp) =>
        this.selector(s, sp),
      ),
    };
  }

  selector(o: JsonObject, p: string): SelectorAttributes {
    const raw = own(o, 'requirements');
    if (raw !== undefined && raw !== null && !Array.isArray(raw))
      throw fieldTypeError(this.version, `${p}.requirements`);
    const requirements = (Array.isArray(raw) ? raw : []).map((r, i) => {
      const rp = `${p}.requirements[${i}]`;
      if (!isObject(r)) throw fieldTypeError(this.version, rp);
      return {
        key: this.string(r, 'key', `${rp}.key`),
        operator: this.string(r, 'operator', `${rp}.operator`),
        values: this.stringList(r, 'values', `${rp}.values`),
      };
    });
    return { rawSelector: this.string(o, 'rawSelector', `${p}.rawSelector`), requirements };
  }
}

// ---- validation: kube's ValidateSubjectAccessReviewSpec, texts included; failures are a 422 ----

function validateSpec(spec: Spec): FieldError[] {
  const errs = new FieldErrorList();
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    const n = spec.nonResourceAttributes;
    // kube 1.37 prints the value as JSON of the Go struct, field names capitalised.
    errs.errors.push({
      field: 'spec',
      type: 'FieldValueInvalid',
      body: `Invalid value: ${JSON.stringify({ Path: n.path ?? '', Verb: n.verb ?? '' })}: exactly one of nonResourceAttributes or resourceAttributes must be specified`,
    });
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    errs.invalid(
      'spec',
      null,
      'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  if (spec.user === '' && spec.groups.length === 0)
    errs.invalid('spec.user', spec.user, 'at least one of user or group must be specified');
  const ra = spec.resourceAttributes;
  if (ra) {
    validateSelector(ra.fieldSelector, 'spec.resourceAttributes.fieldSelector', errs, (req, path) => {
      if (req.key === '') errs.required(`${path}.key`, 'must be specified');
      validateOperatorValues(req, path, errs);
    });
    validateSelector(ra.labelSelector, 'spec.resourceAttributes.labelSelector', errs, (req, path) =>
      validateLabelSelectorRequirement(req, path, errs, {
        allowUnknownOperator: true,
        allowInvalidValues: false,
      }),
    );
  }
  return errs.errors;
}

function validateSelector(
  selector: SelectorAttributes | undefined,
  path: string,
  errs: FieldErrorList,
  validateRequirement: (req: SelectorRequirement, path: string) => void,
): void {
  if (!selector) return;
  if (selector.rawSelector !== '' && selector.requirements.length > 0) {
    errs.invalid(
      `${path}.rawSelector`,
      selector.rawSelector,
      'may not specified at the same time as requirements',
    );
  }
  if (selector.rawSelector === '' && selector.requirements.length === 0) {
    errs.required(
      `${path}.requirements`,
      `when ${path} is specified, requirements or rawSelector is required`,
    );
  }
  selector.requirements.forEach((req, i) => validateRequirement(req, `${path}.requirements[${i}]`));
}

/** `ValidateFieldSelectorRequirement` with unknown operators allowed. */
function validateOperatorValues(req: SelectorRequirement, path: string, errs: FieldErrorList): void {
  if ((req.operator === 'In' || req.operator === 'NotIn') && req.values.length === 0) {
    errs.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
  }
  if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && req.values.length > 0) {
    errs.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  }
}

// ---- attributes: the spec's user is taken literally; nothing is added ----

function toAttributes(spec: Spec): Attributes {
  const extra: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
  for (const [key, values] of spec.extra) extra[key] = values;
  const user: UserInfo = {
    username: spec.user,
    groups: spec.groups,
    ...(spec.uid !== '' ? { uid: spec.uid } : {}),
    ...(spec.extra.size > 0 ? { extra } : {}),
  };
  const ra = spec.resourceAttributes;
  if (ra) {
    return resourceAttributes(user, {
      verb: ra.verb,
      namespace: ra.namespace,
      apiGroup: ra.group,
      // kube's matchAllVersionIfEmpty
      apiVersion: ra.version === '' ? '*' : ra.version,
      resource: ra.resource,
      subresource: ra.subresource,
      name: ra.name,
    });
  }
  const nra = spec.nonResourceAttributes!;
  return nonResourceAttributes(user, nra.verb, nra.path);
}

// ---- selectors: RBAC ignores them, but kube reports the parts it could not use ----

/** kube's `BuildEvaluationError` notes for selectors it had to drop (what remains only broadens the check). */
function selectorNotes(ra: ResourceAttributes | undefined): string[] {
  if (!ra) return [];
  const notes: string[] = [];
  const field = ra.fieldSelector && fieldSelectorParse(ra.fieldSelector);
  if (field?.failed)
    notes.push(
      `spec.resourceAttributes.fieldSelector ${field.kept > 0 ? 'partially ignored' : 'ignored'} due to parse error`,
    );
  const label = ra.labelSelector && labelSelectorParse(ra.labelSelector);
  if (label?.failed)
    notes.push(
      `spec.resourceAttributes.labelSelector ${label.kept > 0 ? 'partially ignored' : 'ignored'} due to parse error`,
    );
  return notes;
}

interface ParseOutcome {
  readonly kept: number;
  readonly failed: boolean;
}

function fieldSelectorParse(s: SelectorAttributes): ParseOutcome {
  if (s.requirements.length > 0) {
    let kept = 0;
    let failed = false;
    for (const r of s.requirements) {
      if ((r.operator === 'In' || r.operator === 'NotIn') && r.values.length === 1) kept++;
      else failed = true;
    }
    return { kept, failed };
  }
  const terms = splitTerms(s.rawSelector, false);
  // fields.ParseSelector: every term is key=value, key==value or key!=value.
  const ok = terms.every((t) => /^[^=!]*(==|!=|=)/.test(unescapeField(t)));
  return ok ? { kept: terms.length, failed: false } : { kept: 0, failed: true };
}

function unescapeField(term: string): string {
  return term.replace(/\\./g, 'x');
}

function labelSelectorParse(s: SelectorAttributes): ParseOutcome {
  if (s.requirements.length > 0) {
    let kept = 0;
    let failed = false;
    for (const r of s.requirements) {
      if (['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(r.operator)) kept++;
      else failed = true;
    }
    return { kept, failed };
  }
  const terms = splitTerms(s.rawSelector, true);
  const ok = terms.every(labelTermValid);
  return ok ? { kept: terms.length, failed: false } : { kept: 0, failed: true };
}

const LABEL_TERM = [
  /^\s*!\s*(?<key>[^\s=!<>(),]+)\s*$/,
  /^\s*(?<key>[^\s=!<>(),]+)\s*$/,
  /^\s*(?<key>[^\s=!<>(),]+)\s*(?:==|!=|=)\s*(?<value>[^\s=!<>(),]*)\s*$/,
  /^\s*(?<key>[^\s=!<>(),]+)\s+(?:in|notin)\s*\((?<values>[^()]*)\)\s*$/,
  /^\s*(?<key>[^\s=!<>(),]+)\s*(?:<|>)\s*(?<int>-?\d+)\s*$/,
];

/** A close reading of `labels.Parse` for one comma-separated term: shape, key and values. */
function labelTermValid(term: string): boolean {
  for (const re of LABEL_TERM) {
    const m = re.exec(term);
    if (!m?.groups) continue;
    const { key, value, values } = m.groups;
    if (qualifiedNameErrors(key!).length > 0) return false;
    if (value !== undefined && labelValueErrors(value).length > 0) return false;
    if (values !== undefined) {
      const list = values.split(',').map((v) => v.trim());
      if (list.some((v) => labelValueErrors(v).length > 0)) return false;
    }
    return true;
  }
  return false;
}

/** Splits on commas outside parentheses (label `in (a,b)`) and not escaped (fields allow `\,`). */
function splitTerms(raw: string, parens: boolean): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (!parens && c === '\\') {
      i++;
      continue;
    }
    if (parens && c === '(') depth++;
    else if (parens && c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(raw.slice(start));
  return terms;
}

// ---- the echo: the spec as kube re-encodes it (known fields only, empty ones omitted) ----

function encodeSpec(spec: Spec, version: ApiVersionName): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ra = spec.resourceAttributes;
  if (ra) {
    const r: Record<string, unknown> = {};
    for (const key of ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const) {
      if (ra[key] !== '') r[key] = ra[key];
    }
    if (ra.fieldSelector) r.fieldSelector = encodeSelector(ra.fieldSelector);
    if (ra.labelSelector) r.labelSelector = encodeSelector(ra.labelSelector);
    out.resourceAttributes = r;
  }
  const nra = spec.nonResourceAttributes;
  if (nra) {
    const n: Record<string, unknown> = {};
    if (nra.path !== '') n.path = nra.path;
    if (nra.verb !== '') n.verb = nra.verb;
    out.nonResourceAttributes = n;
  }
  if (spec.user !== '') out.user = spec.user;
  if (spec.groups.length > 0) out[version === 'v1' ? 'groups' : 'group'] = [...spec.groups];
  if (spec.extra.size > 0) {
    // Defined, not assigned: a `__proto__` key must become data in the answer too.
    const extra: Record<string, string[]> = {};
    for (const [key, values] of spec.extra) {
      Object.defineProperty(extra, key, {
        value: [...values],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    out.extra = extra;
  }
  if (spec.uid !== '') out.uid = spec.uid;
  return out;
}

function encodeSelector(s: SelectorAttributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.rawSelector !== '') out.rawSelector = s.rawSelector;
  if (s.requirements.length > 0) {
    out.requirements = s.requirements.map((r) => ({
      key: r.key,
      operator: r.operator,
      ...(r.values.length > 0 ? { values: [...r.values] } : {}),
    }));
  }
  return out;
}
