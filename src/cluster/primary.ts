import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues } from 'prom-client';
import type { HealthCheck } from '../http/ops.js';
import type { TlsMaterial } from '../http/server.js';
import { Rpc, type Channel } from './rpc.js';

export interface PrimaryOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** The throwaway serving pair handed to every worker when no certificate files are set. */
  readonly tls?: TlsMaterial;
  /** How long workers may drain after SIGTERM before they are killed. */
  readonly shutdownDeadlineMs: number;
}

/** A worker that keeps dying is restarted ever more slowly, up to `maxMs` apart. */
export const RESTART_BACKOFF = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 } as const;

/** The wait before restarting a worker that has now died `failures` times in a row (1 or more). */
export function restartDelay(failures: number): number {
  return Math.min(RESTART_BACKOFF.maxMs, RESTART_BACKOFF.initialMs * 2 ** Math.max(0, failures - 1));
}

/** Questions to one worker must not hold up an answer for long: a hung worker counts as not ready. */
const ASK_TIMEOUT_MS = 2_000;

interface Slot {
  worker?: Worker;
  rpc?: Rpc;
  serving: boolean;
  forks: number;
  everServed: boolean;
  /** Deaths in a row; reset by a worker that lived past RESTART_BACKOFF.resetAfterMs. */
  failures: number;
  startedAt: number;
  restart?: NodeJS.Timeout;
}

/** Node's Worker has overloaded `on`; the channel needs only its message events. */
function channelOf(worker: Worker): Channel {
  return {
    send: (m) => worker.send(m as object),
    on: (event, listener) => worker.on(event, listener),
    off: (event, listener) => worker.off(event, listener),
  };
}

/**
 * `serve --workers N`: forks N workers that each run the whole server on one shared
 * listener (node:cluster hands each accepted connection to the next worker in turn), and
 * answers their questions about the whole: /metrics summed across workers, readiness of
 * every serving worker. A worker that dies after it has served is restarted with backoff;
 * one that dies before the first ever served stops the server with its exit code (a bad
 * key file fails every worker alike). SIGTERM or SIGINT stops every worker and resolves
 * once all have exited.
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger, workers: count } = options;
  const slots: Slot[] = Array.from({ length: count }, () => ({
    serving: false,
    forks: 0,
    everServed: false,
    failures: 0,
    startedAt: 0,
  }));
  const registry = new Registry();
  new Gauge({
    name: 'tokenwarden_workers',
    help: 'Worker processes serving the listener now.',
    registers: [registry],
    collect(this: Gauge) {
      this.set(slots.filter((s) => s.serving).length);
    },
  });
  const restarts = new Counter({
    name: 'tokenwarden_worker_restarts_total',
    help: 'Workers restarted after they died.',
    registers: [registry],
  });

  const scrape = async (): Promise<string> => {
    const own = (await registry.getMetricsAsJSON()) as MetricObjectWithValues<never>[];
    const parts = await Promise.all(
      slots.map((s) =>
        s.rpc && s.worker?.isConnected()
          ? s.rpc.ask<MetricObjectWithValues<never>[]>('local-metrics', ASK_TIMEOUT_MS).catch(() => undefined)
          : undefined,
      ),
    );
    return AggregatorRegistry.aggregate([own, ...parts.filter((p) => p !== undefined)]).metrics();
  };

  const readiness = async (): Promise<HealthCheck> => {
    const serving = slots.filter((s) => s.serving && s.rpc);
    const ready = await Promise.all(
      serving.map((s) =>
        s
          .rpc!.ask<HealthCheck[]>('local-readiness', ASK_TIMEOUT_MS)
          .then((checks) => checks.every((c) => c.ok))
          .catch(() => false),
      ),
    );
    const n = ready.filter(Boolean).length;
    return n === serving.length && n > 0
      ? { name: 'workers', ok: true, note: `${n} of ${count} serving` }
      : { name: 'workers', ok: false, note: `${n} of ${serving.length} serving workers ready` };
  };

  return new Promise<number>((resolve) => {
    let stopping = false;
    let exitCode = 0;
    let deadline: NodeJS.Timeout | undefined;
    let announced = false;

    const fork = (slot: Slot) => {
      const worker = cluster.fork();
      const rpc = new Rpc(channelOf(worker));
      rpc.answer('metrics', scrape);
      rpc.answer('readiness', readiness);
      rpc.answer('tls', () => options.tls ?? null);
      Object.assign(slot, { worker, rpc, serving: false, startedAt: Date.now() });
      slot.forks++;
      worker.on('listening', (address: { port: number }) => {
        slot.serving = true;
        slot.everServed = true;
        logger.info({ worker: worker.id, pid: worker.process.pid }, 'worker serving');
        if (!announced && slots.every((s) => s.everServed)) {
          announced = true;
          logger.info({ workers: count, port: address.port }, 'all workers serving');
        }
      });
      worker.on('exit', (code, signal) => exited(slot, worker, code, signal));
    };

    const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
      slot.rpc?.close();
      Object.assign(slot, { worker: undefined, rpc: undefined, serving: false });
      if (stopping) {
        if (code !== 0) exitCode ||= 1;
        if (slots.every((s) => s.worker === undefined)) finish();
        return;
      }
      const failedStart = slot.forks === 1 && !slot.everServed;
      if (failedStart) {
        logger.error({ worker: worker.id, code, signal }, 'a worker stopped before serving; stopping');
        stop('worker failed to start', code === null || code === 0 ? 1 : code);
        return;
      }
      slot.failures = Date.now() - slot.startedAt >= RESTART_BACKOFF.resetAfterMs ? 1 : slot.failures + 1;
      const restartInMs = restartDelay(slot.failures);
      logger.error(
        { worker: worker.id, pid: worker.process.pid, code, signal, restartInMs },
        'worker exited; restarting',
      );
      restarts.inc();
      slot.restart = setTimeout(() => {
        slot.restart = undefined;
        fork(slot);
      }, restartInMs);
    };

    const stop = (reason: string, code = 0) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      logger.info(
        { reason, workers: slots.filter((s) => s.worker).length },
        'shutting down: stopping workers',
      );
      for (const s of slots) {
        clearTimeout(s.restart);
        s.worker?.process.kill('SIGTERM');
      }
      deadline = setTimeout(() => {
        logger.error({ afterMs: options.shutdownDeadlineMs }, 'workers did not stop in time; killing them');
        for (const s of slots) s.worker?.process.kill('SIGKILL');
      }, options.shutdownDeadlineMs);
      if (slots.every((s) => s.worker === undefined)) finish();
    };

    const finish = () => {
      clearTimeout(deadline);
      logger.info({ exitCode }, 'stopped');
      logger.flush(() => resolve(exitCode));
    };

    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    for (const slot of slots) fork(slot);
  });
}
