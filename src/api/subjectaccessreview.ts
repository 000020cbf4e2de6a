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

/** The three reviews that answer "may this user do that": who is asked about differs. */
export type AccessReviewKind = 'SubjectAccessReview' | 'LocalSubjectAccessReview' | 'SelfSubjectAccessReview';

/** What the request itself says beside its body. */
export interface AccessReviewRequest {
  readonly kind: AccessReviewKind;
  readonly version: ApiVersionName;
  /** LocalSubjectAccessReview: the namespace in the path. */
  readonly namespace?: string;
  /** SelfSubjectAccessReview: the caller, when it is known. */
  readonly caller?: UserInfo;
}

/** A decoded, valid review: what to ask the authorizer, and what to echo. */
export interface SubjectAccessReviewInput {
  readonly kind: AccessReviewKind;
  readonly attributes: Attributes;
  readonly spec: Spec;
  /** The object's namespace: the path's for a LocalSubjectAccessReview, else empty. */
  readonly namespace: string;
}

export type SubjectAccessReviewDecoded =
  | { readonly ok: true; readonly input: SubjectAccessReviewInput }
  | { readonly ok: false; readonly answer: HttpAnswer };

export function decodeSubjectAccessReview(
  body: unknown,
  pathVersion: ApiVersionName,
): SubjectAccessReviewDecoded {
  return decodeAccessReview(body, { kind: 'SubjectAccessReview', version: pathVersion });
}

/**
 * Any of the three, in the order kube-apiserver refuses them: the body's shape (400), the
 * object's namespace against the path's (400, the create handler's
 * `EnsureObjectNamespaceMatchesRequestNamespace`; a cluster-scoped review's is dropped),
 * validation (422, `pkg/apis/authorization/validation`), and for a SelfSubjectAccessReview
 * a caller to ask about (400, `selfsubjectaccessreview/rest.go`).
 */
export function decodeAccessReview(body: unknown, request: AccessReviewRequest): SubjectAccessReviewDecoded {
  const { kind, version } = request;
  let decoded: DecodedReview;
  try {
    decoded = decodeReview(body, kind, version);
  } catch (err) {
    const message =
      err instanceof DecodeError
        ? err.message
        : `${kind} in version "${version}" cannot be handled as a ${kind}`;
    return { ok: false, answer: badRequest(message) };
  }
  const { spec, metadata } = decoded;
  let namespace = '';
  if (kind === 'LocalSubjectAccessReview') {
    const path = request.namespace ?? '';
    if (metadata.namespace !== '' && metadata.namespace !== path) {
      return {
        ok: false,
        answer: badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        ),
      };
    }
    namespace = path;
  }
  const invalid = validate(kind, spec, { ...metadata, namespace });
  if (invalid.length > 0) return { ok: false, answer: failure(invalidStatus(invalid)) };
  if (kind === 'SelfSubjectAccessReview') {
    if (!request.caller) return { ok: false, answer: badRequest('no user present on request') };
    return { ok: true, input: { kind, spec, namespace, attributes: toAttributes(spec, request.caller) } };
  }
  return { ok: true, input: { kind, spec, namespace, attributes: toAttributes(spec, specUser(spec)) } };
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
    kind: input.kind,
    apiVersion: `${AUTHZ_GROUP}/${pathVersion}`,
    metadata: input.namespace === '' ? {} : { namespace: input.namespace },
    spec: encodeSpec(input.kind, input.spec, pathVersion),
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

/** The ObjectMeta fields a review may carry, as far as validation looks at them. */
interface Metadata {
  readonly namespace: string;
  /** The other fields with a value, in ObjectMeta's field order, rendered as Go's json.Marshal writes them. */
  readonly others: readonly (readonly [string, string])[];
}

interface DecodedReview {
  readonly spec: Spec;
  readonly metadata: Metadata;
}

class DecodeError extends Error {}

/** The kinds kube's scheme registers in authorization.k8s.io, v1 and v1beta1 alike. */
const GROUP_KINDS: ReadonlySet<string> = new Set([
  'SubjectAccessReview',
  'LocalSubjectAccessReview',
  'SelfSubjectAccessReview',
  'SelfSubjectRulesReview',
]);

