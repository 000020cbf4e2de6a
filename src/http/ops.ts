import type { Context, Hono } from 'hono';
import type { Metrics } from '../observe/metrics.js';

export interface HealthCheck {
  readonly name: string;
  readonly ok: boolean;
  /** One short word or phrase; never paths, keys or URLs: /readyz is open to anyone who reaches the port. */
  readonly note?: string;
}

export type Readiness = () => readonly HealthCheck[] | Promise<readonly HealthCheck[]>;

export interface OpsOptions {
  readonly metrics: Metrics;
  /** Checks that gate /readyz; /livez and /healthz only say the process serves. */
  readonly readiness: Readiness;
  /** /metrics text when it is not this process's registry alone (`serve --workers`: every worker's). */
  readonly scrape?: () => Promise<string>;
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
  const probe = (kind: string, checks: Readiness) => async (c: Context) => {
    const { body, ok } = render(kind, await checks(), c.req.query('verbose') !== undefined);
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
    probe('readyz', async () => [ping, ...(await options.readiness())]),
  );
  const { registry } = options.metrics;
  const scrape = options.scrape ?? (() => registry.metrics());
  app.get('/metrics', async (c) => {
    let text: string;
    try {
      text = await scrape();
    } catch {
      // A partial sum would read as counters going backwards; no answer is better.
      return c.text('metrics unavailable: the workers did not answer\n', 503);
    }
    return c.text(text, 200, { 'Content-Type': registry.contentType });
  });
}
