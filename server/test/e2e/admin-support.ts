import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { createTestContext, type TestContext } from '../support/context.ts';
import { CHROMIUM, expectAccessible, freePort, launchChromium, linkIn, mailTo, saveScreenshot } from '../support/browser.ts';

export { CHROMIUM, expectAccessible, linkIn, mailTo };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WEB_DIST = path.join(root, 'web', 'dist');
const artifacts = path.join(root, 'test-artifacts', 'admin');

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
    cwd: path.join(root, 'web'),
    env: { ...process.env, NODE_ENV: 'production', WEB_APP: 'admin' },
  });
}

export interface AdminStack {
  ctx: TestContext;
  origin: string;
  browser: Browser;
  close: () => Promise<void>;
}

/** The real API on a local port serving the built admin app at /admin/, and a headless Chromium. */
export async function startAdminStack(extraConfig: Record<string, string> = {}): Promise<AdminStack> {
  await ensureAdminBuild();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const ctx = await createTestContext({
    WEB_DIST_DIR: WEB_DIST,
    PUBLIC_API_URL: origin,
    ADMIN_APP_URL: `${origin}/admin`,
    PREFERENCES_APP_URL: `${origin}/preferences`,
    // One browser makes every request from one address: the limits are not what this file tests.
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    RATE_LIMIT_API_KEY_PER_MINUTE: '100000',
    ...extraConfig,
  });
  await ctx.app.listen({ host: '127.0.0.1', port });
  const browser = await launchChromium();
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

/** A full-page screenshot under test-artifacts/admin/, and the accessibility scan of the same state. */
export async function capture(page: Page, name: string): Promise<void> {
  await saveScreenshot(artifacts, page, name);
  await expectAccessible(page, name);
}
