import { describe, expect, it } from 'vitest';
import {
  CelCompileError,
  compileExpression,
  toCelClaims,
  toStringList,
  type CelVariable,
} from '../../src/cel/compile.js';

const CLAIMS = toCelClaims({
  sub: 'jane',
  email: 'jane@example.com',
  email_verified: true,
  groups: 'dev',
  tenant: { id: 't1', tags: ['a'] },
  list: ['x'],
});

function run(expression: string, variable: CelVariable = 'claims'): unknown {
  const r = compileExpression(expression, variable, 'any').evaluate(CLAIMS);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function list(value: unknown): unknown[] {
  return [...(value as Iterable<unknown>)];
}

describe('CEL optional syntax (cel-go OptionalTypes, enabled in kube base environment)', () => {
  it('evaluates the kube documentation rule for email_verified', () => {
    expect(run('claims.?email_verified.orValue(true) == true')).toBe(true);
    const r = compileExpression('claims.?email_verified.orValue(true) == true', 'claims', 'bool');
    expect(r.evaluate(toCelClaims({ sub: 'x' }))).toEqual({ ok: true, value: true });
    expect(r.evaluate(toCelClaims({ email_verified: false }))).toEqual({ ok: true, value: false });
  });

  it('gives the default for an absent claim and the value for a present one', () => {
    expect(run("claims.?missing.orValue('none')")).toBe('none');
    expect(run("claims.?sub.orValue('none')")).toBe('jane');
    expect(run('claims.?missing.hasValue()')).toBe(false);
    expect(run('claims.?sub.value()')).toBe('jane');
  });

  it('chains: once optional, later selects and indexes are optional too', () => {
    expect(run("claims.?tenant.id.orValue('')")).toBe('t1');
    expect(run("claims.?tenant.?id.orValue('')")).toBe('t1');
    expect(run("claims.?nope.id.orValue('d')")).toBe('d');
    expect(run("claims.?tenant.tags[0].orValue('')")).toBe('a');
    expect(run("claims.?tenant.tags[5].orValue('d')")).toBe('d');
    expect(run("claims[?'tenant'].?id.value()")).toBe('t1');
    expect(run('claims.list[?0].value()')).toBe('x');
    expect(run('claims.list[?1].hasValue()')).toBe(false);
  });

  // Cases from cel-spec tests/simple/testdata/optionals.textproto.
  it.each([
    ['optional.of(null).hasValue()', true],
    ['optional.ofNonZeroValue(null).hasValue()', false],
    ['optional.none().or(optional.none()).orValue(42)', 42n],
    ['optional.none().optMap(y, y + 1).hasValue()', false],
    ['{}.?key.optFlatMap(k, k.?subkey).hasValue()', false],
    ["{'key': {}}.?key.optFlatMap(k, k.?subkey).hasValue()", false],
    ["{'null_key': dyn(null)}.?null_key.hasValue()", true],
    ['{true: dyn(0)}[?false].absent.hasValue()', false],
    ['{}.?null_key.invalid.hasValue()', false],
    ["{'key': {'subkey': 'subvalue'}}.?key.optFlatMap(k, k.?subkey).value()", 'subvalue'],
    ["{'key': {'subkey': ''}}.?key.optFlatMap(k, optional.ofNonZeroValue(k.subkey)).hasValue()", false],
    ['optional.of(42).optMap(y, y + 1).value()', 43n],
    ['optional.ofNonZeroValue(42).or(optional.of(20)).value() == 42', true],
    ['(has({}.x) ? optional.of({}.x) : optional.none()).hasValue()', false],
    ['has({}.?x.y)', false],
    ["has({'x': {'y': 'z'}}.?x.y)", true],
    ["{'c': {'dashed-index': 'goodbye'}}.c[?'dashed-index'].orValue('default value')", 'goodbye'],
    ["{'c': {}}.c[?'missing-index'].orValue('default value')", 'default value'],
    ["optional.of({'c': {'index': 'goodbye'}}).c.index.orValue('default value')", 'goodbye'],
    ["optional.of({'c': {}}).c.missing.or(optional.none()[0]).orValue('default value')", 'default value'],
    [
      "optional.of({'c': {}}).c.missing.or(optional.of(['list-value'])[0]).orValue('default value')",
      'list-value',
    ],
    [
      "has(optional.of({'c': {'entry': 'hello world'}}).c) && !has(optional.of({'c': {'entry': 'hello world'}}).c.missing)",
      true,
    ],
    [
      "{'c': {'dashed-index': 'goodbye'}}.?c.missing.or({'c': {'dashed-index': 'goodbye'}}.?c['dashed-index']).orValue('').size()",
      7n,
    ],
    ['optional.of({}).?c.hasValue()', false],
    ['optional.none().?repeated_string.hasValue()', false],
    ['[][?0].hasValue()', false],
    ['optional.of([])[?0].hasValue()', false],
    ["['foo'][?0].value()", 'foo'],
    ["optional.of(['foo'])[?0].value()", 'foo'],
    ['optional.none() == optional.none()', true],
    ['optional.none() == optional.of(1)', false],
    ['optional.of(1) == optional.of(1)', true],
    ['optional.of(1) != optional.none()', true],
  ])('%s', (expression, want) => {
    expect(run(expression)).toEqual(want);
  });

  it('builds lists and maps with optional elements and entries', () => {
    expect(list(run('[?{}.?c, ?optional.of(42), ?optional.none()]'))).toEqual([42n]);
    expect(list(run("[?optional.ofNonZeroValue({'c': []}.?c.orValue(dyn({})))]"))).toEqual([]);
    const m = run(
      "{?'nested_map': optional.ofNonZeroValue({?'map': {}.?c}), 'singleton': true}",
    ) as ReadonlyMap<string, unknown>;
    expect([...m.keys()]).toEqual(['singleton']);
    expect(list(run("['a', ?claims.?sub, ?claims.?nope]"))).toEqual(['a', 'jane']);
  });

  it('unwraps lists of optionals', () => {
    expect(list(run('optional.unwrap([optional.of(1), optional.none()])'))).toEqual([1n]);
    expect(list(run('[claims.?sub, claims.?nope].unwrapOpt()'))).toEqual(['jane']);
  });

  it('reports runtime errors with cel-go wording', () => {
    expect(() => run("{'null_key': dyn(null)}.?null_key.invalid.hasValue()")).toThrow(/no such key/);
    expect(() => run('{true: dyn(0)}[?true].absent.hasValue()')).toThrow(/no such key/);
    expect(() => run('optional.none().value()')).toThrow('optional.none() dereference');
    expect(() => run("'abc'.orValue('x')")).toThrow(/no such overload/);
  });

  it('keeps the static types kube requires of a validation rule', () => {
    // An optional of a claim holds dyn: orValue(true) stays dyn, which is not bool.
    expect(() => compileExpression('claims.?email_verified.orValue(true)', 'claims', 'bool')).toThrow(
      'must evaluate to bool',
    );
    expect(() => compileExpression('claims.?x.hasValue()', 'claims', 'bool')).not.toThrow();
    expect(() => compileExpression('optional.of(true).orValue(false)', 'claims', 'bool')).not.toThrow();
    expect(() => compileExpression("user.?username.orValue('') == 'x'", 'user', 'bool')).not.toThrow();
  });

  it('refuses what cel-go refuses: has() of an optional select, an unknown user field, a misplaced marker', () => {
    expect(() => compileExpression('has(claims.?x)', 'claims', 'bool')).toThrow(/compilation failed/);
    expect(() => compileExpression("user.?name.orValue('')", 'user', 'any')).toThrow(
      /undefined field 'name'/,
    );
    expect(() => compileExpression('size(?claims)', 'claims', 'any')).toThrow(CelCompileError);
  });

  it('counts claims.?email and claims.?email_verified as uses of those claims, as kube does', () => {
    const c = compileExpression("claims.?email.orValue('')", 'claims', 'any');
    expect(c.usesEmail).toBe(true);
    expect(
      compileExpression('claims.?email_verified.orValue(false) == true', 'claims', 'bool').usesEmailVerified,
    ).toBe(true);
  });

  it('refuses an optional as a string list: a mapping must unwrap it', () => {
    const r = compileExpression('claims.?groups', 'claims', 'any').evaluate(CLAIMS);
    if (!r.ok) throw new Error(r.error);
    expect(toStringList(r.value)).toEqual({ ok: false });
  });
});

describe('CEL two-variable comprehensions (cel-go ext.TwoVarComprehensions, in kube since 1.32)', () => {
  const map = (value: unknown): [unknown, unknown][] => [...(value as ReadonlyMap<unknown, unknown>)];

  // Cases from cel-go ext/comprehensions_test.go and the library's documentation.
  it.each([
    ['[1, 2, 3].all(i, v, i < v)', true],
    ['[1, 2, 3].all(i, v, i > v)', false],
    ["{'hello': 'world', 'taco': 'taco'}.all(k, v, k != v)", false],
    ["{'hello': 'world', 'taco': 'taco'}.exists(k, v, k == v)", true],
    ["{'a': 1, 'b': 2}.exists(k, v, k == 'b' && v == 2)", true],
    ['[1, 2, 3].existsOne(i, v, i == 1 && v == 2)', true],
    ['[1, 2, 2].exists_one(i, v, v == 2)', false],
    ['[].all(i, v, false)', true],
    ['[].exists(i, v, true)', false],
  ])('%s', (expression, want) => {
    expect(run(expression)).toBe(want);
  });

  it('transforms lists and maps, with and without a filter', () => {
    expect(list(run('[1, 2, 3].transformList(i, v, i * v)'))).toEqual([0n, 2n, 6n]);
    expect(list(run('[1, 2, 3].transformList(i, v, i > 0, v)'))).toEqual([2n, 3n]);
    expect(map(run("{'greeting': 'hello'}.transformMap(k, v, v + '!')"))).toEqual([['greeting', 'hello!']]);
    expect(map(run("{'a': 1, 'b': 2}.transformMap(k, v, v > 1, v * 10)"))).toEqual([['b', 20n]]);
    expect(map(run("{'greeting': 'hello'}.transformMapEntry(k, v, {v: k})"))).toEqual([
      ['hello', 'greeting'],
    ]);
    expect(map(run('[1, 2, 3].transformMapEntry(i, v, {v: i})'))).toEqual([
      [1n, 0n],
      [2n, 1n],
      [3n, 2n],
    ]);
  });

  it('maps claims the way an AuthenticationConfiguration would', () => {
    expect(list(run("claims.tenant.tags.transformList(i, g, 'tag:' + g)"))).toEqual(['tag:a']);
    // A claim is `any` to kube's checker, so a comprehension over one needs dyn(...).
    expect(run("dyn(claims.tenant).all(k, v, k in ['id', 'tags'])")).toBe(true);
    // The outer variable stays visible inside nested comprehensions.
    expect(run('[1, 2].all(i, v, [10].all(j, w, w > v + i))')).toBe(true);
  });

  it('refuses a repeated key at run time, in cel-go words', () => {
    expect(() => run("{'greeting': 'aloha', 'farewell': 'aloha'}.transformMapEntry(k, v, {v: k})")).toThrow(
      'insert failed: key aloha already exists',
    );
  });

  it('refuses bad iteration variables at load, in cel-go words', () => {
    expect(() => compileExpression('[1].all(x, x, true)', 'claims', 'bool')).toThrow(
      /duplicate variable name: x/,
    );
    expect(() => compileExpression('[1].all(1, x, true)', 'claims', 'bool')).toThrow(
      /argument must be a simple name/,
    );
    expect(() => compileExpression('[1].all(@result, x, true)', 'claims', 'bool')).toThrow(CelCompileError);
  });
});

describe("kube's CEL libraries in the claims and user environments", () => {
  const claims = toCelClaims({
    email: 'Jane@Example.com',
    roles: ['dev', 'ops'],
    website: 'https://acme.example:8443/team?x=1',
    ip: '10.1.2.3',
    version: '1.2.3',
  });
  const evaluate = (expression: string, returns: 'bool' | 'any' = 'any'): unknown => {
    const r = compileExpression(expression, 'claims', returns).evaluate(claims);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };

  it('runs sets, lists, regex, url, ip, cidr and semver over claims', () => {
    expect(evaluate("sets.contains(claims.roles, ['ops'])", 'bool')).toBe(true);
    expect(evaluate("sets.intersects(claims.roles, ['admin'])", 'bool')).toBe(false);
    expect(evaluate('claims.roles.isSorted()', 'bool')).toBe(true);
    expect(list(evaluate('lists.range(3)'))).toEqual([0n, 1n, 2n]);
    expect(evaluate("claims.email.find('@.*$')")).toBe('@Example.com');
    expect(evaluate('url(claims.website).getHost()')).toBe('acme.example:8443');
    expect(evaluate("url(claims.website).getPort() == '8443'", 'bool')).toBe(true);
    expect(evaluate("cidr('10.0.0.0/8').containsIP(claims.ip)", 'bool')).toBe(true);
    expect(evaluate('ip(claims.ip).isLoopback()', 'bool')).toBe(false);
    expect(evaluate("semver(claims.version).isGreaterThan(semver('1.2.0'))", 'bool')).toBe(true);
  });

  it('types library results as kube does: a URL or IP is not a bool', () => {
    expect(() => compileExpression('url(claims.website)', 'claims', 'bool')).toThrow('must evaluate to bool');
    expect(() => compileExpression('isURL(claims.website)', 'claims', 'bool')).not.toThrow();
  });

  it('refuses a constant regex that does not compile when the program is built, as cel-go does', () => {
    expect(() => compileExpression("claims.email.find('(')", 'claims', 'any')).toThrow(
      /^program instantiation failed: error parsing regexp: missing closing \): `\(`/,
    );
    expect(() => compileExpression("claims.email.matches('a(?=b)')", 'claims', 'bool')).toThrow(
      /^program instantiation failed: error parsing regexp/,
    );
    // A pattern from a claim is only known per token: a run-time error then.
    const r = compileExpression('claims.email.find(claims.email)', 'claims', 'any').evaluate(
      toCelClaims({ email: '(' }),
    );
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/^Illegal regex: error parsing regexp/) });
  });

  it('works over user in userValidationRules', () => {
    const r = compileExpression(
      "sets.contains(user.groups, ['dev']) && user.groups.isSorted()",
      'user',
      'bool',
    );
    const user = new Map<string, unknown>([
      ['username', 'jane'],
      ['uid', ''],
      ['groups', ['dev', 'ops']],
      ['extra', new Map()],
    ]);
    expect(r.evaluate(user)).toEqual({ ok: true, value: true });
  });
});

