import {
  celEnv,
  CelScalar,
  isCelError,
  isCelList,
  mapType,
  parse,
  plan,
  type CelEnv,
  type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { UserInfo } from '../../user.js';

/**
 * CEL for AuthenticationConfiguration, as kube's `authentication/cel` package: two
 * environments, one with `claims` (map(string, dyn)) and one with `user` (kube's
 * `kubernetes.UserInfo`: username, uid, groups, extra). Every expression is parsed and
 * checked once at load; a token only runs the planned program.
 *
 * The evaluator is @bufbuild/cel (conformance-tested against cel-spec) with its `strings`
 * extension. Differences from kube's cel-go environment, all refused at load rather than
 * met at run time: optional syntax (`claims.?x`), the `sets`, `lists`, `math`, `ip`,
 * `cidr`, `quantity`, `semver`, `url` and `format` libraries, and two-variable
 * comprehensions. cel-go's per-expression cost limit has no counterpart here; the
 * claims a token can carry are bounded by the gate's 16 KiB token limit.
 */

export type CelVariable = 'claims' | 'user';

/** What kube's compiler requires of the expression's static type (`ReturnTypes()`). */
export type ReturnKind = 'bool' | 'any';

export interface CompiledExpression {
  readonly expression: string;
  /** The expression selects `claims.email` / `claims.email_verified` (kube's email_verified rule). */
  readonly usesEmail: boolean;
  readonly usesEmailVerified: boolean;
  evaluate(input: CelBindingValue): EvalResult;
}

/** A bound variable: the claims or the user, already converted with `toCelClaims`/`toCelUser`. */
export type CelBindingValue = ReadonlyMap<string, unknown>;

export type EvalResult = { ok: true; value: CelValue } | { ok: false; error: string };

export class CelCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelCompileError';
  }
}

const USER_FIELDS: ReadonlyMap<string, StaticType> = new Map<string, StaticType>([
  ['username', 'string'],
  ['uid', 'string'],
  ['groups', 'list'],
  ['extra', 'map'],
]);

const envs: Record<CelVariable, CelEnv> = {
  claims: celEnv({ funcs: strings, variables: { claims: mapType(CelScalar.STRING, CelScalar.DYN) } }),
  user: celEnv({ funcs: strings, variables: { user: mapType(CelScalar.STRING, CelScalar.DYN) } }),
};

/** Operators the planner implements itself (not in the function resolver). */
const OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false', '_[?_]', '_?._']);

/** Names that are types, usable as identifiers (`type(x) == string`). */
const TYPE_IDENTS = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
  'dyn',
]);

const BOOL_FUNCTIONS = new Set([
  '_==_',
  '_!=_',
  '_<_',
  '_<=_',
  '_>_',
  '_>=_',
  '_&&_',
  '_||_',
  '!_',
  '@in',
  '@not_strictly_false',
  'startsWith',
  'endsWith',
  'contains',
  'matches',
  'bool',
]);
const STRING_FUNCTIONS = new Set([
  'string',
  'lowerAscii',
  'upperAscii',
  'replace',
  'substring',
  'trim',
  'charAt',
  'join',
  'format',
]);
const INT_FUNCTIONS = new Set(['size', 'int', 'indexOf', 'lastIndexOf']);

type StaticType = 'bool' | 'string' | 'int' | 'double' | 'list' | 'map' | 'null' | 'dyn' | 'unknown';

/* The parsed AST as @bufbuild/cel produces it (cel.expr.Expr, protobuf-es shapes). */
interface Expr {
  id: bigint;
  exprKind:
    | { case: 'constExpr'; value: { constantKind: { case: string | undefined; value?: unknown } } }
    | { case: 'identExpr'; value: { name: string } }
    | { case: 'selectExpr'; value: { operand?: Expr; field: string; testOnly: boolean } }
    | { case: 'callExpr'; value: { target?: Expr; function: string; args: Expr[] } }
    | { case: 'listExpr'; value: { elements: Expr[] } }
    | {
        case: 'structExpr';
        value: {
          messageName: string;
          entries: { keyKind: { case: string | undefined; value?: unknown }; value?: Expr }[];
        };
      }
    | {
        case: 'comprehensionExpr';
        value: {
          iterVar: string;
          iterVar2: string;
          iterRange?: Expr;
          accuVar: string;
          accuInit?: Expr;
          loopCondition?: Expr;
          loopStep?: Expr;
          result?: Expr;
        };
      }
    | { case: undefined; value?: undefined };
}

interface ParsedExpr {
  expr: Expr;
  sourceInfo?: { positions: Record<string, number> };
}

/** kube's `cel.Unescape` (apiserver/pkg/cel/escaping.go): `__dot__` → `.`, and so on. */
const RESERVED = new Set([
  'true',
  'false',
  'null',
  'in',
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
]);

