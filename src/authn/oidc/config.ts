import { X509Certificate } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import { GO_YAML_OPTIONS, mergeOrderProblem } from '../../go-yaml.js';
import { isObject } from '../../json.js';
import {
  duplicateField,
  fieldErrorText,
  invalidField,
  OMITTED_VALUE,
  requiredField,
  type FieldValue,
} from '../../authz/field-errors.js';
import { CelCompileError, compileExpression, type CompiledExpression } from '../../cel/index.js';

/**
 * kube-apiserver's AuthenticationConfiguration (`apiserver.config.k8s.io/v1beta1` and
 * `/v1`), read as kube reads it: strict decoding (an unknown field is an error), then
 * `ValidateAuthenticationConfiguration` (apiserver/pkg/apis/apiserver/validation), whose
 * field paths and messages are kept word for word. Every CEL expression is compiled here,
 * once; a bad one is refused with its field path.
 */

export const API_VERSIONS = ['apiserver.config.k8s.io/v1', 'apiserver.config.k8s.io/v1beta1'] as const;

/** kube's `len(c.JWT) > 64` limit. */
const MAX_JWT_AUTHENTICATORS = 64;

export interface IssuerSpec {
  readonly url: string;
  /** Used as given instead of `{url}/.well-known/openid-configuration`. */
  readonly discoveryURL?: string;
  /** PEM bundle trusted for discovery and JWKS requests instead of the system roots. */
  readonly certificateAuthority?: string;
  readonly audiences: readonly string[];
}

export type ClaimValidationRule =
  | { readonly kind: 'claim'; readonly claim: string; readonly requiredValue: string }
  | { readonly kind: 'expression'; readonly program: CompiledExpression; readonly message: string };

export type PrefixedClaimOrExpression =
  | { readonly kind: 'claim'; readonly claim: string; readonly prefix: string }
  | { readonly kind: 'expression'; readonly program: CompiledExpression }
  | { readonly kind: 'none' };

export type ClaimOrExpression =
  | { readonly kind: 'claim'; readonly claim: string }
  | { readonly kind: 'expression'; readonly program: CompiledExpression }
  | { readonly kind: 'none' };

export interface JwtAuthenticatorSpec {
  readonly issuer: IssuerSpec;
  readonly claimValidationRules: readonly ClaimValidationRule[];
  readonly claimMappings: {
    readonly username: PrefixedClaimOrExpression;
    readonly groups: PrefixedClaimOrExpression;
    readonly uid: ClaimOrExpression;
    readonly extra: readonly { readonly key: string; readonly program: CompiledExpression }[];
  };
  readonly userValidationRules: readonly { readonly program: CompiledExpression; readonly message: string }[];
}

export interface AuthenticationConfiguration {
  readonly apiVersion: (typeof API_VERSIONS)[number];
  readonly jwt: readonly JwtAuthenticatorSpec[];
}

/** The errors of one configuration, each already in kube's `field.Error` wording. */
export class AuthenticationConfigError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.length === 1 ? errors[0]! : `[${[...new Set(errors)].join(', ')}]`);
    this.name = 'AuthenticationConfigError';
  }
}

/* ---- kube's field.Error texts (apimachinery/pkg/util/validation/field/errors.go) ---- */

const q = (s: string): string => JSON.stringify(s);
const required = (path: string, detail = ''): string => fieldErrorText(requiredField(path, detail));
const invalid = (path: string, value: FieldValue, detail: string): string =>
  fieldErrorText(invalidField(path, value, detail));
const duplicate = (path: string, value: string): string => fieldErrorText(duplicateField(path, value));

/* ---- strict decoding: the Go structs, with json names and types ---- */

type FieldType =
  | 'string'
  | 'bool'
  | '*string'
  | '[]string'
  | { readonly struct: StructSpec }
  | { readonly list: StructSpec };

interface StructSpec {
  readonly goName: string;
  readonly fields: Readonly<Record<string, FieldType>>;
}

