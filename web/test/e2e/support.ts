import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { createTestContext, type TestContext } from '../../../server/test/support/context.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = path.join(root, 'test-artifacts', 'preferences');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Stack {
  ctx: TestContext;
  origin: string;
  browser: Browser;
  close: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createNetServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
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
  const browser = await chromium.launch({
    executablePath: inject('chromiumPath'),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return { ctx, origin, browser, close: async () => { await browser.close(); await ctx.close(); } };
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

/** Runs axe-core on the page and fails on any serious or critical WCAG 2.2 A/AA violation. */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(blocking, `${label}: ${JSON.stringify(blocking, null, 2)}`).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** The newest message to an address in the dev mailbox, waiting for mail that leaves after a response. */
export async function mailTo(ctx: TestContext, to: string, since: Date, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await ctx.container.devMailbox.latestTo(to);
    if (message && new Date(message.created_at) >= since) return message;
    if (Date.now() > deadline) throw new Error(`no email to ${to} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const linkIn = (text: string, pattern: RegExp): string => {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no link matching ${pattern} in: ${text}`);
  return match[0];
};

/** Calls the API as the organization's admin. */
export async function adminCall(stack: Stack, key: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  const res = await stack.ctx.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json();
}
