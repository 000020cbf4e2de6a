/**
 * The parsed CEL tree as @bufbuild/cel produces it (cel.expr.Expr, protobuf-es shapes),
 * and the nodes the rewrites in compile.ts add to it.
 */

export interface Expr {
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

export interface ParsedExpr {
  expr: Expr;
  sourceInfo?: { positions: Record<string, number> };
}

/** Builds the nodes the rewrites add, with fresh ids placed at the source offset of `at`. */
export class NodeFactory {
  private nextId: bigint;

  constructor(
    root: Expr,
    private readonly positions: Record<string, number>,
  ) {
    this.nextId = maxId(root) + 1n;
  }

  node(at: Expr, exprKind: Expr['exprKind']): Expr {
    const id = this.nextId++;
    this.positions[String(id)] = this.positions[String(at.id)] ?? 0;
    return { $typeName: 'cel.expr.Expr', id, exprKind } as Expr;
  }

  call(fn: string, args: Expr[], target?: Expr): Expr['exprKind'] {
    return {
      case: 'callExpr',
      value: { $typeName: 'cel.expr.Expr.Call', target, function: fn, args },
    } as Expr['exprKind'];
  }

  callNode(at: Expr, fn: string, args: Expr[], target?: Expr): Expr {
    return this.node(at, this.call(fn, args, target));
  }

  list(at: Expr, elements: Expr[]): Expr {
    return this.node(at, {
      case: 'listExpr',
      value: { $typeName: 'cel.expr.Expr.CreateList', elements, optionalIndices: [] },
    } as Expr['exprKind']);
  }

  emptyMap(at: Expr): Expr {
    return this.node(at, {
      case: 'structExpr',
      value: { $typeName: 'cel.expr.Expr.CreateStruct', messageName: '', entries: [] },
    } as Expr['exprKind']);
  }

  constant(at: Expr, value: string | boolean | bigint): Expr {
    const constantKind =
      typeof value === 'string'
        ? { case: 'stringValue', value }
        : typeof value === 'bigint'
          ? { case: 'int64Value', value }
          : { case: 'boolValue', value };
    return this.node(at, {
      case: 'constExpr',
      value: { $typeName: 'cel.expr.Constant', constantKind },
    } as Expr['exprKind']);
  }

  ident(at: Expr, name: string): Expr {
    return this.node(at, {
      case: 'identExpr',
      value: { $typeName: 'cel.expr.Expr.Ident', name },
    } as Expr['exprKind']);
  }

  fold(
    at: Expr,
    parts: {
      iterVar: string;
      iterRange: Expr;
      accuVar: string;
      accuInit: Expr;
      loopCondition: Expr;
      loopStep: Expr;
      result: Expr;
    },
  ): Expr['exprKind'] {
    return {
      case: 'comprehensionExpr',
      value: { $typeName: 'cel.expr.Expr.Comprehension', iterVar2: '', ...parts },
    } as Expr['exprKind'];
  }

  /** cel-go's `cel.bind(name, init, body)`: a fold over nothing whose accumulator is the binding. */
  bind(at: Expr, name: string, init: Expr, body: Expr): Expr {
    return this.node(
      at,
      this.fold(at, {
        iterVar: '#unused',
        iterRange: this.list(at, []),
        accuVar: name,
        accuInit: init,
        loopCondition: this.constant(at, false),
        loopStep: this.ident(at, name),
        result: body,
      }),
    );
  }
}

function maxId(e: Expr | undefined): bigint {
  if (!e) return 0n;
  let max = e.id;
  const visit = (child: Expr | undefined): void => {
    const m = maxId(child);
    if (m > max) max = m;
  };
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      visit(k.value.operand);
      break;
    case 'callExpr':
      visit(k.value.target);
      k.value.args.forEach(visit);
      break;
    case 'listExpr':
      k.value.elements.forEach(visit);
      break;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value as Expr);
        visit(entry.value);
      }
      break;
    case 'comprehensionExpr':
      for (const c of [
        k.value.iterRange,
        k.value.accuInit,
        k.value.loopCondition,
        k.value.loopStep,
        k.value.result,
      ]) {
        visit(c);
      }
      break;
  }
  return max;
}