export function unescapeCelName(escaped: string): string | undefined {
  let ok = true;
  const out = escaped.replace(/__[^_]+__/g, (s) => {
    const inner = s.slice(2, -2);
    switch (inner) {
      case 'underscores':
        return '__';
      case 'dot':
        return '.';
      case 'dash':
        return '-';
      case 'slash':
        return '/';
    }
    if (RESERVED.has(inner)) {
      if (s.length !== escaped.length) ok = false;
      return inner;
    }
    ok = false;
    return '';
  });
  return ok ? out : undefined;
}

function lineCol(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start };
}

/** cel-go's issue format: `ERROR: <input>:L:C: message` with the source line and a caret. */
function issue(source: string, offset: number, message: string): string {
  const { line, col } = lineCol(source, offset);
  const text = source.split('\n')[line - 1] ?? '';
  return `ERROR: <input>:${line}:${col + 1}: ${message}\n | ${text}\n | ${'.'.repeat(col)}^`;
}

class Checker {
  readonly problems: string[] = [];
  usesEmail = false;
  usesEmailVerified = false;

  constructor(
    private readonly source: string,
    private readonly variable: CelVariable,
    private readonly env: CelEnv,
    private readonly positions: Record<string, number>,
  ) {}

  private fail(e: Expr, message: string): void {
    this.problems.push(issue(this.source, this.positions[String(e.id)] ?? 0, message));
  }

  /** Walks the tree: declared names only, known functions only, escaped names unescaped; returns a static type. */
  check(e: Expr | undefined, scope: ReadonlySet<string>): StaticType {
    if (!e) return 'unknown';
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        switch (k.value.constantKind.case) {
          case 'boolValue':
            return 'bool';
          case 'stringValue':
            return 'string';
          case 'int64Value':
          case 'uint64Value':
            return 'int';
          case 'doubleValue':
            return 'double';
          case 'nullValue':
            return 'null';
          default:
            return 'unknown';
        }
      case 'identExpr': {
        const name = k.value.name;
        if (scope.has(name)) return 'dyn';
        if (name === this.variable) return 'map';
        if (TYPE_IDENTS.has(name)) return 'unknown';
        this.fail(e, `undeclared reference to '${name}' (in container '')`);
        return 'unknown';
      }
      case 'selectExpr': {
        const { operand, field, testOnly } = k.value;
        if (operand?.exprKind.case === 'identExpr' && operand.exprKind.value.name === this.variable) {
          if (this.variable === 'claims' && !scope.has('claims')) {
            if (field === 'email') this.usesEmail = true;
            if (field === 'email_verified') this.usesEmailVerified = true;
          }
          if (this.variable === 'user' && !scope.has('user')) {
            const t = USER_FIELDS.get(field);
            if (!t) this.fail(e, `undefined field '${field}'`);
            this.check(operand, scope);
            return testOnly ? 'bool' : (t ?? 'unknown');
          }
        }
        const unescaped = unescapeCelName(field);
        if (unescaped !== undefined && unescaped !== field) k.value.field = unescaped;
        this.check(operand, scope);
        return testOnly ? 'bool' : 'dyn';
      }
      case 'callExpr': {
        const { target, function: fn, args } = k.value;
        if (!OPERATORS.has(fn) && !this.env.funcs.find(fn)) {
          this.fail(e, `undeclared reference to '${fn}' (in container '')`);
        }
        // `claims["a__dot__b"]` is unescaped by kube's map lookup too.
        if (fn === '_[_]' && args[1]?.exprKind.case === 'constExpr') {
          const c = args[1].exprKind.value.constantKind;
          if (c.case === 'stringValue' && typeof c.value === 'string') {
            const unescaped = unescapeCelName(c.value);
            if (unescaped !== undefined && unescaped !== c.value) c.value = unescaped;
          }
        }
        if (target) this.check(target, scope);
        const argTypes = args.map((a) => this.check(a, scope));
        if (BOOL_FUNCTIONS.has(fn)) return 'bool';
        if (STRING_FUNCTIONS.has(fn)) return 'string';
        if (INT_FUNCTIONS.has(fn)) return 'int';
        if (fn === 'split') return 'list';
        if (fn === 'dyn') return 'dyn';
        if (fn === 'double') return 'double';
        if (fn === '_?_:_') return argTypes[1] === argTypes[2] ? argTypes[1]! : 'dyn';
        if (fn === '_[_]') return 'dyn';
        if (fn === '_+_' && argTypes[0] === argTypes[1]) return argTypes[0]!;
        return 'unknown';
      }
      case 'listExpr':
        for (const el of k.value.elements) this.check(el, scope);
        return 'list';
      case 'structExpr':
        if (k.value.messageName !== '') {
          this.fail(e, `undeclared reference to '${k.value.messageName}' (in container '')`);
        }
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') this.check(entry.keyKind.value as Expr, scope);
          this.check(entry.value, scope);
        }
        return 'map';
      case 'comprehensionExpr': {
        const c = k.value;
        if (c.iterVar2 !== '') this.fail(e, 'two-variable comprehensions are not supported by tokenwarden');
        this.check(c.iterRange, scope);
        const accuType = this.check(c.accuInit, scope);
        const inner = new Set(scope);
        inner.add(c.iterVar);
        inner.add(c.accuVar);
        this.check(c.loopCondition, inner);
        this.check(c.loopStep, inner);
        const result = c.result;
        if (result?.exprKind.case === 'identExpr' && result.exprKind.value.name === c.accuVar) {
          return accuType;
        }
        return this.check(result, inner);
      }
      default:
        return 'unknown';
    }
  }
}

