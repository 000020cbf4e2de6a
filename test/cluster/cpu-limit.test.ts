import { describe, expect, it } from 'vitest';
import { autoWorkers, containerCpuLimit, parseCfsQuota, parseCpuMax } from '../../src/cluster/cpu-limit.js';

describe('parseCpuMax (cgroup v2)', () => {
  it('reads the quota over the period, and no limit for max', () => {
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('150000 100000')).toBe(1.5);
    expect(parseCpuMax('50000 100000')).toBe(0.5);
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCpuMax('')).toBeUndefined();
    expect(parseCpuMax('garbage')).toBeUndefined();
  });
});

describe('parseCfsQuota (cgroup v1)', () => {
  it('reads the quota over the period, and no limit for -1', () => {
    expect(parseCfsQuota('300000\n', '100000\n')).toBe(3);
    expect(parseCfsQuota('-1\n', '100000\n')).toBeUndefined();
    expect(parseCfsQuota('100000', '0')).toBeUndefined();
  });
});

describe('containerCpuLimit', () => {
  const files = (entries: Record<string, string>) => (path: string) => entries[path];

  it('prefers cgroup v2 cpu.max', () => {
    expect(
      containerCpuLimit(
        files({
          '/sys/fs/cgroup/cpu.max': '400000 100000',
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
        }),
      ),
    ).toBe(4);
  });

  it('falls back to the cgroup v1 cfs quota, under either mount name', () => {
    expect(
      containerCpuLimit(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '250000',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
        }),
      ),
    ).toBe(2.5);
    expect(
      containerCpuLimit(
        files({
          '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '100000',
          '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '50000',
        }),
      ),
    ).toBe(2);
  });

  it('has no limit without cgroup files, or with v2 saying max', () => {
    expect(containerCpuLimit(files({}))).toBeUndefined();
    expect(containerCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }))).toBeUndefined();
  });
});

describe('autoWorkers', () => {
  it('takes whole CPUs of the limit, at least one, at most the CPUs available', () => {
    expect(autoWorkers(4, 8)).toBe(4);
    expect(autoWorkers(1.5, 8)).toBe(1);
    expect(autoWorkers(0.5, 8)).toBe(1);
    expect(autoWorkers(16, 2)).toBe(2);
  });

  it('takes every available CPU when there is no limit', () => {
    expect(autoWorkers(undefined, 6)).toBe(6);
  });
});
