import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The container image checks: run by scripts/image/test.sh after it has built the image (TOKENWARDEN_IMAGE).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/image/**/*.image.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
