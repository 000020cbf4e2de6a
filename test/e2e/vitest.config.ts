import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Each e2e file starts its own kube-apiserver, etcd and controller-manager; on a two-core machine two at once only
// make both slow and flaky, so files run one after another in a single fork.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/harness/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    // beforeAll starts a cluster: up to 120 s for each of three waits, plus teardown.
    hookTimeout: 420_000,
    teardownTimeout: 60_000,
  },
});
