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
import type { UserInfo } from '../user.js';
import { NodeFactory, type Expr, type ParsedExpr } from './ast.js';
import { SORT_BY_KEYS } from './lib/ext-lists.js';
import { kubeLibraries, regexError } from './lib/index.js';
import {
  ENTRIES,
  expandTwoVarComprehension,
  twoVarFuncs,
  twoVarProblem,
  TWO_VAR_MACROS,
} from './comprehensions.js';
import { conversionFuncs } from './conversions.js';
import { kubeEvalError } from './errors.js';
import { indexFuncs, KUBE_INDEX } from './index-access.js';
import { celGoOffset } from './location.js';
import { isGoStringList, stringListFuncs } from './string-lists.js';
import { markOptionalSyntax, type OptionalMarks } from './optional-syntax.js';
import { isOptional, OPT_HAS, OPT_INDEX, OPT_LIST, OPT_MAP, OPT_SELECT, optionalFuncs } from './optional.js';

/**
 * CEL for AuthenticationConfiguration, as kube's `authentication/cel` package: two
 * environments, one with `claims` (map(string, any)) and one with `user` (kube's
 * `kubernetes.UserInfo`: username, uid, groups, extra). Every expression is parsed and
 * checked once at load; a token only runs the planned program.
 *
 * The evaluator is @bufbuild/cel (conformance-tested against cel-spec) with its `strings`
 * extension, plus what kube's base environment has and it lacks: kube's libraries
 * (lib/), optional syntax, marked before parsing (optional-syntax.ts) and rewritten
 * here onto the values of optional.ts, and two-variable comprehensions
 * (comprehensions.ts). `claims` is kube's `map(string, any)`: a claim is of static type
 * `any`, which cel-go's checker refuses as a comprehension's range. `x[k]` is cel-go's
 * (index-access.ts), `split` and list `+` too (string-lists.ts), the string conversions
 * are Go's strconv (conversions.ts), and run-time errors are worded as cel-go's
 * (errors.ts). Each library call bounds its own cost (lib/support.ts); the claims a token carries
 * are bounded by the gate's 16 KiB token limit.
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

const USER_FIELDS: ReadonlyMap<string, BaseType> = new Map<string, BaseType>([
  ['username', 'string'],
  ['uid', 'string'],
  ['groups', 'list'],
  ['extra', 'map'],
]);

const FUNCS = [
  ...strings.filter((f) => f.name !== 'split'),
  ...stringListFuncs,
  ...conversionFuncs,
  ...indexFuncs,
  ...optionalFuncs,
  ...twoVarFuncs,
  ...kubeLibraries.flatMap((l) => l.funcs),
];

/** Static result types of kube's libraries, by the name a call has in the tree. */
const LIBRARY_RESULTS: ReadonlyMap<string, BaseType> = new Map(kubeLibraries.flatMap((l) => [...l.results]));

/** Methods whose first argument is a regex, compiled once when the program is built (cel-go's OptimizeRegex). */
const REGEX_METHODS = new Set(['matches', 'find', 'findAll']);

const envs: Record<CelVariable, CelEnv> = {
  claims: celEnv({ funcs: FUNCS, variables: { claims: mapType(CelScalar.STRING, CelScalar.DYN) } }),
  user: celEnv({ funcs: FUNCS, variables: { user: mapType(CelScalar.STRING, CelScalar.DYN) } }),
};

/** Operators the planner implements itself (not in the function resolver). */
const OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);

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

/** `any` is kube's type of a claim (`map(string, any)`); `unknown` is what the checker does not know. */
type BaseType =
  'bool' | 'string' | 'int' | 'uint' | 'double' | 'list' | 'map' | 'null' | 'dyn' | 'any' | 'unknown';
/** `opt:T` is cel-go's `optional_type(T)`. */
type StaticType = BaseType | `opt:${BaseType}`;

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

const isOpt = (t: StaticType): t is `opt:${BaseType}` => t.startsWith('opt:');
const optOf = (t: StaticType): StaticType => (isOpt(t) ? 'opt:unknown' : `opt:${t}`);
const optInner = (t: `opt:${BaseType}`): BaseType => t.slice(4) as BaseType;

/** The variables a comprehension or binding puts in scope, with their static types. */
type Scope = ReadonlyMap<string, StaticType>;
const isDynamic = (t: StaticType): boolean => t === 'dyn' || t === 'any';

