import { defineConfig } from 'vitest/config';

// The MCP server runs as its own process over stdio, exactly as an MCP host starts it, against the real
// API listening on a port (the server's test support builds the app on a fresh database).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['../server/test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
