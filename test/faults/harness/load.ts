import { Agent, request } from 'node:https';
import { reviewPath, tokenReview } from '../../helpers/server.js';

/** One kind of request in a load mix and the only answer that is right for it. */
export interface Probe {
  readonly name: string;
  readonly token: string;
  /** The username a correct answer authenticates, or null when the right answer is a refusal. */
  readonly user: string | null;
  /** A raw request body instead of a TokenReview of `token`, and the status it must get. */
  readonly body?: string;
  readonly status?: number;
}

export interface LoadOptions {
  readonly port: number;
  readonly ca: string;
  /** The mix, sent round-robin. */
  readonly probes: readonly Probe[];
  readonly concurrency: number;
  /** Hard bounds: the run stops at whichever comes first (or at `stop()`). */
  readonly maxRequests: number;
  readonly maxMs: number;
  readonly stop?: () => boolean;
  /** One keep-alive agent for the run (default), or a fresh connection per request. */
  readonly keepAlive?: boolean;
  /** Stop once a connection is refused (the listener closed): for shutdown runs. */
  readonly untilRefused?: boolean;
  /** Called after each complete answer, with the count so far. */
  readonly onAnswer?: (answered: number) => void;
}

export interface LoadReport {
  readonly sent: number;
  /** Complete HTTP answers received, by status code. */
  readonly byStatus: Record<number, number>;
  /** Answers whose status or identity was not the right one, first few described. */
  readonly wrong: number;
  readonly wrongSamples: string[];
  /** Requests with no complete answer, by error code. */
  readonly errors: Record<string, number>;
  readonly durationMs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Why `answer` is not the right answer to `probe`, or undefined when it is. */
export function judge(probe: Probe, status: number, text: string): string | undefined {
  if (status !== (probe.status ?? 200)) return `${probe.name}: HTTP ${status}`;
  if (status !== 200) return undefined;
  let review: { status?: { authenticated?: boolean; user?: { username?: string } } };
  try {
    review = JSON.parse(text) as typeof review;
  } catch {
    return `${probe.name}: the body is not JSON`;
  }
  const authenticated = review.status?.authenticated === true;
  if (probe.user === null)
    return authenticated ? `${probe.name}: authenticated, expected a refusal` : undefined;
  if (!authenticated) return `${probe.name}: refused, expected ${probe.user}`;
  const got = review.status?.user?.username;
  return got === probe.user
    ? undefined
    : `${probe.name}: authenticated as ${String(got)}, expected ${probe.user}`;
}

/**
 * Steady TokenReview traffic against a loopback server, bounded in count and time, that
 * checks every answer against what the probe says is right. Latencies are recorded for
 * the report only: nothing here asserts on time.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const agent =
    options.keepAlive === false ? false : new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const byStatus: Record<number, number> = {};
  const errors: Record<string, number> = {};
  const wrongSamples: string[] = [];
  const latencies: number[] = [];
  let wrong = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const bodies = options.probes.map((p) => p.body ?? JSON.stringify(tokenReview(p.token)));

  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const probe = options.probes[i]!;
      const body = bodies[i]!;
      const t0 = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port: options.port,
          ca: options.ca,
          method: 'POST',
          path: reviewPath(),
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('error', (err: NodeJS.ErrnoException) => {
            errors[err.code ?? err.message] = (errors[err.code ?? err.message] ?? 0) + 1;
            resolve();
          });
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            const status = res.statusCode ?? 0;
            byStatus[status] = (byStatus[status] ?? 0) + 1;
            options.onAnswer?.(latencies.length);
            const why = judge(probe, status, text);
            if (why !== undefined) {
              wrong++;
              if (wrongSamples.length < 5) wrongSamples.push(why);
            }
            resolve();
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        errors[code] = (errors[code] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });

  const worker = async (): Promise<void> => {
    while (
      sent < options.maxRequests &&
      performance.now() < deadline &&
      !(options.stop?.() ?? false) &&
      !(options.untilRefused === true && errors.ECONNREFUSED !== undefined)
    ) {
      const i = sent % options.probes.length;
      sent++;
      await one(i);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (agent) agent.destroy();
  const durationMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    sent,
    byStatus,
    wrong,
    wrongSamples,
    errors,
    durationMs: Math.round(durationMs),
    rps: Math.round((latencies.length / durationMs) * 1000),
    p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
    maxMs: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
  };
}

/** The one-line summary a fault test prints, for docs/security.md's load table. */
export function describeLoad(label: string, r: LoadReport): string {
  const statuses = Object.entries(r.byStatus)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
  const errs = Object.entries(r.errors)
    .map(([c, n]) => `${c}×${n}`)
    .join(' ');
  return `[faults] ${label}: ${r.sent} requests in ${r.durationMs} ms (${r.rps}/s), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms; ${statuses}${errs ? `; errors ${errs}` : ''}; wrong ${r.wrong}`;
}

/** Everything answered, every answer right, no 5xx. */
export function allCorrect(r: LoadReport): {
  wrong: number;
  samples: string[];
  errors: Record<string, number>;
  fiveXX: number;
} {
  const fiveXX = Object.entries(r.byStatus)
    .filter(([s]) => Number(s) >= 500)
    .reduce((a, [, n]) => a + n, 0);
  return { wrong: r.wrong, samples: r.wrongSamples, errors: r.errors, fiveXX };
}
