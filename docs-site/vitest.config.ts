import { defineConfig } from 'vitest/config';

// Two projects: `unit` is fast (generators only); `build` builds both sites once in a global setup and
// then inspects the output. `npm test -w docs-site` runs both; `npx vitest run --project unit` runs one.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'build',
          include: ['test/build/**/*.test.ts'],
          globalSetup: ['test/build/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
