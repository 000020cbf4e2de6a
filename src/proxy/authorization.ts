import type { Attributes, Authorizer, AuthzResult } from '../authz/authorizer.js';
import { nonResourceAttributes, resourceAttributes } from '../authz/attributes.js';
import type { UserInfo } from '../user.js';
import { parseGoQuery } from './paths.js';

/** kube-rbac-proxy's `authorization.resourceAttributes`; with rewrites each field may hold `{{ .Value }}`. */
export interface ResourceAttributesConfig {
  readonly namespace?: string;
  readonly apiGroup?: string;
  readonly apiVersion?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly name?: string;
}

/** kube-rbac-proxy's `authorization.rewrites`: where `{{ .Value }}` comes from. */
export interface RewritesConfig {
  readonly byQueryParameter?: { readonly name: string };
  readonly byHttpHeader?: { readonly name: string };
}

export interface RequestAttributesConfig {
  readonly resourceAttributes?: ResourceAttributesConfig;
  readonly rewrites?: RewritesConfig;
}

/** What per-request authorization reads of a request. */
export interface AuthorizedRequest {
  readonly method: string;
  /** Decoded path (Go's `URL.Path`). */
  readonly path: string;
  readonly rawQuery: string;
  /** Lower-case names, every line its own value. */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
}

/** kube-rbac-proxy's verb for a method (`GetRequestAttributes`); any other method gets the empty verb, as there. */
export function verbForMethod(method: string): string {
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

type Template = (value: string) => string;

const PLACEHOLDER = /\{\{\s*\.Value\s*\}\}/g;

/**
 * The one Go text/template form kube-rbac-proxy's configs use: literal text with
 * `{{ .Value }}` holes. Anything else between braces is refused at load time rather than
 * rendered differently from Go.
 */
function compileTemplate(text: string, field: string): Template {
  const rest = text.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    throw new TypeError(
      `authorization.resourceAttributes.${field}: only {{ .Value }} is supported in templates`,
    );
  }
  const parts = text.split(PLACEHOLDER);
  if (parts.length === 1) return () => text;
  return (value) => parts.join(value);
}

const FIELDS = ['namespace', 'apiGroup', 'apiVersion', 'resource', 'subresource', 'name'] as const;

/**
 * The attributes a request is authorized with, as kube-rbac-proxy builds them: without
 * `resourceAttributes`, a non-resource request for the path with the method's verb; with
 * them, one resource request; with rewrites too, one resource request per value found in
 * the query parameter and then the header, each template filled with that value, all of
 * which must be allowed. An empty list (rewrites configured, no value sent) means the
 * request is malformed: 400, as kube-rbac-proxy answers.
 */
export function createAttributesGetter(
  config: RequestAttributesConfig,
): (user: UserInfo, request: AuthorizedRequest) => Attributes[] {
  const resource = config.resourceAttributes;
  if (!resource) {
    return (user, request) => [nonResourceAttributes(user, verbForMethod(request.method), request.path)];
  }
  const { rewrites } = config;
  const query = rewrites?.byQueryParameter?.name || undefined;
  const header = rewrites?.byHttpHeader?.name ? rewrites.byHttpHeader.name.toLowerCase() : undefined;
  if (!rewrites) {
    const fixed = Object.fromEntries(FIELDS.map((f) => [f, resource[f] ?? ''])) as Record<
      (typeof FIELDS)[number],
      string
    >;
    return (user, request) => [resourceAttributes(user, { verb: verbForMethod(request.method), ...fixed })];
  }
  const templates = FIELDS.map((f) => [f, compileTemplate(resource[f] ?? '', f)] as const);
  return (user, request) => {
    const params: string[] = [];
    if (query !== undefined) params.push(...(parseGoQuery(request.rawQuery).get(query) ?? []));
    if (header !== undefined && Object.hasOwn(request.headers, header))
      params.push(...(request.headers[header] ?? []));
    const verb = verbForMethod(request.method);
    return params.map((value) =>
      resourceAttributes(user, {
        verb,
        ...(Object.fromEntries(templates.map(([f, t]) => [f, t(value)])) as Record<
          (typeof FIELDS)[number],
          string
        >),
      }),
    );
  };
}

/** One `authorization.static` entry of kube-rbac-proxy's config: empty fields match anything. */
export interface StaticRule {
  readonly user?: { readonly name?: string; readonly groups?: readonly string[] };
  readonly verb?: string;
  readonly namespace?: string;
  readonly apiGroup?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly name?: string;
  readonly resourceRequest?: boolean;
  readonly path?: string;
}

const STATIC_ALLOW: AuthzResult = Object.freeze({
  decision: 'allow',
  reason: 'found corresponding static auth config',
});
const NO_OPINION: AuthzResult = Object.freeze({ decision: 'no-opinion', reason: '' });

/**
 * kube-rbac-proxy's static authorizer (`pkg/authorization/static`): allow when one rule
 * matches (an empty field matches anything, `user.groups` needs one common group,
 * `resourceRequest` must be equal), else no opinion. A resource rule with a path, or a
 * non-resource rule without one, is refused when built, as there.
 */
export function createStaticAuthorizer(rules: readonly StaticRule[]): Authorizer {
  rules.forEach((rule, i) => {
    if (Boolean(rule.resourceRequest) !== !rule.path) {
      throw new TypeError(
        `authorization.static[${i}]: resource requests must not include a path, non-resource requests need one`,
      );
    }
  });
  const field = (want: string | undefined, got: string): boolean => !want || want === got;
  const matches = (rule: StaticRule, a: Attributes): boolean => {
    const groups = rule.user?.groups ?? [];
    return (
      field(rule.user?.name, a.user.username) &&
      (groups.length === 0 || a.user.groups.some((g) => groups.includes(g))) &&
      field(rule.verb, a.verb) &&
      field(rule.namespace, a.namespace) &&
      field(rule.apiGroup, a.apiGroup) &&
      field(rule.resource, a.resource) &&
      field(rule.subresource, a.subresource) &&
      field(rule.name, a.name) &&
      field(rule.path, a.path) &&
      Boolean(rule.resourceRequest) === a.resourceRequest
    );
  };
  const list = [...rules];
  return {
    authorize: (a) => (list.some((rule) => matches(rule, a)) ? STATIC_ALLOW : NO_OPINION),
  } satisfies Authorizer;
}