function decodeReview(body: unknown, kind: AccessReviewKind, pathVersion: ApiVersionName): DecodedReview {
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
  const bodyKind = own(body, 'kind');
  if (bodyKind !== undefined && bodyKind !== null && bodyKind !== '' && bodyKind !== kind) {
    // Another kind of this group decodes, then fails to convert; any other kind is refused as foreign.
    if (typeof bodyKind === 'string' && GROUP_KINDS.has(bodyKind)) {
      throw new DecodeError(
        `${bodyKind} in version "${pathVersion}" cannot be handled as a ${kind}: converting (${pathVersion}.${bodyKind}) to (authorization.${kind}): unknown conversion`,
      );
    }
    throw new DecodeError(`the kind in the data does not match the expected kind (${kind})`);
  }
  // Every field path below is a constant, built into a message only when a type is wrong: a
  // review decodes without allocating a string it does not keep (perf.md: allocation per request).
  const d = new Decoder(kind, pathVersion);
  const spec = d.optionalObject(body, 'spec', 'spec') ?? EMPTY_OBJECT;
  const rawMetadata = d.optionalObject(body, 'metadata', 'metadata');
  const metadata = rawMetadata ? d.metadata(rawMetadata) : EMPTY_METADATA;
  const ra = d.optionalObject(spec, 'resourceAttributes', 'spec.resourceAttributes');
  const resourceAttributes = ra && d.resourceAttributes(ra);
  const nra = d.optionalObject(spec, 'nonResourceAttributes', 'spec.nonResourceAttributes');
  const nonResourceAttributes = nra && {
    path: d.string(nra, 'path', 'spec.nonResourceAttributes.path'),
    verb: d.string(nra, 'verb', 'spec.nonResourceAttributes.verb'),
  };
  // A SelfSubjectAccessReviewSpec has no subject fields: the decoder drops them as unknown.
  if (kind === 'SelfSubjectAccessReview') {
    return {
      spec: { resourceAttributes, nonResourceAttributes, user: '', groups: [], extra: NO_EXTRA, uid: '' },
      metadata,
    };
  }
  // The first wrong type is the one reported: fields are read in the order of kube's struct.
  const user = d.string(spec, 'user', 'spec.user');
  // v1beta1 calls the groups field `group`; each version ignores the other's name, as kube's
  // decoder ignores unknown fields.
  const groups =
    pathVersion === 'v1'
      ? d.stringList(spec, 'groups', 'spec.groups')
      : d.stringList(spec, 'group', 'spec.group');
  return {
    spec: {
      resourceAttributes,
      nonResourceAttributes,
      user,
      groups,
      extra: d.extra(spec),
      uid: d.string(spec, 'uid', 'spec.uid'),
    },
    metadata,
  };
}

const EMPTY_OBJECT: JsonObject = Object.freeze({});
const EMPTY_METADATA: Metadata = Object.freeze({ namespace: '', others: Object.freeze([]) });
/** Shared by every review without `extra`: nothing writes to a decoded spec. */
const NO_EXTRA: ReadonlyMap<string, readonly string[]> = new Map();

/**
 * ObjectMeta's JSON fields in Go's order, with how json.Marshal writes a set one; `managedFields`
 * is left out because validation clears it before comparing.
 */
const OBJECT_META_FIELDS: readonly (readonly [
  key: string,
  type: 'string' | 'integer' | 'map' | 'list' | 'any',
  path: string,
])[] = (
  [
    ['name', 'string'],
    ['generateName', 'string'],
    ['namespace', 'string'],
    ['selfLink', 'string'],
    ['uid', 'string'],
    ['resourceVersion', 'string'],
    ['generation', 'integer'],
    ['creationTimestamp', 'any'],
    ['deletionTimestamp', 'any'],
    ['deletionGracePeriodSeconds', 'integer'],
    ['labels', 'map'],
    ['annotations', 'map'],
    ['ownerReferences', 'any'],
    ['finalizers', 'list'],
  ] as const
).map(([key, type]) => [key, type, `metadata.${key}`] as const);

