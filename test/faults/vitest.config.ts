import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The fault suite (`npm run faults`): the built service under load while its key sources,
// files and clients misbehave. Kept out of `npm test` because it runs for about a minute of
// load on its own; every file bounds its traffic in count and time.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two services under load at once on a two-core machine would measure each other.
    fileParallelism: false,
  },
});