const PREFIXED: StructSpec = {
  goName: 'PrefixedClaimOrExpression',
  fields: { claim: 'string', prefix: '*string', expression: 'string' },
};
const SCHEMA: StructSpec = {
  goName: 'AuthenticationConfiguration',
  fields: {
    apiVersion: 'string',
    kind: 'string',
    jwt: {
      list: {
        goName: 'JWTAuthenticator',
        fields: {
          issuer: {
            struct: {
              goName: 'Issuer',
              fields: {
                url: 'string',
                discoveryURL: '*string',
                certificateAuthority: 'string',
                audiences: '[]string',
                audienceMatchPolicy: 'string',
                egressSelectorType: 'string',
              },
            },
          },
          claimValidationRules: {
            list: {
              goName: 'ClaimValidationRule',
              fields: { claim: 'string', requiredValue: 'string', expression: 'string', message: 'string' },
            },
          },
          claimMappings: {
            struct: {
              goName: 'ClaimMappings',
              fields: {
                username: { struct: PREFIXED },
                groups: { struct: PREFIXED },
                uid: {
                  struct: { goName: 'ClaimOrExpression', fields: { claim: 'string', expression: 'string' } },
                },
                extra: {
                  list: { goName: 'ExtraMapping', fields: { key: 'string', valueExpression: 'string' } },
                },
              },
            },
          },
          userValidationRules: {
            list: { goName: 'UserValidationRule', fields: { expression: 'string', message: 'string' } },
          },
        },
      },
    },
    anonymous: {
      struct: {
        goName: 'AnonymousAuthConfig',
        fields: {
          enabled: 'bool',
          conditions: { list: { goName: 'AnonymousAuthCondition', fields: { path: 'string' } } },
        },
      },
    },
  },
};

/** The JSON type name Go's encoding/json prints in its errors. */
export function jsonTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function goType(t: FieldType): string {
  if (typeof t === 'string') return t === '*string' ? 'string' : t;
  return 'struct' in t ? `v1.${t.struct.goName}` : `[]v1.${t.list.goName}`;
}

type Plain = Record<string, unknown>;

/**
 * Go's `encoding/json` into the struct, strictly: members must match a json name exactly
 * (case included), and a value of the wrong JSON type is the error Go prints. `null`
 * leaves the zero value, as in Go.
 */
function decode(
  value: unknown,
  spec: StructSpec,
  path: string,
  parent: { goName: string; jsonPath: string } | undefined,
  problems: string[],
): Plain {
  const out: Plain = {};
  if (value === null || value === undefined) return out;
  if (jsonTypeName(value) !== 'object') {
    const where = parent ? `struct field ${parent.goName}.${parent.jsonPath}` : 'value';
    problems.push(`json: cannot unmarshal ${jsonTypeName(value)} into Go ${where} of type v1.${spec.goName}`);
    return out;
  }
  // Go names the innermost struct and the member path from the root, without indexes.
  const jsonPath = path.replace(/\[\d+\]/g, '');
  const obj = value as Plain;
  for (const key of Object.keys(obj)) {
    const fieldPath = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(spec.fields, key)) {
      problems.push(`strict decoding error: unknown field ${q(fieldPath)}`);
      continue;
    }
    const t = spec.fields[key]!;
    const v = obj[key];
    const goField = `${spec.goName}.${jsonPath ? `${jsonPath}.` : ''}${key}`;
    if (v === null || v === undefined) continue;
    const wrong = (): void => {
      problems.push(
        `json: cannot unmarshal ${jsonTypeName(v)} into Go struct field ${goField} of type ${goType(t)}`,
      );
    };
    if (t === 'string' || t === '*string') {
      if (typeof v !== 'string') wrong();
      else out[key] = v;
    } else if (t === 'bool') {
      if (typeof v !== 'boolean') wrong();
      else out[key] = v;
    } else if (t === '[]string') {
      if (!Array.isArray(v)) wrong();
      else if (v.some((s) => s !== null && typeof s !== 'string')) {
        const bad = v.find((s) => s !== null && typeof s !== 'string');
        problems.push(
          `json: cannot unmarshal ${jsonTypeName(bad)} into Go struct field ${goField} of type string`,
        );
      } else out[key] = v.map((s) => (s === null ? '' : (s as string)));
    } else if ('struct' in t) {
      out[key] = decode(
        v,
        t.struct,
        fieldPath,
        { goName: spec.goName, jsonPath: fieldPath.replace(/\[\d+\]/g, '') },
        problems,
      );
    } else if (!Array.isArray(v)) {
      wrong();
    } else {
      const parentOf = { goName: spec.goName, jsonPath: fieldPath.replace(/\[\d+\]/g, '') };
      out[key] = v.map((item, i) => decode(item, t.list, `${fieldPath}[${i}]`, parentOf, problems));
    }
  }
  return out;
}

