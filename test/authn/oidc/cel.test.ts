import { describe, expect, it } from 'vitest';
import {
  CelCompileError,
  compileExpression,
  toCelClaims,
  toStringList,
  type CelVariable,
} from '../../../src/authn/oidc/cel.js';

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
    expect(run("claims.tenant.all(k, v, k in ['id', 'tags'])")).toBe(true);
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

  it('still refuses what is not built: quantity, format, sortBy', () => {
    expect(() => compileExpression("quantity('1Gi').isInteger()", 'claims', 'bool')).toThrow(
      /undeclared reference to 'quantity'/,
    );
    expect(() => compileExpression('claims.roles.sortBy(r, r)', 'claims', 'any')).toThrow(
      /undeclared reference to 'sortBy'/,
    );
  });
});
