import { defineConfig } from 'vitest/config';

// The SDK is tested against the real API: each file builds the server's app on a fresh database (the
// server's test support: a database cloned from the migrated template, its own Redis prefix) and has it
// listen on a port, so the SDK's real fetch goes over HTTP. Retries and timeouts are tested against small
// local HTTP servers that misbehave on purpose.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['../server/test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
