import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationConfigError,
  parseAuthenticationConfiguration,
} from '../../../src/authn/oidc/config.js';

const FIXTURES = new URL('../../fixtures/oidc/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

function doc(jwt: string, apiVersion = 'apiserver.config.k8s.io/v1'): string {
  return `apiVersion: ${apiVersion}\nkind: AuthenticationConfiguration\njwt:\n${jwt}`;
}

const MAPPINGS = `  claimMappings:\n    username: {claim: sub, prefix: ""}\n`;

function one(issuer: string, rest = MAPPINGS): string {
  return doc(`- issuer:\n${issuer}\n${rest}`);
}

/** The kube field errors of a document (empty when it is valid). */
function errorsOf(text: string, disallowedIssuers: string[] = []): readonly string[] {
  try {
    parseAuthenticationConfiguration(text, { disallowedIssuers });
    return [];
  } catch (err) {
    if (err instanceof AuthenticationConfigError) return err.errors;
    throw err;
  }
}

const ISSUER = `    url: https://issuer.example\n    audiences: [my-app]`;

describe('AuthenticationConfiguration: decoding', () => {
  it('accepts the documentation examples in v1 and v1beta1', () => {
    for (const name of ['valid-token.yaml', 'fails-claim-validation.yaml', 'fails-user-validation.yaml']) {
      const text = fixture(name);
      expect(errorsOf(text)).toEqual([]);
      expect(errorsOf(text.replace('/v1\n', '/v1beta1\n'))).toEqual([]);
    }
  });

  it('refuses unknown fields, wrong types, kinds and versions', () => {
    expect(errorsOf(one(`${ISSUER}\n    clientID: x`))).toEqual([
      'strict decoding error: unknown field "jwt[0].issuer.clientID"',
    ]);
    expect(errorsOf(one(`    url: 7\n    audiences: [my-app]`))).toEqual([
      'json: cannot unmarshal number into Go struct field Issuer.jwt.issuer.url of type string',
    ]);
    expect(errorsOf(one(`    url: https://issuer.example\n    audiences: my-app`))).toEqual([
      'json: cannot unmarshal string into Go struct field Issuer.jwt.issuer.audiences of type []string',
    ]);
    expect(
      errorsOf('apiVersion: apiserver.config.k8s.io/v1alpha9\nkind: AuthenticationConfiguration\n')[0],
    ).toMatch(
      /no kind "AuthenticationConfiguration" is registered for version "apiserver.config.k8s.io\/v1alpha9"/,
    );
    expect(errorsOf('apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\n')).toEqual([
      'no kind "AuthorizationConfiguration" is registered for version "apiserver.config.k8s.io/v1"',
    ]);
    expect(errorsOf('')).toEqual(['empty config data']);
  });

  it('reads YAML as kube does: merge keys honoured, yes/on as booleans that a string field refuses', () => {
    const shared = doc(
      `- issuer: &iss {url: "https://a.example", audiences: [x]}\n${MAPPINGS}` +
        `- issuer:\n    <<: *iss\n    url: "https://b.example"\n${MAPPINGS}`,
    );
    expect(
      parseAuthenticationConfiguration(shared).jwt.map((j) => [j.issuer.url, j.issuer.audiences]),
    ).toEqual([
      ['https://a.example', ['x']],
      ['https://b.example', ['x']],
    ]);
    const overridden = doc(
      `- issuer: &iss {url: "https://a.example", audiences: [x]}\n${MAPPINGS}` +
        `- issuer:\n    url: "https://b.example"\n    <<: *iss\n${MAPPINGS}`,
    );
    expect(errorsOf(overridden)).toEqual([
      'error converting YAML to JSON: line 9: "<<" merges key "url" already set above it in the same mapping (kube\'s YAML reader lets the merge win there, others the key): put "<<" first',
    ]);
    expect(errorsOf(one(`    url: https://issuer.example\n    audiences: [on]`))).toEqual([
      'json: cannot unmarshal bool into Go struct field Issuer.jwt.issuer.audiences of type string',
    ]);
  });

  it('allows no authenticators at all, as kube does', () => {
    expect(
      parseAuthenticationConfiguration(
        'apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\n',
      ).jwt,
    ).toEqual([]);
  });

  it('refuses what tokenwarden does not implement, naming the field', () => {
    expect(
      errorsOf(
        'apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous:\n  enabled: true\n',
      ),
    ).toEqual(['anonymous: Forbidden: not supported by tokenwarden (a TokenReview always carries a token)']);
    expect(errorsOf(one(`${ISSUER}\n    egressSelectorType: cluster`))).toEqual([
      'jwt[0].issuer.egressSelectorType: Invalid value: "cluster": egress selectors are not supported by tokenwarden',
    ]);
  });
});

describe('AuthenticationConfiguration: issuer validation (validation.go)', () => {
  it('requires an https URL without user, query or fragment', () => {
    expect(errorsOf(one(`    audiences: [my-app]`))).toEqual(['jwt[0].issuer.url: Required value']);
    expect(errorsOf(one(`    url: http://issuer.example\n    audiences: [my-app]`))).toEqual([
      'jwt[0].issuer.url: Invalid value: "http://issuer.example": URL scheme must be https',
    ]);
    expect(errorsOf(one(`    url: https://u:p@issuer.example?a=b#f\n    audiences: [my-app]`))).toEqual([
      'jwt[0].issuer.url: Invalid value: "https://u:p@issuer.example?a=b#f": URL must not contain a username or password',
      'jwt[0].issuer.url: Invalid value: "https://u:p@issuer.example?a=b#f": URL must not contain a query',
      'jwt[0].issuer.url: Invalid value: "https://u:p@issuer.example?a=b#f": URL must not contain a fragment',
    ]);
  });

  it('refuses duplicate issuers and discovery URLs, and a discovery URL equal to the issuer', () => {
    const twice = doc(
      `- issuer: {url: "https://a.example", discoveryURL: "https://d.example/x", audiences: [x]}\n${MAPPINGS}` +
        `- issuer: {url: "https://a.example", discoveryURL: "https://d.example/x", audiences: [x]}\n${MAPPINGS}`,
    );
    expect(errorsOf(twice)).toEqual([
      'jwt[1].issuer.url: Duplicate value: "https://a.example"',
      'jwt[1].issuer.discoveryURL: Duplicate value: "https://d.example/x"',
    ]);
    expect(
      errorsOf(one(`    url: https://a.example\n    discoveryURL: https://a.example/\n    audiences: [x]`)),
    ).toEqual([
      'jwt[0].issuer.discoveryURL: Invalid value: "https://a.example/": discoveryURL must be different from URL',
    ]);
  });

  it('refuses an issuer that is also a service-account issuer (kubernetes/kubernetes#123561)', () => {
    expect(errorsOf(one(ISSUER), ['https://kubernetes.default.svc', 'https://issuer.example'])).toEqual([
      'jwt[0].issuer.url: Invalid value: "https://issuer.example": URL must not overlap with disallowed issuers: [https://issuer.example https://kubernetes.default.svc]',
    ]);
  });

  it('requires audiences, unique and non-empty, and MatchAny for several', () => {
    expect(errorsOf(one(`    url: https://issuer.example`))).toEqual([
      'jwt[0].issuer.audiences: Required value: at least one jwt[0].issuer.audiences is required',
    ]);
    expect(
      errorsOf(
        one(`    url: https://issuer.example\n    audiences: [a, "", a]\n    audienceMatchPolicy: MatchAny`),
      ),
    ).toEqual([
      'jwt[0].issuer.audiences[1]: Required value',
      'jwt[0].issuer.audiences[2]: Duplicate value: "a"',
    ]);
    expect(errorsOf(one(`    url: https://issuer.example\n    audiences: [a, b]`))).toEqual([
      'jwt[0].issuer.audienceMatchPolicy: Invalid value: "": audienceMatchPolicy must be MatchAny for multiple audiences',
    ]);
    expect(
      errorsOf(one(`    url: https://issuer.example\n    audiences: [a]\n    audienceMatchPolicy: MatchAll`)),
    ).toEqual([
      'jwt[0].issuer.audienceMatchPolicy: Invalid value: "MatchAll": audienceMatchPolicy must be empty or MatchAny for single audience',
    ]);
  });

  it('refuses a certificateAuthority without certificates', () => {
    expect(errorsOf(one(`${ISSUER}\n    certificateAuthority: "<PEM encoded CA certificates>"`))).toEqual([
      'jwt[0].issuer.certificateAuthority: Invalid value: value omitted: data does not contain any valid RSA or ECDSA certificates',
    ]);
  });

  it('refuses the documentation reference example, which sets both claim and expression everywhere', () => {
    const reference = one(
      ISSUER,
      `  claimMappings:
    username: {claim: sub, prefix: "", expression: 'claims.username + ":external-user"'}
    groups: {claim: sub, prefix: "", expression: 'claims.roles.split(",")'}
    uid: {claim: sub, expression: claims.sub}
`,
    );
    expect(errorsOf(reference)).toEqual([
      `jwt[0].claimMappings.username: Invalid value: "": claim and expression can't both be set`,
      `jwt[0].claimMappings.groups: Invalid value: "": claim and expression can't both be set`,
      `jwt[0].claimMappings.uid: Invalid value: "": claim and expression can't both be set`,
    ]);
  });
});

describe('AuthenticationConfiguration: rules and mappings (validation.go)', () => {
  it('requires a username claim or expression, and a prefix with a claim', () => {
    expect(errorsOf(one(ISSUER, '  claimMappings: {}\n'))).toEqual([
      'jwt[0].claimMappings.username: Required value: claim or expression is required',
    ]);
    expect(
      errorsOf(one(ISSUER, '  claimMappings:\n    username: {claim: sub}\n    groups: {claim: g}\n')),
    ).toEqual([
      'jwt[0].claimMappings.username.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing',
      'jwt[0].claimMappings.groups.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing',
    ]);
    expect(
      errorsOf(one(ISSUER, '  claimMappings:\n    username: {expression: claims.sub, prefix: "x:"}\n')),
    ).toEqual([
      'jwt[0].claimMappings.username.prefix: Invalid value: "x:": may not be specified when expression is set',
    ]);
  });

  it('checks claim validation rules', () => {
    const rules = `  claimValidationRules:
  - {claim: hd, requiredValue: a, expression: "true"}
  - {}
  - {claim: hd, message: m}
  - {claim: hd}
  - {expression: "claims.x == 1", requiredValue: v}
  - {expression: "claims.x == 1"}
${MAPPINGS}`;
    expect(errorsOf(one(ISSUER, rules))).toEqual([
      `jwt[0].claimValidationRules[0]: Invalid value: "hd": claim and expression can't both be set`,
      'jwt[0].claimValidationRules[1]: Required value: claim or expression is required',
      'jwt[0].claimValidationRules[2].message: Invalid value: "m": may not be specified when claim is set',
      'jwt[0].claimValidationRules[3].claim: Duplicate value: "hd"',
      'jwt[0].claimValidationRules[4].requiredValue: Invalid value: "v": may not be specified when expression is set',
      'jwt[0].claimValidationRules[5].expression: Duplicate value: "claims.x == 1"',
    ]);
  });

  it('checks extra keys: domain-prefixed, lowercase, not kubernetes.io or k8s.io, unique, with an expression', () => {
    const extra = `  claimMappings:
    username: {claim: sub, prefix: ""}
    extra:
    - {key: foo, valueExpression: claims.a}
    - {key: Example.com/Foo, valueExpression: claims.a}
    - {key: authentication.kubernetes.io/x, valueExpression: claims.a}
    - {key: k8s.io/x, valueExpression: claims.a}
    - {key: example.com/a, valueExpression: claims.a}
    - {key: example.com/a, valueExpression: claims.b}
    - {key: example.com/b}
`;
    expect(errorsOf(one(ISSUER, extra))).toEqual([
      'jwt[0].claimMappings.extra[0].key: Invalid value: "foo": must be a domain-prefixed path (such as "acme.io/foo")',
      `jwt[0].claimMappings.extra[1].key: Invalid value: "Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'jwt[0].claimMappings.extra[1].key: Invalid value: "Example.com/Foo": must be lowercase',
      'jwt[0].claimMappings.extra[2].key: Invalid value: "authentication.kubernetes.io/x": k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use',
      'jwt[0].claimMappings.extra[3].key: Invalid value: "k8s.io/x": k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use',
      'jwt[0].claimMappings.extra[5].key: Duplicate value: "example.com/a"',
      'jwt[0].claimMappings.extra[6].valueExpression: Required value',
    ]);
  });

  it('requires claims.email_verified somewhere when the username expression uses claims.email', () => {
    const bare = one(ISSUER, '  claimMappings:\n    username: {expression: claims.email}\n');
    expect(errorsOf(bare)).toEqual([
      'jwt[0].claimMappings.username.expression: Invalid value: "claims.email": claims.email_verified must be used in claimMappings.username.expression or claimMappings.extra[*].valueExpression or claimValidationRules[*].expression when claims.email is used in claimMappings.username.expression',
    ]);
    const withRule = one(
      ISSUER,
      `  claimValidationRules:\n  - expression: "claims.email_verified == true"\n  claimMappings:\n    username: {expression: claims.email}\n`,
    );
    expect(errorsOf(withRule)).toEqual([]);
  });

  it('checks user validation rules', () => {
    const rules = `${MAPPINGS}  userValidationRules:
  - {message: m}
  - {expression: "user.username != ''"}
  - {expression: "user.username != ''"}
`;
    expect(errorsOf(one(ISSUER, rules))).toEqual([
      'jwt[0].userValidationRules[0].expression: Required value',
      `jwt[0].userValidationRules[2].expression: Duplicate value: "user.username != ''"`,
    ]);
  });

  it('refuses more than 64 authenticators', () => {
    const many = Array.from(
      { length: 65 },
      (_, i) => `- issuer: {url: "https://i${i}.example", audiences: [x]}\n${MAPPINGS}`,
    );
    expect(errorsOf(doc(many.join('')))).toEqual(['jwt: Too many: 65: must have at most 64 items']);
  });
});

describe('AuthenticationConfiguration: CEL compiled at load', () => {
  const withExpr = (field: string): string =>
    one(ISSUER, `  claimMappings:\n    username: {claim: sub, prefix: ""}\n${field}`);

  it('refuses a syntax error with the field path', () => {
    const errs = errorsOf(one(ISSUER, '  claimMappings:\n    username: {expression: "claims.sub +"}\n'));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^jwt\[0\]\.claimMappings\.username\.expression: Invalid value: "claims\.sub \+": compilation failed: ERROR: <input>:1:/,
    );
  });

  it('refuses undeclared references: the wrong variable, unknown functions, unknown user fields', () => {
    expect(errorsOf(withExpr('    uid: {expression: "user.username"}\n'))).toEqual([
      `jwt[0].claimMappings.uid.expression: Invalid value: "user.username": compilation failed: ERROR: <input>:1:1: undeclared reference to 'user' (in container '')\n | user.username\n | ^`,
    ]);
    const rule = `${MAPPINGS}  userValidationRules:\n  - expression: "claims.sub == 'x'"\n  - expression: "user.name == 'x'"\n  - expression: "user.groups.frobnicate() == []"\n`;
    const errs = errorsOf(one(ISSUER, rule));
    expect(errs[0]).toMatch(
      /^jwt\[0\]\.userValidationRules\[0\]\.expression: .*undeclared reference to 'claims'/,
    );
    expect(errs[1]).toMatch(/^jwt\[0\]\.userValidationRules\[1\]\.expression: .*undefined field 'name'/);
    expect(errs[2]).toMatch(
      /^jwt\[0\]\.userValidationRules\[2\]\.expression: .*undeclared reference to 'frobnicate'/,
    );
  });

  it('refuses a validation rule whose type is not bool (dyn is not bool)', () => {
    const rule = `  claimValidationRules:\n  - expression: claims.email_verified\n  - expression: "claims.?email_verified.orValue(true) == true"\n${MAPPINGS}`;
    const errs = errorsOf(one(ISSUER, rule));
    expect(errs[0]).toBe(
      'jwt[0].claimValidationRules[0].expression: Invalid value: "claims.email_verified": must evaluate to bool',
    );
    // The kube documentation's rule compiles: `== true` makes the optional's dyn a bool.
    expect(errs).toHaveLength(1);
    expect(
      errorsOf(
        one(
          ISSUER,
          `  claimValidationRules:\n  - expression: "claims.?email_verified.orValue(true)"\n${MAPPINGS}`,
        ),
      ),
    ).toEqual([
      'jwt[0].claimValidationRules[0].expression: Invalid value: "claims.?email_verified.orValue(true)": must evaluate to bool',
    ]);
    expect(errsOfUser('size(user.groups)')).toEqual([
      'jwt[0].userValidationRules[0].expression: Invalid value: "size(user.groups)": must evaluate to bool',
    ]);
  });

  function errsOfUser(expression: string): readonly string[] {
    return errorsOf(
      one(ISSUER, `${MAPPINGS}  userValidationRules:\n  - expression: ${JSON.stringify(expression)}\n`),
    );
  }
});
