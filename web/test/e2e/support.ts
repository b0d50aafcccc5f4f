import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { createTestContext, type TestContext } from '../../../server/test/support/context.ts';
import { expectAccessible, freePort, launchChromium, linkIn, mailTo, saveScreenshot } from '../../../server/test/support/browser.ts';

export { expectAccessible, linkIn, mailTo };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = path.join(root, 'test-artifacts', 'preferences');

export interface Stack {
  ctx: TestContext;
  origin: string;
  browser: Browser;
  close: () => Promise<void>;
}

/**
 * The real API (own database and Redis prefix) listening on localhost and serving the built preference
 * app, plus a headless Chromium. Links in emails point at this server, as they would in production.
 */
export async function startStack(overrides: Record<string, string> = {}): Promise<Stack> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const ctx = await createTestContext({ WEB_DIST_DIR: inject('webDist'), PUBLIC_API_URL: origin, PREFERENCES_APP_URL: `${origin}/preferences`, ...overrides });
  await ctx.app.listen({ host: '127.0.0.1', port });
  const browser = await launchChromium(inject('chromiumPath'));
  return {
    ctx,
    origin,
    browser,
    close: async () => {
      await browser.close();
      await ctx.close();
    },
  };
}

/** A plain web server for pages "on another website" (a signup form, an embedding page). */
export async function startSite(html: (origin: string) => string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html(origin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // "localhost" rather than 127.0.0.1, so the site is a different origin from the API.
  const origin = `http://localhost:${(server.address() as { port: number }).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export const screenshot = (page: Page, name: string): Promise<void> => saveScreenshot(artifacts, page, name);

/** Calls the API as the organization's admin. */
export async function adminCall(stack: Stack, key: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object) {
  const res = await stack.ctx.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json();
}
