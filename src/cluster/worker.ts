import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import type { HealthCheck } from '../http/ops.js';
import type { TlsMaterial } from '../http/server.js';
import { Rpc } from './rpc.js';

/** How long a worker waits for the primary: it answers from memory, or asks workers with its own bound. */
const PRIMARY_TIMEOUT_MS = 5_000;

/** A worker's line to the primary of `serve --workers N`. */
export interface WorkerLink {
  /** node:cluster's id of this worker, unique for the life of the primary (a restart gets a new one). */
  readonly id: number;
  /** The primary's throwaway serving pair, when no certificate files are set. */
  tls(): Promise<TlsMaterial | undefined>;
  /** /metrics of every worker together. */
  scrape(): Promise<string>;
  /** One readiness line for all serving workers (this one included). */
  readiness(): Promise<HealthCheck>;
  /** Answers the primary's questions about this worker from now on. */
  expose(local: { registry: Registry; readiness: () => readonly HealthCheck[] }): void;
  /** Called once the primary has gone (its IPC channel closed): the worker must stop. */
  onPrimaryGone(listener: () => void): void;
}

export function linkToPrimary(): WorkerLink {
  const worker = cluster.worker;
  const send = process.send?.bind(process);
  if (!worker || !send) throw new Error('linkToPrimary: not a cluster worker');
  const rpc = new Rpc({
    send: (m) => send(m),
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  });
  return {
    id: worker.id,
    async tls() {
      return (await rpc.ask<TlsMaterial | null>('tls', PRIMARY_TIMEOUT_MS)) ?? undefined;
    },
    scrape: () => rpc.ask<string>('metrics', PRIMARY_TIMEOUT_MS),
    readiness: () =>
      rpc
        .ask<HealthCheck>('readiness', PRIMARY_TIMEOUT_MS)
        .catch(() => ({ name: 'workers', ok: false, note: 'primary not answering' })),
    expose(local) {
      rpc.answer('local-metrics', () => local.registry.getMetricsAsJSON());
      rpc.answer('local-readiness', local.readiness);
    },
    onPrimaryGone(listener) {
      process.once('disconnect', listener);
    },
  };
}
