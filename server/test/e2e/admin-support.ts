import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WEB_DIST = path.join(root, 'web', 'dist');
const artifacts = path.join(root, 'test-artifacts', 'admin');
export const CHROMIUM = '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/**
 * The built admin app: built when web/dist/admin is missing or older than its sources (so a test never
 * drives a stale build). Browser tests need Debian's Chromium; without it they fail and say how to
 * install it.
 */
export async function ensureAdminBuild(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`Browser tests need Chromium at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium`);
  const index = path.join(WEB_DIST, 'admin', 'index.html');
  const sources = Math.max(...['web/admin', 'web/src/admin', 'web/src/shared'].map((dir) => newest(path.join(root, dir))));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'error'], {
    cwd: path.join(root, 'web'), env: { ...process.env, NODE_ENV: 'production', WEB_APP: 'admin' },
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface AdminStack {
  ctx: TestContext;
  origin: string;
  browser: Browser;
  close: () => Promise<void>;
}

/** The real API on a local port serving the built admin app at /admin/, and a headless Chromium. */
export async function startAdminStack(): Promise<AdminStack> {
  await ensureAdminBuild();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const ctx = await createTestContext({
    WEB_DIST_DIR: WEB_DIST, PUBLIC_API_URL: origin, ADMIN_APP_URL: `${origin}/admin`, PREFERENCES_APP_URL: `${origin}/preferences`,
    // One browser makes every request from one address: the limits are not what this file tests.
    RATE_LIMIT_IP_PER_MINUTE: '100000', RATE_LIMIT_API_KEY_PER_MINUTE: '100000',
  });
  await ctx.app.listen({ host: '127.0.0.1', port });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return { ctx, origin, browser, close: async () => { await browser.close(); await ctx.close(); } };
}

/** Runs axe-core on the page and fails on any serious or critical WCAG 2.x A/AA violation. */
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

/** A full-page screenshot under test-artifacts/admin/, and the accessibility scan of the same state. */
export async function capture(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  await expectAccessible(page, name);
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

export function linkIn(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no link matching ${pattern} in: ${text}`);
  return match[0];
}