/** cel-go's name for what an optional holds: element types are not tracked here, and optional.none() holds a type variable. */
const OPTIONAL_CONTENT: Partial<Record<BaseType, string>> = {
  list: 'list(dyn)',
  map: 'map(dyn, dyn)',
  unknown: '_var0',
};

/** cel-go's name of a static type that cannot be a comprehension's range; undefined for one that can. */
function notARange(t: StaticType): string | undefined {
  if (isOpt(t)) {
    const inner = optInner(t);
    return `optional_type(${OPTIONAL_CONTENT[inner] ?? inner})`;
  }
  switch (t) {
    case 'list':
    case 'map':
    case 'dyn':
    case 'unknown':
      return undefined;
  }
  return t;
}

class Checker {
  /** cel-go reports its issues in source order. */
  private readonly issues: { at: number; text: string }[] = [];
  usesEmail = false;
  usesEmailVerified = false;
  /** Optional markers the tree consumed; every marker must be. */
  usedMarks = 0;
  /** What cel-go finds when it builds the program: a constant regex that does not compile. */
  readonly instantiationProblems: string[] = [];
  private readonly checked = new Map<Expr, StaticType>();
  private readonly nodes: NodeFactory;

  constructor(
    private readonly source: string,
    /** The source the parser read: optional markers blanked, offsets unchanged. */
    private readonly parsedSource: string,
    private readonly variable: CelVariable,
    private readonly env: CelEnv,
    private readonly positions: Record<string, number>,
    private readonly marks: OptionalMarks,
    root: Expr,
  ) {
    this.nodes = new NodeFactory(root, positions);
  }

  get problems(): string[] {
    return [...this.issues].sort((a, b) => a.at - b.at).map((i) => i.text);
  }

  private fail(e: Expr, message: string, at = this.location(e)): void {
    this.issues.push({ at, text: issue(this.source, at, message) });
  }

  /** Where cel-go reports a problem with `e`; to be taken before the checker rewrites `e`. */
  private location(e: Expr): number {
    return celGoOffset(this.parsedSource, e, this.pos(e));
  }

  /** cel-go's checkComprehension: a range must be a list, a map or dyn (not `any`). */
  private checkRange(range: Expr | undefined, scope: Scope): void {
    if (!range) return;
    const at = this.location(range);
    const name = notARange(this.check(range, scope));
    if (name !== undefined) {
      this.fail(
        range,
        `expression of type '${name}' cannot be range of a comprehension (must be list, map, or dynamic)`,
        at,
      );
    }
  }

  private pos(e: Expr): number {
    return this.positions[String(e.id)] ?? 0;
  }

  /**
   * Walks the tree: declared names only, known functions only, escaped names unescaped,
   * optional syntax rewritten to the functions of optional.ts; returns a static type.
   * A node reached twice (the optional macros share their target) is checked once.
   */
  check(e: Expr | undefined, scope: Scope): StaticType {
    if (!e) return 'unknown';
    const known = this.checked.get(e);
    if (known !== undefined) return known;
    const t = this.checkNode(e, scope);
    this.checked.set(e, t);
    return t;
  }