// Texts and outcomes pinned against cel-go v0.29.2 in kube-apiserver v1.37.2's claims and user
// environments (k8s.io/apiserver/pkg/authentication/cel, with oidc.go's claims value and
// convertCELValueToStringList), run offline from the Go module cache.
describe('CEL as kube 1.37 (cel-go v0.29.2): Go []string lists, any-typed claims, cel-go error texts', () => {
  const value = (expression: string, claims: Record<string, unknown>): unknown => {
    const r = compileExpression(expression, 'claims', 'any').evaluate(toCelClaims(claims));
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  const error = (expression: string, claims: Record<string, unknown>): string => {
    const r = compileExpression(expression, 'claims', 'any').evaluate(toCelClaims(claims));
    if (r.ok) throw new Error(`no error: ${String(r.value)}`);
    return r.error;
  };
  const stringList = (expression: string, claims: Record<string, unknown> = { s: 'b,a,b' }) =>
    toStringList(value(expression, claims) as never);
  const compileError = (expression: string, variable: CelVariable = 'claims'): string => {
    try {
      compileExpression(expression, variable, 'any');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('compiled');
  };
  const rangeError = (type: string, at: string, expression: string, caret: number): string =>
    `ERROR: <input>:1:${at}: expression of type '${type}' cannot be range of a comprehension (must be list, map, or dynamic)\n` +
    ` | ${expression}\n | ${'.'.repeat(caret)}^`;

  describe("F8: split(), findAll() and getQuery() values are Go []string, which kube's mappings refuse", () => {
    it('refuses them as groups or extra values, empty or not', () => {
      expect(stringList("claims.s.split(',')")).toEqual({ ok: false });
      expect(stringList("claims.s.split(',', 0)")).toEqual({ ok: false });
      expect(stringList("''.split('')")).toEqual({ ok: false });
      expect(stringList("'abc'.findAll('[a-z]')")).toEqual({ ok: false });
      expect(stringList("'abc'.findAll('x')")).toEqual({ ok: false });
      expect(stringList("'abc'.findAll('[a-z]', 2)")).toEqual({ ok: false });
      expect(stringList("url('https://x/?a=b&a=c').getQuery()['a']")).toEqual({ ok: false });
    });

    it('keeps refusing them when the value passes through unchanged', () => {
      for (const e of [
        "dyn(claims.s.split(','))",
        "true ? claims.s.split(',') : []",
        "claims.?s.orValue('') == '' ? dyn([]) : dyn(claims.s.split(' '))",
        "optional.of(claims.s.split(',')).value()",
        "optional.none().orValue(claims.s.split(','))",
        "[claims.s.split(',')][0]",
        "{'a': claims.s.split(',')}.a",
        // cel-go's list + returns the other operand when one is empty.
        "claims.s.split(',') + []",
        "[] + claims.s.split(',')",
      ]) {
        expect([e, stringList(e)]).toEqual([e, { ok: false }]);
      }
    });

    it('takes any list built anew: comprehensions, concatenation, the lists library, literals, claims', () => {
      for (const [e, values] of [
        ["claims.s.split(',').map(r, r)", ['b', 'a', 'b']],
        ["claims.s.split(',').filter(r, true)", ['b', 'a', 'b']],
        ["claims.s.split(',').transformList(i, r, r)", ['b', 'a', 'b']],
        ["claims.s.split(',') + ['c']", ['b', 'a', 'b', 'c']],
        ["claims.s.split(',').sort()", ['a', 'b', 'b']],
        ["claims.s.split(',').distinct()", ['b', 'a']],
        ["claims.s.split(',').slice(0, 3)", ['b', 'a', 'b']],
        ["[claims.s.split(',')].flatten()", ['b', 'a', 'b']],
        ["'abc'.findAll('[a-z]').map(x, x)", ['a', 'b', 'c']],
        ["['a', 'b']", ['a', 'b']],
        ['claims.list', ['x', 'y']],
      ] as const) {
        expect([e, stringList(e, { s: 'b,a,b', list: ['x', 'y'] })]).toEqual([e, { ok: true, values }]);
      }
    });

    it("splits as Go's strings.Split/SplitN", () => {
      const split = (e: string, s: string): unknown[] => list(value(e, { s }));
      expect(split("claims.s.split(',', 2)", 'b,a,b')).toEqual(['b', 'a,b']);
      expect(split("claims.s.split(',', 1)", 'b,a,b')).toEqual(['b,a,b']);
      expect(split("claims.s.split(',', 0)", 'b,a,b')).toEqual([]);
      expect(split("claims.s.split(',', -5)", 'b,a,b')).toEqual(['b', 'a', 'b']);
      expect(split("claims.s.split(',')", '')).toEqual(['']);
      expect(split("claims.s.split('')", '')).toEqual([]);
      expect(split("claims.s.split('')", 'a😀b')).toEqual(['a', '😀', 'b']);
      expect(split("claims.s.split('', 2)", 'a😀b')).toEqual(['a', '😀b']);
    });
  });

  describe("kube's claims are map(string, any): cel-go refuses an `any` range at compile time", () => {
    it('refuses a comprehension over a claim, with the caret at the select or index', () => {
      expect(compileError('claims.roles.map(r, r)')).toBe(
        `compilation failed: ${rangeError('any', '7', 'claims.roles.map(r, r)', 6)}`,
      );
      expect(compileError("claims['roles'].all(i, r, true)")).toBe(
        `compilation failed: ${rangeError('any', '7', "claims['roles'].all(i, r, true)", 6)}`,
      );
      expect(compileError('claims.?x.map(r, r)')).toBe(
        `compilation failed: ${rangeError('optional_type(any)', '7', 'claims.?x.map(r, r)', 6)}`,
      );
    });

    it("places a call at its '(' and a ternary at its '?', as cel-go's parser does", () => {
      expect(compileError('claims.?x.orValue([]).map(r, r)')).toBe(
        `compilation failed: ${rangeError('any', '18', 'claims.?x.orValue([]).map(r, r)', 17)}`,
      );
      expect(compileError('(claims.b ? claims.x : claims.y).map(r, r)')).toBe(
        `compilation failed: ${rangeError('any', '11', '(claims.b ? claims.x : claims.y).map(r, r)', 10)}`,
      );
      expect(compileError('claims.x.foo()')).toBe(
        "compilation failed: ERROR: <input>:1:13: undeclared reference to 'foo' (in container '')\n" +
          ' | claims.x.foo()\n | ............^',
      );
    });

    it('types bound variables: the value of an optional claim is any', () => {
      expect(compileError('claims.?x.optMap(v, v.map(r, r))')).toBe(
        `compilation failed: ${rangeError('any', '21', 'claims.?x.optMap(v, v.map(r, r))', 20)}`,
      );
    });

    it('reports every range in source order', () => {
      expect(compileError('claims.x.map(r, claims.y.map(q, q))')).toBe(
        `compilation failed: ${rangeError('any', '7', 'claims.x.map(r, claims.y.map(q, q))', 6)}\n` +
          rangeError('any', '23', 'claims.x.map(r, claims.y.map(q, q))', 22),
      );
    });

    it('names the other types that are no range', () => {
      expect(compileError("'abc'.map(r, r)")).toBe(
        `compilation failed: ${rangeError('string', '1', "'abc'.map(r, r)", 0)}`,
      );
      expect(compileError('1u.all(r, true)')).toBe(
        `compilation failed: ${rangeError('uint', '1', '1u.all(r, true)', 0)}`,
      );
      expect(compileError('null.exists_one(r, true)')).toBe(
        `compilation failed: ${rangeError('null', '1', 'null.exists_one(r, true)', 0)}`,
      );
      expect(compileError('user.username.map(g, g)', 'user')).toBe(
        `compilation failed: ${rangeError('string', '5', 'user.username.map(g, g)', 4)}`,
      );
    });

    it('takes dyn(...), a select on a claim, a dyn branch and the user lists', () => {
      for (const e of [
        'dyn(claims.roles).map(r, r)',
        'claims.a.b.map(r, r)',
        'claims.roles[0].map(r, r)',
        '(true ? claims.x : dyn([])).map(r, r)',
        'claims.?x.orValue(dyn([])).map(r, r)',
        '(claims.x + claims.y).map(r, r)',
      ]) {
        expect(() => compileExpression(e, 'claims', 'any')).not.toThrow();
      }
      for (const e of ['user.groups.map(g, g)', 'user.extra.map(k, k)', "user.extra['k'].all(i, v, true)"]) {
        expect(() => compileExpression(e, 'user', 'any')).not.toThrow();
      }
    });
  });

  describe("F7: run-time errors in cel-go's words", () => {
    // The expressions of the e2e configuration (test/e2e/cases/jwt-cases.ts), with the claims of its F7 cases.
    const USERNAME =
      "claims.?tenant.orValue('') == '' ? claims.email : claims.tenant + '/' + claims.email.split('@')[0].lowerAscii()";
    const GROUPS = "dyn(claims.roles).transformList(i, r, 'role:' + r)";
    const SCOPES = "claims.?scope.orValue('') == '' ? dyn([]) : dyn(claims.scope.split(' '))";
    const ATTRS = 'dyn(claims.?attrs.orValue({})).all(k, v, k == k.lowerAscii() && type(v) == string)';

    it.each([
      [USERNAME, { tenant: null, email: 'a@b' }, 'no such overload: _+_'],
      [USERNAME, { tenant: 5, email: 'a@b' }, 'no such overload'],
      ['claims.roles[0]', { roles: [] }, 'index out of bounds: 0'],
      ['claims.roles[0]', { roles: 'admin' }, 'no such key: 0'],
      ['claims.roles[0]', { roles: 3 }, 'no such key: 0'],
      ['claims.roles[0]', { roles: { a: 'b' } }, 'no such key: 0'],
      [GROUPS, { roles: 'admin' }, 'unsupported comprehension range type: types.String'],
      [GROUPS, { roles: 3 }, 'unsupported comprehension range type: types.Double'],
      [GROUPS, { roles: ['reader', 1] }, 'no such overload'],
      [SCOPES, { scope: 1 }, 'no such overload: split(double, string)'],
      [ATTRS, { attrs: ['a'] }, 'no such overload: lowerAscii(int)'],
    ])('%s with %j: %s', (expression, claims, text) => {
      expect(error(expression, claims)).toBe(text);
    });

    it('words operator and function failures as cel-go dispatches them', () => {
      expect(error("claims.n + '/x'", { n: true })).toBe('no such overload: _+_');
      expect(error("claims.n + '/x'", { n: ['a'] })).toBe('no such overload');
      expect(error('claims.n < 2', { n: null })).toBe('no such overload: _<_');
      expect(error("claims.n < 'a'", { n: 1 })).toBe('no such overload');
      expect(error('claims.n % 2', { n: 1 })).toBe('no such overload: _%_');
      expect(error('-claims.n', { n: [1] })).toBe('no such overload: -_');
      expect(error('size(claims.n)', { n: 1 })).toBe('no such overload: size');
      expect(error('claims.n && true', { n: 'a' })).toBe('no such overload');
      expect(error('claims.n ? 1 : 2', { n: 'a' })).toBe('no such overload');
      expect(error("claims.n.startsWith('a')", { n: 1 })).toBe('no such overload');
      expect(error('dyn(1).lowerAscii()', {})).toBe('no such overload: lowerAscii(int)');
      expect(error("claims.n.split(',')", { n: ['a'] })).toBe('no such overload: split(list, string)');
      expect(error('sets.contains(claims.n, [1])', { n: 1 })).toBe(
        'no such overload: sets.contains(double, list)',
      );
      expect(error('claims.n.value()', { n: 1 })).toBe('no such overload: value(double)');
      expect(error('claims.n.orValue(1)', { n: 1 })).toBe('no such overload');
    });

    it('indexes as cel-go: lists, maps and other values', () => {
      expect(error('claims.n[1u]', { n: ['a'] })).toBe('index out of bounds: 1');
      expect(error('claims.n[-1]', { n: ['a'] })).toBe('index out of bounds: -1');
      expect(error("claims.n['x']", { n: ['a'] })).toBe("unsupported index type 'string' in list");
      expect(error('claims.n[1.5]', { n: ['a'] })).toBe('unsupported index value 1.5 in list');
      expect(error('claims.n[1000000.0]', { n: ['a'] })).toBe('index out of bounds: 1e+06');
      expect(error('claims.n[0.1]', { n: 's' })).toBe('no such key: 0.1');
      expect(error("claims.n['a']['b'][1]", { n: { a: { b: ['x'] } } })).toBe('index out of bounds: 1');
      expect(value('claims.n[0.0]', { n: ['a'] })).toBe('a');
    });

    it('iterates as cel-go: one-variable and two-variable comprehensions word a bad range apart', () => {
      expect(error('dyn(claims.n).map(r, r)', { n: 'a' })).toBe("got 'types.String', expected iterable type");
      expect(error('dyn(claims.n).exists(r, r)', { n: null })).toBe(
        "got 'types.Null', expected iterable type",
      );
      expect(error('dyn(claims.n).all(i, r, true)', { n: true })).toBe(
        'unsupported comprehension range type: types.Bool',
      );
      expect(error("dyn(url('https://x')).all(i, r, true)", {})).toBe(
        'unsupported comprehension range type: cel.URL',
      );
    });

    it('words arithmetic and the strings extension as cel-go', () => {
      expect(error('int(claims.n) / 0', { n: 1 })).toBe('division by zero');
      expect(error('uint(claims.n) % 0u', { n: 1 })).toBe('modulus by zero');
      expect(error('9223372036854775807 + int(claims.n)', { n: 1 })).toBe('integer overflow');
      expect(error('0u - uint(claims.n)', { n: 1 })).toBe('unsigned integer overflow');
      expect(error('claims.n.substring(5)', { n: 'abc' })).toBe('index out of range: 5');
      expect(error('claims.n.charAt(-1)', { n: 'abc' })).toBe('index out of range: -1');
    });

    it("converts strings as Go's strconv, and doubles to strings as Go's %g", () => {
      expect(error('int(claims.n)', { n: 'x' })).toBe("type conversion error from 'string' to 'int'");
      expect(error('int(claims.n)', { n: '0x10' })).toBe("type conversion error from 'string' to 'int'");
      expect(error('int(claims.n)', { n: '9223372036854775808' })).toBe(
        "type conversion error from 'string' to 'int'",
      );
      expect(value('int(claims.n)', { n: '-9223372036854775808' })).toBe(-9223372036854775808n);
      expect(error('uint(claims.n)', { n: '-1' })).toBe("type conversion error from 'string' to 'uint'");
      expect(error('double(claims.n)', { n: 'x' })).toBe("type conversion error from 'string' to 'double'");
      expect(error('double(claims.n)', { n: '1e400' })).toBe(
        "type conversion error from 'string' to 'double'",
      );
      expect(value('double(claims.n)', { n: '1_0' })).toBe(10);
      expect(value('double(claims.n)', { n: '0x1p3' })).toBe(8);
      expect(value('double(claims.n)', { n: '-Infinity' })).toBe(-Infinity);
      expect(error('bool(claims.n)', { n: 'yes' })).toBe("type conversion error from 'string' to 'bool'");
      expect(value('bool(claims.n)', { n: 'T' })).toBe(true);
      expect(error('timestamp(claims.n)', { n: 'x' })).toBe(
        "type conversion error from 'string' to 'google.protobuf.Timestamp'",
      );
      expect(value('string(claims.n)', { n: 1000000 })).toBe('1e+06');
      expect(value('string(claims.n)', { n: 123456 })).toBe('123456');
      expect(value('string(claims.n)', { n: 0.00001 })).toBe('1e-05');
      expect(value('string(claims.n)', { n: 1.2345678901234567e19 })).toBe('1.2345678901234567e+19');
    });

    it('unescapes a claim name in a select, as kube’s claims map does', () => {
      expect(value('claims.a__dot__c', { 'a.c': 3 })).toBe(3);
    });
  });
});

describe('the sortBy macro (cel-go ext.Lists v2+, in kube since 1.34)', () => {
  const claims = toCelClaims({
    names: ['b', 'a'],
    roles: [
      { n: 'b', p: 2 },
      { n: 'a', p: 1 },
    ],
  });
  const evaluate = (expression: string): unknown => {
    const r = compileExpression(expression, 'claims', 'any').evaluate(claims);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };

  // Expected values and texts: cel-go v0.29.2 in kube's claims environment.
  it('sorts by the key expression', () => {
    expect(list(evaluate('dyn(claims.roles).sortBy(r, r.p).map(r, r.n)'))).toEqual(['a', 'b']);
    expect(list(evaluate('[3, 1, 2].sortBy(x, -x)'))).toEqual([3n, 2n, 1n]);
    expect(list(evaluate('dyn(claims.names).sortBy(n, n)'))).toEqual(['a', 'b']);
  });

  it('refuses at load what cel-go refuses, at cel-go’s caret', () => {
    expect(() => compileExpression('claims.names.sortBy(n, n)', 'claims', 'any')).toThrow(
      "compilation failed: ERROR: <input>:1:20: expression of type 'any' cannot be range of a comprehension (must be list, map, or dynamic)\n | claims.names.sortBy(n, n)\n | ...................^",
    );
    expect(() => compileExpression('[1].sortBy(1, x)', 'claims', 'any')).toThrow(
      'compilation failed: ERROR: <input>:1:12: argument is not an identifier\n | [1].sortBy(1, x)\n | ...........^',
    );
    expect(() => compileExpression('1.sortBy(x, x)', 'claims', 'any')).toThrow(
      'compilation failed: ERROR: <input>:1:1: sortBy can only be applied to a list, identifier, comprehension, call or select expression\n | 1.sortBy(x, x)\n | ^',
    );
  });

  it('refuses keys that are not comparable or not of one type when it runs', () => {
    expect(() => evaluate('dyn([[1]]).sortBy(x, x)')).toThrow('list elements must be comparable');
    expect(() => evaluate("dyn([1, 'a']).sortBy(x, x)")).toThrow('list elements must have the same type');
  });
});
