import { defineConfig } from 'vitest/config';

// Suites start real worker threads, LMDB files and child processes; give them
// room, and run files in separate processes so native handles never leak across.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
