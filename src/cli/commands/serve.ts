import cluster from 'node:cluster';
import { autoWorkers, containerCpuLimit } from '../../cluster/cpu-limit.js';
import { runPrimary } from '../../cluster/primary.js';
import { linkToPrimary } from '../../cluster/worker.js';
import { ephemeralTls, runService } from '../../compose/run.js';
import { loadConfig, requireTokenSettings, type ResolvedConfig } from '../../config/load.js';
import {
  authenticationOptions,
  authorizationOptions,
  listenOptions,
  sidecarOptions,
} from '../../config/options.js';
import { helpText } from '../../config/schema.js';
import { createLogger, sharedStdout } from '../../observe/log.js';
import type { Command } from '../usage.js';

/**
 * Reviews each process sends through a throwaway copy of its request path before it
 * listens: enough for V8 to optimise the path (bench/warm-up.bench.mjs), well under a second.
 */
const WARM_UP_REQUESTS = 1_000;

/** Extra time the primary gives workers beyond their own drain before it kills them. */
const KILL_MARGIN_MS = 10_000;

function workerCount(config: ResolvedConfig): { workers: number; cpuLimit?: number } {
  if (config.workers !== 'auto') return { workers: config.workers };
  const cpuLimit = containerCpuLimit();
  return { workers: autoWorkers(cpuLimit), ...(cpuLimit === undefined ? {} : { cpuLimit }) };
}

export const serve: Command = async (argv) => {
  const config = loadConfig('serve', argv);
  if (config.help) {
    console.log(helpText('serve', 'tokenwarden serve [options]'));
    return 0;
  }
  requireTokenSettings(config, config.rbacPolicyFiles.length > 0);
  // Built before any fork: a bad setting stops the primary once with exit 2.
  const authentication = authenticationOptions(config);
  const authorization = authorizationOptions(config);
  const listen = listenOptions(config);
  const check = config.proxy.checkEndpoint ? sidecarOptions(config) : undefined;

  const { workers, cpuLimit } = workerCount(config);
  if (cluster.isPrimary && workers > 1) {
    const logger = createLogger(config.logLevel);
    logger.info({ workers, cpuLimit }, 'starting workers');
    let tls;
    if (listen.tlsFiles === undefined) {
      tls = await ephemeralTls();
      logger.warn('no --tls-cert-file given: serving a throwaway self-signed certificate');
    }
    return runPrimary({
      workers,
      logger,
      ...(tls ? { tls } : {}),
      shutdownDeadlineMs: listen.shutdownDelayMs + listen.shutdownTimeoutMs + KILL_MARGIN_MS,
    });
  }

  const worker = cluster.isWorker ? linkToPrimary() : undefined;
  const logger = worker
    ? createLogger(config.logLevel, sharedStdout()).child({ worker: worker.id })
    : createLogger(config.logLevel);
  const tls = worker && listen.tlsFiles === undefined ? await worker.tls() : undefined;
  return runService({
    authentication,
    ...(authorization ? { authorization } : {}),
    listen: tls ? { ...listen, tls } : listen,
    ...(check ? { check } : {}),
    logger,
    warmUpRequests: WARM_UP_REQUESTS,
    gcDurationMetric: config.gcDurationMetric,
    ...(worker ? { worker } : {}),
  });
};
