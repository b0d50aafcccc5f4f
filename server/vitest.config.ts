import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code and touch nothing outside the process. Integration tests drive the real
// app against real PostgreSQL and Redis; each test file gets its own database cloned from a migrated
// template and its own Redis key prefix, so files run in parallel without seeing each other.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
