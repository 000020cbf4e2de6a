import { celEnv, CelScalar, isCelError, mapType, parse, plan, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { expect } from 'vitest';
import type { CelLibrary } from '../../../src/cel/lib/library.js';

/** JSON claims as compile.ts binds them: objects as Maps, arrays as arrays, numbers as doubles. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}

export type Outcome = { ok: true; value: CelValue } | { ok: false; error: string };

/**
 * An evaluator as compile.ts builds one: @bufbuild/cel with its `strings` extension, the given
 * libraries and a `claims` variable (JSON claims converted as compile.ts converts them).
 */
export function evaluator(...libs: CelLibrary[]) {
  const env = celEnv({
    funcs: [...strings, ...libs.flatMap((l) => l.funcs)],
    variables: { claims: mapType(CelScalar.STRING, CelScalar.DYN) },
  });
  const run = (expr: string, claims: Record<string, unknown> = {}): Outcome => {
    const program = plan(env, parse(expr) as never) as unknown as (b: Record<string, unknown>) => unknown;
    let value: unknown;
    try {
      value = program({ claims: toCel(claims) });
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (isCelError(value)) return { ok: false, error: value.message };
    return { ok: true, value: value as CelValue };
  };
  return {
    run,
    /** The expression's value; fails the test on an evaluation error. */
    value(expr: string, claims?: Record<string, unknown>): CelValue {
      const r = run(expr, claims);
      if (!r.ok) throw new Error(`${expr}: unexpected error: ${r.error}`);
      return r.value;
    },
    /** Each expression evaluates to true. */
    expectTrue(exprs: readonly string[], claims?: Record<string, unknown>): void {
      for (const expr of exprs) expect([expr, run(expr, claims)]).toEqual([expr, { ok: true, value: true }]);
    },
    /** Each expression fails with exactly this error. */
    expectErrors(cases: Readonly<Record<string, string>>, claims?: Record<string, unknown>): void {
      for (const [expr, error] of Object.entries(cases)) {
        expect([expr, run(expr, claims)]).toEqual([expr, { ok: false, error }]);
      }
    },
  };
}
