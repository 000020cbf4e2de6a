import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * cgroup v2 `cpu.max`: `QUOTA PERIOD` in microseconds, or `max PERIOD` for no limit.
 * Returns the limit in CPUs (a fraction allowed), or undefined when unlimited or unreadable.
 */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return cpus(Number(quota), Number(period ?? '100000'));
}

/** cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`; a quota of -1 means no limit. */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  return cpus(Number(quotaText.trim()), Number(periodText.trim()));
}

function cpus(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/** Reads a file, or undefined when it is absent or unreadable (no cgroup, another version). */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The container's CPU limit in CPUs: cgroup v2 first, then v1; undefined without one.
 * Kubernetes turns `resources.limits.cpu` into exactly these files.
 */
export function containerCpuLimit(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) return parseCpuMax(v2);
  const quota =
    read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us');
  const period =
    read('/sys/fs/cgroup/cpu/cpu.cfs_period_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us');
  return quota === undefined || period === undefined ? undefined : parseCfsQuota(quota, period);
}

/**
 * `--workers auto`: one worker per whole CPU of the limit, rounded down as uber-go/automaxprocs
 * rounds GOMAXPROCS (each worker's garbage collector and TLS threads use CPU beyond its main
 * thread, and a worker over the quota is throttled for the rest of the period), never more
 * than the CPUs this process may run on, and at least one. Without a limit, one per CPU.
 */
export function autoWorkers(limit: number | undefined, parallelism: number = availableParallelism()): number {
  const byLimit = limit === undefined ? parallelism : Math.floor(limit);
  return Math.max(1, Math.min(byLimit, parallelism));
}