  private checkNode(e: Expr, scope: Scope): StaticType {
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        switch (k.value.constantKind.case) {
          case 'boolValue':
            return 'bool';
          case 'stringValue':
            return 'string';
          case 'int64Value':
            return 'int';
          case 'uint64Value':
            return 'uint';
          case 'doubleValue':
            return 'double';
          case 'nullValue':
            return 'null';
          default:
            return 'unknown';
        }
      case 'identExpr': {
        const name = k.value.name;
        const bound = scope.get(name);
        if (bound !== undefined) return bound;
        if (name === this.variable) return 'map';
        if (TYPE_IDENTS.has(name)) return 'unknown';
        this.fail(e, `undeclared reference to '${name}' (in container '')`);
        return 'unknown';
      }
      case 'selectExpr':
        return this.checkSelect(e, k.value, scope);
      case 'callExpr':
        return this.checkCall(e, k.value, scope);
      case 'listExpr': {
        const { elements } = k.value;
        for (const el of elements) this.check(el, scope);
        const optional = this.marks.lists.get(this.pos(e));
        if (optional) {
          this.usedMarks += optional.length;
          const flags = elements.map((el, i) => this.nodes.constant(el, optional.includes(i)));
          e.exprKind = this.nodes.call(OPT_LIST, [this.nodes.list(e, elements), this.nodes.list(e, flags)]);
        }
        return 'list';
      }
      case 'structExpr': {
        if (k.value.messageName !== '') {
          this.fail(e, `undeclared reference to '${k.value.messageName}' (in container '')`);
        }
        const keys: Expr[] = [];
        const values: Expr[] = [];
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') {
            this.check(entry.keyKind.value as Expr, scope);
            keys.push(entry.keyKind.value as Expr);
          }
          this.check(entry.value, scope);
          if (entry.value) values.push(entry.value);
        }
        const optional = this.marks.maps.get(this.pos(e));
        if (optional && k.value.messageName === '' && keys.length === values.length) {
          this.usedMarks += optional.length;
          const flags = values.map((v, i) => this.nodes.constant(v, optional.includes(i)));
          e.exprKind = this.nodes.call(OPT_MAP, [
            this.nodes.list(e, keys),
            this.nodes.list(e, values),
            this.nodes.list(e, flags),
          ]);
        }
        return 'map';
      }
      case 'comprehensionExpr': {
        const c = k.value;
        // A two-variable comprehension's range was checked before it became `@entries(range)`.
        const entries =
          c.iterRange?.exprKind.case === 'callExpr' && c.iterRange.exprKind.value.function === ENTRIES;
        if (entries) this.check(c.iterRange, scope);
        else this.checkRange(c.iterRange, scope);
        const accuType = this.check(c.accuInit, scope);
        // The iteration variable is dyn (what a list or map holds is not tracked); the
        // accumulator has its initial value's type, so `cel.bind(v, claims.x, ...)` and
        // optMap's variable are `any`, as in cel-go.
        const inner = new Map(scope);
        inner.set(c.iterVar, 'dyn');
        inner.set(c.accuVar, accuType);
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

  private checkSelect(
    e: Expr,
    select: { operand?: Expr; field: string; testOnly: boolean },
    scope: Scope,
  ): StaticType {
    const { operand, testOnly } = select;
    // has(x.?f) never reaches here marked: the macro's select sits elsewhere, and the unused marker is refused.
    const marked = this.marks.selects.has(this.pos(e));
    if (marked) this.usedMarks++;
    let fieldType: BaseType = 'dyn';
    const onVariable =
      operand?.exprKind.case === 'identExpr' &&
      operand.exprKind.value.name === this.variable &&
      !scope.has(this.variable);
    if (onVariable && this.variable === 'claims') {
      if (select.field === 'email') this.usesEmail = true;
      if (select.field === 'email_verified') this.usesEmailVerified = true;
      // kube's claims map unescapes every key it is asked for: `claims.a__dot__b` is claim `a.b`.
      const unescaped = unescapeCelName(select.field);
      if (unescaped !== undefined && unescaped !== select.field) select.field = unescaped;
      fieldType = 'any';
    } else if (onVariable) {
      const t = USER_FIELDS.get(select.field);
      if (!t) this.fail(e, `undefined field '${select.field}'`);
      fieldType = t ?? 'unknown';
    } else {
      const unescaped = unescapeCelName(select.field);
      if (unescaped !== undefined && unescaped !== select.field) select.field = unescaped;
    }
    const operandType = this.check(operand, scope);
    if (operand && (marked || isOpt(operandType))) {
      const field = this.nodes.constant(e, select.field);
      e.exprKind = this.nodes.call(testOnly ? OPT_HAS : OPT_SELECT, [operand, field]);
      return testOnly ? 'bool' : optOf(fieldType);
    }
    return testOnly ? 'bool' : fieldType;
  }

  /**
   * cel-go's sortBy macro (ext.Lists v2+): `cel.bind(@__sortBy_input__, target,
   * @__sortBy_input__.@sortByAssociatedKeys(@__sortBy_input__.map(v, key)))`.
   */
  private checkSortBy(e: Expr, target: Expr, args: Expr[], scope: Scope): StaticType {
    const kind = target.exprKind.case;
    if (
      kind !== 'listExpr' &&
      kind !== 'selectExpr' &&
      kind !== 'identExpr' &&
      kind !== 'comprehensionExpr' &&
      kind !== 'callExpr'
    ) {
      this.fail(
        target,
        'sortBy can only be applied to a list, identifier, comprehension, call or select expression',
      );
      return 'unknown';
    }
    const v = args[0]!.exprKind;
    if (v.case !== 'identExpr') {
      this.fail(args[0]!, 'argument is not an identifier');
      return 'unknown';
    }
    const input = '@__sortBy_input__';
    // cel-go reports a problem with the generated map's range at the call's parenthesis.
    const range = this.nodes.ident(e, input);
    this.positions[String(range.id)] = this.location(e);
    const accu = (): Expr => this.nodes.ident(e, '@result');
    const keys = this.nodes.node(
      e,
      this.nodes.fold(e, {
        iterVar: v.value.name,
        iterRange: range,
        accuVar: '@result',
        accuInit: this.nodes.list(e, []),
        loopCondition: this.nodes.constant(e, true),
        loopStep: this.nodes.callNode(e, '_+_', [accu(), this.nodes.list(e, [args[1]!])]),
        result: accu(),
      }),
    );
    const sorted = this.nodes.callNode(e, SORT_BY_KEYS, [keys], this.nodes.ident(e, input));
    e.exprKind = this.nodes.bind(e, input, target, sorted).exprKind;
    this.checkNode(e, scope);
    return 'list';
  }

  private checkCall(
    e: Expr,
    call: { target?: Expr; function: string; args: Expr[] },
    scope: Scope,
  ): StaticType {
    const { target, function: fn, args } = call;
    if (target && TWO_VAR_MACROS.get(fn)?.includes(args.length)) {
      const problem = twoVarProblem(args);
      if (problem) {
        this.fail(problem.at, problem.message);
        return 'unknown';
      }
      this.checkRange(target, scope);
      e.exprKind = expandTwoVarComprehension(this.nodes, e, fn, target, args);
      return this.checkNode(e, scope);
    }
    if (fn === 'sortBy' && target && args.length === 2) return this.checkSortBy(e, target, args, scope);
    if ((fn === 'optMap' || fn === 'optFlatMap') && target) {
      const v = args[0]?.exprKind;
      if (args.length !== 2 || v?.case !== 'identExpr') {
        this.fail(e, `${fn}() variable name must be a simple identifier`);
        return 'unknown';
      }
      // cel-go's expansion: target.hasValue() ? [optional.of](cel.bind(v, target.value(), body)) : optional.none()
      const bound = this.nodes.bind(e, v.value.name, this.nodes.callNode(e, 'value', [], target), args[1]!);
      const some = fn === 'optMap' ? this.nodes.callNode(e, 'optional.of', [bound]) : bound;
      e.exprKind = this.nodes.call('_?_:_', [
        this.nodes.callNode(e, 'hasValue', [], target),
        some,
        this.nodes.callNode(e, 'optional.none', []),
      ]);
      return this.checkNode(e, scope);
    }
    // `optional.of(x)`, `sets.contains(a, b)`: a namespaced global, resolved so by the planner too.
    let name = fn;
    let receiver = target;
    if (target?.exprKind.case === 'identExpr') {
      const ns = target.exprKind.value.name;
      if (!scope.has(ns) && ns !== this.variable && this.env.funcs.find(`${ns}.${fn}`)) {
        name = `${ns}.${fn}`;
        receiver = undefined;
      }
    }
    if (!OPERATORS.has(name) && !this.env.funcs.find(name)) {
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
    const pattern = receiver ? args[0] : args[1];
    if (REGEX_METHODS.has(name) && pattern?.exprKind.case === 'constExpr') {
      const c = pattern.exprKind.value.constantKind;
      const problem = c.case === 'stringValue' ? regexError(c.value as string) : undefined;
      if (problem !== undefined) this.instantiationProblems.push(problem);
    }
    const targetType = receiver ? this.check(receiver, scope) : undefined;
    const argTypes = args.map((a) => this.check(a, scope));
    if (fn === '_[_]') {
      const marked = this.marks.indexes.has(this.pos(e));
      if (marked) this.usedMarks++;
      const operand = args[0]?.exprKind;
      const onClaims =
        this.variable === 'claims' &&
        operand?.case === 'identExpr' &&
        operand.value.name === 'claims' &&
        !scope.has('claims');
      if (marked || isOpt(argTypes[0]!)) {
        call.function = OPT_INDEX;
        return onClaims ? 'opt:any' : 'opt:dyn';
      }
      call.function = KUBE_INDEX;
      return onClaims ? 'any' : 'dyn';
    }
    return resultType(name, targetType, argTypes);
  }
}

/**
 * The type cel-go gives a value that is `a` or `b` (a ternary's branches, an optional's value
 * or its `orValue` default): a dyn or any second wins, then a dyn or any first (cel-go's
 * `mostGeneral`), so `c ? claims.x : []` is `any` and `c ? claims.x : dyn([])` is dyn.
 */
function join(a: StaticType, b: StaticType): StaticType {
  if (isDynamic(b)) return b;
  if (isDynamic(a)) return a;
  return a === b ? a : 'dyn';
}

/** The static result of a call, as far as the bool-or-not decision of kube's compiler needs it. */
function resultType(fn: string, target: StaticType | undefined, args: readonly StaticType[]): StaticType {
  switch (fn) {
    case OPT_SELECT:
    case OPT_INDEX:
      return 'opt:dyn';
    case 'optional.of':
    case 'optional.ofNonZeroValue':
      return optOf(args[0]!);
    case 'optional.none':
      return 'opt:unknown';
    case 'value':
      return target && isOpt(target) ? optInner(target) : 'dyn';
    case 'orValue': {
      if (!target || !isOpt(target)) return 'dyn';
      const inner = optInner(target);
      if (inner === 'unknown') return args[0]!;
      return join(inner, args[0]!);
    }
    case 'or':
      return target && isOpt(target) && target === args[0] ? target : 'opt:dyn';
    case 'optional.unwrap':
    case 'unwrapOpt':
    case 'split':
      return 'list';
    case 'hasValue':
    case OPT_HAS:
      return 'bool';
    case 'dyn':
      return 'dyn';
    case 'double':
      return 'double';
    case '-_':
      return args[0] === 'int' || args[0] === 'double' ? args[0] : 'unknown';
    case '_?_:_': {
      const [, a, b] = args;
      if (isOpt(a!) && isOpt(b!) && a !== b) {
        // optional.none() is an optional of anything: `c ? optional.of(x) : optional.none()`.
        if (a === 'opt:unknown') return b!;
        return b === 'opt:unknown' ? a! : 'opt:dyn';
      }
      return join(a!, b!);
    }
    case '_+_':
      if (isDynamic(args[0]!) || isDynamic(args[1]!)) return 'dyn';
      return args[0] === args[1] ? args[0]! : 'unknown';
  }
  const library = LIBRARY_RESULTS.get(fn);
  if (library !== undefined) return library;
  if (BOOL_FUNCTIONS.has(fn)) return 'bool';
  if (STRING_FUNCTIONS.has(fn)) return 'string';
  if (INT_FUNCTIONS.has(fn)) return 'int';
  return 'unknown';
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
  const marked = markOptionalSyntax(expression);
  let parsed: ParsedExpr;
  try {
    parsed = parse(marked.source) as unknown as ParsedExpr;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CelCompileError(`compilation failed: ERROR: ${message}`);
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const checker = new Checker(expression, marked.source, variable, env, positions, marked.marks, parsed.expr);
  const type = checker.check(parsed.expr, new Map());
  const problems = checker.problems;
  if (problems.length === 0 && checker.usedMarks !== marked.count) {
    throw new CelCompileError(
      `compilation failed: ERROR: <input>: unsupported use of the optional marker '?'`,
    );
  }
  if (problems.length > 0) {
    throw new CelCompileError(`compilation failed: ${problems.join('\n')}`);
  }
  // kube: the checked output type must equal the required one (dyn is not bool).
  if (returns === 'bool' && type !== 'bool' && type !== 'unknown') {
    throw new CelCompileError('must evaluate to bool');
  }
  if (checker.instantiationProblems.length > 0) {
    throw new CelCompileError(`program instantiation failed: ${checker.instantiationProblems[0]}`);
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
 * strings dropped, empty list → none) or null (none); anything else is an error. A list
 * that is a Go `[]string` in cel-go (`split`, `findAll`: see string-lists.ts) is refused,
 * empty or not, as kube's conversion takes only `[]interface{}` and `[]ref.Val` lists.
 */
export function toStringList(value: CelValue): { ok: true; values: string[] } | { ok: false } {
  if (typeof value === 'string') return { ok: true, values: value === '' ? [] : [value] };
  if (value === null) return { ok: true, values: [] };
  // An optional is no list of strings, whatever it holds (kube's conversion refuses it).
  if (isOptional(value) || isGoStringList(value)) return { ok: false };
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