/* ---- validation (validation.go) ---- */

const str = (o: Plain | undefined, k: string): string =>
  o && typeof o[k] === 'string' ? (o[k] as string) : '';
const obj = (o: Plain | undefined, k: string): Plain | undefined =>
  (o?.[k] as Plain | undefined) ?? undefined;
const list = (o: Plain | undefined, k: string): Plain[] => (Array.isArray(o?.[k]) ? (o[k] as Plain[]) : []);

function validateUrl(url: string, disallowed: ReadonlySet<string>, path: string, errs: string[]): void {
  if (disallowed.has(url)) {
    errs.push(
      invalid(
        path,
        url,
        `URL must not overlap with disallowed issuers: [${[...disallowed].sort().join(' ')}]`,
      ),
    );
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'https') errs.push(invalid(path, url, 'URL scheme must be https'));
  if (!URL.canParse(url)) {
    if (scheme === 'https') errs.push(invalid(path, url, `parse ${q(url)}: invalid URL`));
    return;
  }
  const u = new URL(url);
  if (u.username !== '' || u.password !== '' || /^[^/]*\/\/[^/]*@/.test(url)) {
    errs.push(invalid(path, url, 'URL must not contain a username or password'));
  }
  if (u.search !== '') errs.push(invalid(path, url, 'URL must not contain a query'));
  if (u.hash !== '') errs.push(invalid(path, url, 'URL must not contain a fragment'));
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** apimachinery's `IsDomainPrefixedPath`. */
function domainPrefixedPath(path: string, key: string, errs: string[]): void {
  if (key === '') {
    errs.push(required(path));
    return;
  }
  const slash = key.indexOf('/');
  const host = slash < 0 ? key : key.slice(0, slash);
  const rest = slash < 0 ? '' : key.slice(slash + 1);
  if (slash < 0 || host === '' || rest === '') {
    errs.push(invalid(path, key, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    return;
  }
  if (host.length > 253) errs.push(invalid(path, host, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(host)) {
    errs.push(
      invalid(
        path,
        host,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    );
  }
  if (!HTTP_PATH.test(rest)) {
    errs.push(
      invalid(path, rest, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"),
    );
  }
}

function isKubernetesDomainPrefix(key: string): boolean {
  const slash = key.indexOf('/');
  const domain = slash < 0 ? '' : key.slice(0, slash);
  return (
    domain === 'kubernetes.io' ||
    domain.endsWith('.kubernetes.io') ||
    domain === 'k8s.io' ||
    domain.endsWith('.k8s.io')
  );
}

function certificatesIn(pem: string): number {
  let n = 0;
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
    try {
      new X509Certificate(m[0]);
      n++;
    } catch {
      // kube's ParseCertsPEM fails on a bad block; one bad block is enough to refuse.
      return -1;
    }
  }
  return n;
}

function compile(
  expression: string,
  variable: 'claims' | 'user',
  returns: 'bool' | 'any',
  path: string,
  errs: string[],
): CompiledExpression | undefined {
  try {
    return compileExpression(expression, variable, returns);
  } catch (err) {
    if (err instanceof CelCompileError) {
      errs.push(invalid(path, expression, err.message));
      return undefined;
    }
    throw err;
  }
}

interface EmailState {
  usesEmail: boolean;
  usesEmailVerified: boolean;
}

function prefixedClaimOrExpression(
  m: Plain | undefined,
  path: string,
  isRequired: boolean,
  errs: string[],
): PrefixedClaimOrExpression {
  const claim = str(m, 'claim');
  const expression = str(m, 'expression');
  const prefix = m && typeof m.prefix === 'string' ? m.prefix : undefined;
  if (expression !== '' && claim !== '') {
    errs.push(invalid(path, '', "claim and expression can't both be set"));
  } else if (expression === '' && claim === '' && isRequired) {
    errs.push(required(path, 'claim or expression is required'));
  } else if (expression !== '') {
    if (prefix !== undefined)
      errs.push(invalid(`${path}.prefix`, prefix, 'may not be specified when expression is set'));
    const program = compile(expression, 'claims', 'any', `${path}.expression`, errs);
    if (program) return { kind: 'expression', program };
  } else if (claim !== '') {
    if (prefix === undefined) {
      errs.push(
        required(
          `${path}.prefix`,
          'prefix is required when claim is set. It can be set to an empty string to disable prefixing',
        ),
      );
    }
    return { kind: 'claim', claim, prefix: prefix ?? '' };
  }
  return { kind: 'none' };
}

function validateJwt(
  a: Plain,
  path: string,
  disallowed: ReadonlySet<string>,
  errs: string[],
): JwtAuthenticatorSpec {
  const email: EmailState = { usesEmail: false, usesEmailVerified: false };

  // issuer
  const issuer = obj(a, 'issuer');
  const ip = `${path}.issuer`;
  const url = str(issuer, 'url');
  if (url === '') errs.push(required(`${ip}.url`));
  else validateUrl(url, disallowed, `${ip}.url`, errs);
  const discoveryURL = str(issuer, 'discoveryURL');
  if (discoveryURL !== '') {
    if (url !== '' && url.replace(/\/+$/, '') === discoveryURL.replace(/\/+$/, '')) {
      errs.push(invalid(`${ip}.discoveryURL`, discoveryURL, 'discoveryURL must be different from URL'));
    }
    validateUrl(discoveryURL, new Set(), `${ip}.discoveryURL`, errs);
  }
  const audiences = Array.isArray(issuer?.audiences) ? (issuer.audiences as string[]) : [];
  const policy = str(issuer, 'audienceMatchPolicy');
  if (audiences.length === 0) {
    errs.push(required(`${ip}.audiences`, `at least one ${ip}.audiences is required`));
  } else {
    const seen = new Set<string>();
    audiences.forEach((aud, i) => {
      if (aud === '') errs.push(required(`${ip}.audiences[${i}]`));
      if (seen.has(aud)) errs.push(duplicate(`${ip}.audiences[${i}]`, aud));
      seen.add(aud);
    });
    if (audiences.length > 1 && policy !== 'MatchAny') {
      errs.push(
        invalid(
          `${ip}.audienceMatchPolicy`,
          policy,
          'audienceMatchPolicy must be MatchAny for multiple audiences',
        ),
      );
    }
    if (audiences.length === 1 && policy !== '' && policy !== 'MatchAny') {
      errs.push(
        invalid(
          `${ip}.audienceMatchPolicy`,
          policy,
          'audienceMatchPolicy must be empty or MatchAny for single audience',
        ),
      );
    }
  }
  const ca = str(issuer, 'certificateAuthority');
  if (ca !== '' && certificatesIn(ca) <= 0) {
    errs.push(
      invalid(
        `${ip}.certificateAuthority`,
        OMITTED_VALUE,
        'data does not contain any valid RSA or ECDSA certificates',
      ),
    );
  }
  const egress = str(issuer, 'egressSelectorType');
  if (egress !== '') {
    errs.push(
      invalid(`${ip}.egressSelectorType`, egress, 'egress selectors are not supported by tokenwarden'),
    );
  }

  // claimValidationRules
  const claimValidationRules: ClaimValidationRule[] = [];
  const seenClaims = new Set<string>();
  const seenExpressions = new Set<string>();
  list(a, 'claimValidationRules').forEach((rule, i) => {
    const rp = `${path}.claimValidationRules[${i}]`;
    const claim = str(rule, 'claim');
    const expression = str(rule, 'expression');
    const message = str(rule, 'message');
    const requiredValue = str(rule, 'requiredValue');
    if (claim !== '' && expression !== '') {
      errs.push(invalid(rp, claim, "claim and expression can't both be set"));
    } else if (claim === '' && expression === '') {
      errs.push(required(rp, 'claim or expression is required'));
    } else if (claim !== '') {
      if (message !== '')
        errs.push(invalid(`${rp}.message`, message, 'may not be specified when claim is set'));
      if (seenClaims.has(claim)) errs.push(duplicate(`${rp}.claim`, claim));
      else claimValidationRules.push({ kind: 'claim', claim, requiredValue });
      seenClaims.add(claim);
    } else {
      if (requiredValue !== '') {
        errs.push(
          invalid(`${rp}.requiredValue`, requiredValue, 'may not be specified when expression is set'),
        );
      }
      if (seenExpressions.has(expression)) {
        errs.push(duplicate(`${rp}.expression`, expression));
        return;
      }
      seenExpressions.add(expression);
      const program = compile(expression, 'claims', 'bool', `${rp}.expression`, errs);
      if (program) {
        email.usesEmailVerified ||= program.usesEmailVerified;
        claimValidationRules.push({ kind: 'expression', program, message });
      }
    }
  });

  // claimMappings
  const cm = obj(a, 'claimMappings');
  const mp = `${path}.claimMappings`;
  const usernameSpec = obj(cm, 'username');
  const username = prefixedClaimOrExpression(usernameSpec, `${mp}.username`, true, errs);
  if (username.kind === 'expression') {
    email.usesEmail ||= username.program.usesEmail;
    email.usesEmailVerified ||= username.program.usesEmailVerified;
  }
  const groups = prefixedClaimOrExpression(obj(cm, 'groups'), `${mp}.groups`, false, errs);
  const uidSpec = obj(cm, 'uid');
  let uid: ClaimOrExpression = { kind: 'none' };
  if (str(uidSpec, 'claim') !== '' && str(uidSpec, 'expression') !== '') {
    errs.push(invalid(`${mp}.uid`, '', "claim and expression can't both be set"));
  } else if (str(uidSpec, 'expression') !== '') {
    const program = compile(str(uidSpec, 'expression'), 'claims', 'any', `${mp}.uid.expression`, errs);
    if (program) uid = { kind: 'expression', program };
  } else if (str(uidSpec, 'claim') !== '') {
    uid = { kind: 'claim', claim: str(uidSpec, 'claim') };
  }
  const extra: { key: string; program: CompiledExpression }[] = [];
  const seenKeys = new Set<string>();
  list(cm, 'extra').forEach((mapping, i) => {
    const ep = `${mp}.extra[${i}]`;
    const key = str(mapping, 'key');
    domainPrefixedPath(`${ep}.key`, key, errs);
    if (key !== key.toLowerCase()) errs.push(invalid(`${ep}.key`, key, 'must be lowercase'));
    if (isKubernetesDomainPrefix(key)) {
      errs.push(
        invalid(
          `${ep}.key`,
          key,
          'k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use',
        ),
      );
    }
    if (seenKeys.has(key)) {
      errs.push(duplicate(`${ep}.key`, key));
      return;
    }
    seenKeys.add(key);
    const valueExpression = str(mapping, 'valueExpression');
    if (valueExpression === '') {
      errs.push(required(`${ep}.valueExpression`));
      return;
    }
    const program = compile(valueExpression, 'claims', 'any', `${ep}.valueExpression`, errs);
    if (program) {
      email.usesEmailVerified ||= program.usesEmailVerified;
      extra.push({ key, program });
    }
  });
  if (email.usesEmail && !email.usesEmailVerified) {
    errs.push(
      invalid(
        `${mp}.username.expression`,
        str(usernameSpec, 'expression'),
        'claims.email_verified must be used in claimMappings.username.expression or claimMappings.extra[*].valueExpression or claimValidationRules[*].expression when claims.email is used in claimMappings.username.expression',
      ),
    );
  }

  // userValidationRules
  const userValidationRules: { program: CompiledExpression; message: string }[] = [];
  const seenUserExpressions = new Set<string>();
  list(a, 'userValidationRules').forEach((rule, i) => {
    const rp = `${path}.userValidationRules[${i}]`;
    const expression = str(rule, 'expression');
    if (expression === '') {
      errs.push(required(`${rp}.expression`));
      return;
    }
    if (seenUserExpressions.has(expression)) {
      errs.push(duplicate(`${rp}.expression`, expression));
      return;
    }
    seenUserExpressions.add(expression);
    const program = compile(expression, 'user', 'bool', `${rp}.expression`, errs);
    if (program) userValidationRules.push({ program, message: str(rule, 'message') });
  });

  return {
    issuer: {
      url,
      ...(discoveryURL === '' ? {} : { discoveryURL }),
      ...(ca === '' ? {} : { certificateAuthority: ca }),
      audiences,
    },
    claimValidationRules,
    claimMappings: { username, groups, uid, extra },
    userValidationRules,
  };
}

export interface ParseOptions {
  /** The service-account issuers: a jwt issuer may not be one of them (kubernetes/kubernetes#123561). */
  readonly disallowedIssuers?: readonly string[];
}

/**
 * Parses and validates an AuthenticationConfiguration document. Throws
 * AuthenticationConfigError with every problem, in kube's order and wording.
 */
export function parseAuthenticationConfiguration(
  text: string,
  options: ParseOptions = {},
): AuthenticationConfiguration {
  if (text.trim() === '') throw new AuthenticationConfigError(['empty config data']);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...GO_YAML_OPTIONS, prettyErrors: false, lineCounter });
  const problem = doc.errors[0]?.message.split('\n')[0] ?? mergeOrderProblem(doc, lineCounter);
  if (problem !== undefined) {
    throw new AuthenticationConfigError([`error converting YAML to JSON: ${problem}`]);
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObject(raw)) {
    throw new AuthenticationConfigError(['the configuration is not a YAML mapping']);
  }
  const apiVersion = (raw as Plain).apiVersion;
  const kind = (raw as Plain).kind;
  if (typeof kind !== 'string' || kind === '') {
    throw new AuthenticationConfigError(["Object 'Kind' is missing"]);
  }
  if (typeof apiVersion !== 'string' || !(API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new AuthenticationConfigError([
      `no kind ${q(kind)} is registered for version ${q(String(apiVersion ?? ''))}: apiVersion must be one of ${API_VERSIONS.join(', ')}`,
    ]);
  }
  if (kind !== 'AuthenticationConfiguration') {
    throw new AuthenticationConfigError([`no kind ${q(kind)} is registered for version ${q(apiVersion)}`]);
  }
  const decodeProblems: string[] = [];
  const config = decode(raw, SCHEMA, '', undefined, decodeProblems);
  if (decodeProblems.length > 0) throw new AuthenticationConfigError(decodeProblems);

  const errs: string[] = [];
  const jwt = list(config, 'jwt');
  if (jwt.length > MAX_JWT_AUTHENTICATORS) {
    throw new AuthenticationConfigError([
      `jwt: Too many: ${jwt.length}: must have at most ${MAX_JWT_AUTHENTICATORS} items`,
    ]);
  }
  const disallowed = new Set(options.disallowedIssuers ?? []);
  const seenIssuers = new Set<string>();
  const seenDiscovery = new Set<string>();
  const specs: JwtAuthenticatorSpec[] = [];
  jwt.forEach((a, i) => {
    const path = `jwt[${i}]`;
    specs.push(validateJwt(a, path, disallowed, errs));
    const url = str(obj(a, 'issuer'), 'url');
    if (seenIssuers.has(url)) errs.push(duplicate(`${path}.issuer.url`, url));
    seenIssuers.add(url);
    const discoveryURL = str(obj(a, 'issuer'), 'discoveryURL');
    if (discoveryURL !== '') {
      if (seenDiscovery.has(discoveryURL)) errs.push(duplicate(`${path}.issuer.discoveryURL`, discoveryURL));
      seenDiscovery.add(discoveryURL);
    }
  });
  if (config.anonymous !== undefined) {
    // TokenReview always carries a token, so the anonymous authenticator never runs here.
    errs.push('anonymous: Forbidden: not supported by tokenwarden (a TokenReview always carries a token)');
  }
  if (errs.length > 0) throw new AuthenticationConfigError(errs);
  return { apiVersion: apiVersion as AuthenticationConfiguration['apiVersion'], jwt: specs };
}
