import type { Context, Hono } from 'hono';
import type { Metrics } from '../observe/metrics.js';

export interface HealthCheck {
  readonly name: string;
  readonly ok: boolean;
  /** One short word or phrase; never paths, keys or URLs (security.md §3.16). */
  readonly note?: string;
}

export interface OpsOptions {
  readonly metrics: Metrics;
  /** Checks that gate /readyz; /livez and /healthz only say the process serves. */
  readonly readiness: () => readonly HealthCheck[];
}

/** kube-apiserver's verbose format: `[+]name ok` / `[-]name failed: reason withheld`. */
function render(
  kind: string,
  checks: readonly HealthCheck[],
  verbose: boolean,
): { body: string; ok: boolean } {
  const ok = checks.every((c) => c.ok);
  if (!verbose) return { body: ok ? 'ok' : `${kind} check failed\n`, ok };
  const lines = checks.map((c) =>
    c.ok
      ? `[+]${c.name} ok${c.note ? ` (${c.note})` : ''}`
      : `[-]${c.name} failed: ${c.note ?? 'reason withheld'}`,
  );
  lines.push(ok ? `${kind} check passed` : `${kind} check failed`);
  return { body: `${lines.join('\n')}\n`, ok };
}

export function registerOps(app: Hono, options: OpsOptions): void {
  const ping: HealthCheck = { name: 'ping', ok: true };
  const probe = (kind: string, checks: () => readonly HealthCheck[]) => (c: Context) => {
    const { body, ok } = render(kind, checks(), c.req.query('verbose') !== undefined);
    return c.text(body, ok ? 200 : 503);
  };
  app.get(
    '/healthz',
    probe('healthz', () => [ping]),
  );
  app.get(
    '/livez',
    probe('livez', () => [ping]),
  );
  app.get(
    '/readyz',
    probe('readyz', () => [ping, ...options.readiness()]),
  );
  app.get('/metrics', async (c) => {
    const text = await options.metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': options.metrics.registry.contentType });
  });
}