/** Go's json.Marshal escapes these where JSON.stringify does not. */
const GO_JSON_ESCAPES = /[<>&\u2028\u2029]/g;
const goJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    GO_JSON_ESCAPES,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

class Decoder {
  constructor(
    private readonly kind: AccessReviewKind,
    private readonly version: string,
  ) {}

  /** Names the field but never echoes the value or a parser message. */
  typeError(path: string): DecodeError {
    return new DecodeError(
      `${this.kind} in version "${this.version}" cannot be handled as a ${this.kind}: ${path}: wrong type`,
    );
  }

  metadata(o: JsonObject): Metadata {
    let others: [string, string][] | undefined;
    for (const [key, type, path] of OBJECT_META_FIELDS) {
      let rendered: string | undefined;
      switch (type) {
        case 'string': {
          const v = this.string(o, key, path);
          if (key === 'namespace') continue;
          if (v !== '') rendered = goJson(v);
          break;
        }
        case 'integer': {
          const v = own(o, key);
          if (v === undefined || v === null) break;
          if (typeof v !== 'number' || !Number.isInteger(v)) throw this.typeError(path);
          if (v !== 0) rendered = String(v);
          break;
        }
        case 'map': {
          const v = own(o, key);
          if (v === undefined || v === null) break;
          if (!isObject(v)) throw this.typeError(path);
          const keys = Object.keys(v).sort();
          for (const k of keys) if (typeof v[k] !== 'string') throw this.typeError(path);
          if (keys.length > 0) rendered = `{${keys.map((k) => `${goJson(k)}:${goJson(v[k])}`).join(',')}}`;
          break;
        }
        case 'list': {
          const v = this.stringList(o, key, path);
          if (v.length > 0) rendered = goJson(v);
          break;
        }
        case 'any': {
          const v = own(o, key);
          if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) rendered = goJson(v);
          break;
        }
      }
      if (rendered !== undefined) (others ??= []).push([key, rendered]);
    }
    return { namespace: this.string(o, 'namespace', 'metadata.namespace'), others: others ?? [] };
  }

  string(obj: JsonObject, key: string, path: string): string {
    const v = own(obj, key);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw this.typeError(path);
    return v;
  }

  stringList(obj: JsonObject, key: string, path: string): string[] {
    const v = own(obj, key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.typeError(path);
    const list = new Array<string>(v.length);
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      if (typeof item !== 'string') throw this.typeError(`${path}[${i}]`);
      list[i] = item;
    }
    return list;
  }

  /** An object member that may be absent or null; any other non-object is a wrong type. */
  optionalObject(obj: JsonObject, key: string, path: string): JsonObject | undefined {
    const v = own(obj, key);
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw this.typeError(path);
    return v;
  }

  extra(spec: JsonObject): ReadonlyMap<string, readonly string[]> {
    const v = this.optionalObject(spec, 'extra', 'spec.extra');
    if (!v) return NO_EXTRA;
    const out = new Map<string, string[]>();
    for (const key of Object.keys(v)) out.set(key, this.stringList(v, key, 'spec.extra'));
    return out;
  }

  resourceAttributes(o: JsonObject): ResourceAttributes {
    // Literal members are evaluated in order, so the first wrong type reported is kube's.
    return {
      namespace: this.string(o, 'namespace', 'spec.resourceAttributes.namespace'),
      verb: this.string(o, 'verb', 'spec.resourceAttributes.verb'),
      group: this.string(o, 'group', 'spec.resourceAttributes.group'),
      version: this.string(o, 'version', 'spec.resourceAttributes.version'),
      resource: this.string(o, 'resource', 'spec.resourceAttributes.resource'),
      subresource: this.string(o, 'subresource', 'spec.resourceAttributes.subresource'),
      name: this.string(o, 'name', 'spec.resourceAttributes.name'),
      fieldSelector: this.selectorAt(o, 'fieldSelector', 'spec.resourceAttributes.fieldSelector'),
      labelSelector: this.selectorAt(o, 'labelSelector', 'spec.resourceAttributes.labelSelector'),
    };
  }

  selectorAt(o: JsonObject, key: string, path: string): SelectorAttributes | undefined {
    const selector = this.optionalObject(o, key, path);
    return selector && this.selector(selector, path);
  }

  selector(o: JsonObject, p: string): SelectorAttributes {
    const raw = own(o, 'requirements');
    if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw this.typeError(`${p}.requirements`);
    const requirements = (Array.isArray(raw) ? raw : []).map((r, i) => {
      const rp = `${p}.requirements[${i}]`;
      if (!isObject(r)) throw this.typeError(rp);
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

/**
 * `ValidateSubjectAccessReview`, `ValidateLocalSubjectAccessReview` and
 * `ValidateSelfSubjectAccessReview`: the spec, then the metadata, which must be empty but for
 * a LocalSubjectAccessReview's namespace, which its resource attributes must repeat.
 */
function validate(kind: AccessReviewKind, spec: Spec, metadata: Metadata): FieldError[] {
  const errs = validateSpec(spec, kind !== 'SelfSubjectAccessReview');
  if (kind === 'LocalSubjectAccessReview') {
    if (metadata.others.length > 0)
      invalidValue(errs, 'metadata', renderMetadata(metadata), 'must be empty except for namespace');
    const ra = spec.resourceAttributes;
    if (ra && ra.namespace !== metadata.namespace)
      errs.invalid('spec.resourceAttributes.namespace', ra.namespace, 'must match metadata.namespace');
    const nra = spec.nonResourceAttributes;
    if (nra)
      invalidValue(
        errs,
        'spec.nonResourceAttributes',
        nonResourceValue(nra),
        'disallowed on this kind of request',
      );
  } else if (metadata.others.length > 0) {
    invalidValue(errs, 'metadata', renderMetadata(metadata), 'must be empty');
  }
  return errs.errors;
}

/** An `Invalid value` whose value Go prints as JSON (a struct), not as a quoted string. */
function invalidValue(errs: FieldErrorList, field: string, json: string, detail: string): void {
  errs.errors.push({ field, type: 'FieldValueInvalid', body: `Invalid value: ${json}: ${detail}` });
}

/** The ObjectMeta as json.Marshal writes it: set fields only, in the struct's order. */
function renderMetadata(metadata: Metadata): string {
  const set = new Map(metadata.others);
  if (metadata.namespace !== '') set.set('namespace', goJson(metadata.namespace));
  const fields = OBJECT_META_FIELDS.filter(([key]) => set.has(key)).map(
    ([key]) => `"${key}":${set.get(key)}`,
  );
  return `{${fields.join(',')}}`;
}

/** The internal NonResourceAttributes struct has no JSON tags: its field names print capitalised. */
function nonResourceValue(n: NonResourceAttributes): string {
  return goJson({ Path: n.path, Verb: n.verb });
}

function validateSpec(spec: Spec, subjectRequired: boolean): FieldErrorList {
  const errs = new FieldErrorList();
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    // kube 1.37 prints the value as JSON of the Go struct, field names capitalised.
    invalidValue(
      errs,
      'spec',
      nonResourceValue(spec.nonResourceAttributes),
      'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    errs.invalid(
      'spec',
      null,
      'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  if (subjectRequired && spec.user === '' && spec.groups.length === 0)
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
  return errs;
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

// ---- attributes: the spec's user (or the caller) taken literally; nothing is added ----

/** The user a SubjectAccessReview or LocalSubjectAccessReview asks about, taken literally. */
function specUser(spec: Spec): UserInfo {
  const user: { -readonly [K in keyof UserInfo]: UserInfo[K] } = { username: spec.user, groups: spec.groups };
  if (spec.uid !== '') user.uid = spec.uid;
  if (spec.extra.size > 0) {
    const extra = Object.create(null) as Record<string, readonly string[]>;
    for (const [key, values] of spec.extra) extra[key] = values;
    user.extra = extra;
  }
  return user;
}

function toAttributes(spec: Spec, user: UserInfo): Attributes {
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

function encodeSpec(kind: AccessReviewKind, spec: Spec, version: ApiVersionName): Record<string, unknown> {
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
  if (kind === 'SelfSubjectAccessReview') return out;
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