/**
 * Compiles one expression for `claims` or `user`, as kube's `compiler.compile`: a parse or
 * check failure and a static type that cannot be the required one are errors, worded
 * `compilation failed: ...` / `must evaluate to bool`. Throws CelCompileError.
 */
export function compileExpression(
  expression: string,
  variable: CelVariable,
  returns: ReturnKind,
): CompiledExpression {
  const env = envs[variable];
  let parsed: ParsedExpr;
  try {
    parsed = parse(expression) as unknown as ParsedExpr;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CelCompileError(`compilation failed: ERROR: ${message}`);
  }
  const checker = new Checker(expression, variable, env, parsed.sourceInfo?.positions ?? {});
  const type = checker.check(parsed.expr, new Set());
  if (checker.problems.length > 0) {
    throw new CelCompileError(`compilation failed: ${checker.problems.join('\n')}`);
  }
  // kube: the checked output type must equal the required one (dyn is not bool).
  if (returns === 'bool' && type !== 'bool' && type !== 'unknown') {
    throw new CelCompileError('must evaluate to bool');
  }
  let program: (bindings: Record<string, unknown>) => unknown;
  try {
    program = plan(env, parsed as never) as unknown as (bindings: Record<string, unknown>) => unknown;
  } catch (err) {
    throw new CelCompileError(
      `program instantiation failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return {
    expression,
    usesEmail: checker.usesEmail,
    usesEmailVerified: checker.usesEmailVerified,
    evaluate(input) {
      let value: unknown;
      try {
        value = program({ [variable]: input });
      } catch (err) {
        return { ok: false, error: kubeEvalError(err instanceof Error ? err.message : String(err)) };
      }
      if (isCelError(value)) return { ok: false, error: kubeEvalError(value.message) };
      return { ok: true, value: value as CelValue };
    },
  };
}

/** cel-go's wording for the commonest runtime error, so messages read as kube's. */
function kubeEvalError(message: string): string {
  const m = /^field not found: (.*)$/s.exec(message);
  return m ? `no such key: ${m[1]}` : message;
}

/**
 * Verified JSON claims → the CEL `claims` value: objects become Maps (so a claim named
 * `__proto__` or `constructor` is plain data), numbers stay doubles as Go's
 * `json.Unmarshal` into `any` makes them.
 */
export function toCelValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCelValue);
  if (value !== null && typeof value === 'object') {
    const m = new Map<string, unknown>();
    for (const key of Object.keys(value)) m.set(key, toCelValue((value as Record<string, unknown>)[key]));
    return m;
  }
  return value;
}

export function toCelClaims(claims: Readonly<Record<string, unknown>>): CelBindingValue {
  return toCelValue(claims) as Map<string, unknown>;
}

/** kube's `newUserInfoValue`: every field present, empty when unset. */
export function toCelUser(user: UserInfo): CelBindingValue {
  const extra = new Map<string, unknown>();
  for (const [k, v] of Object.entries(user.extra ?? {})) extra.set(k, [...v]);
  return new Map<string, unknown>([
    ['username', user.username],
    ['uid', user.uid ?? ''],
    ['groups', [...user.groups]],
    ['extra', extra],
  ]);
}

/**
 * kube's `convertCELValueToStringList`: a string (empty → none), a list of strings (empty
 * strings dropped, empty list → none) or null (none); anything else is an error.
 */
export function toStringList(value: CelValue): { ok: true; values: string[] } | { ok: false } {
  if (typeof value === 'string') return { ok: true, values: value === '' ? [] : [value] };
  if (value === null) return { ok: true, values: [] };
  if (isCelList(value)) {
    const out: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string') return { ok: false };
      if (item !== '') out.push(item);
    }
    return { ok: true, values: out };
  }
  return { ok: false };
}
