import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const here = path.dirname(fileURLToPath(import.meta.url));

// Component tests render the apps in jsdom with a stand-in fetch. Browser tests (test/e2e) drive the
// built preference app in real Chromium against the real API, PostgreSQL and Redis; they never skip:
// without Chromium they fail and say how to install it.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@shared': path.join(here, 'src/shared') } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'components',
          environment: 'jsdom',
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: ['test/e2e/**'],
          setupFiles: ['test/support/setup.ts'],
          env: { VITE_API_URL: 'http://api.test' },
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['../server/test/support/global-setup.ts', 'test/e2e/global-setup.ts'],
          // One browser at a time: the machine is shared and Chromium is heavy.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
