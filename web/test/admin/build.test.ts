// @vitest-environment node
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUDGET_BYTES = 250 * 1024;
let out: string;
let html: string;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sf-admin-build-'));
  await promisify(execFile)(path.join(web, '..', 'node_modules', '.bin', 'vite'), ['build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: web,
    env: { ...process.env, NODE_ENV: 'production', WEB_APP: 'admin' },
  });
  html = readFileSync(path.join(out, 'index.html'), 'utf8');
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The JavaScript the browser fetches before the app can run: entry scripts and module preloads. */
const initialScripts = () => [...html.matchAll(/<script[^>]+src="([^"]+)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => (m[1] ?? m[2])!);
const file = (src: string) => path.join(out, src.replace(/^\/admin\//, ''));

describe('the admin app build', () => {
  it(`loads at most ${BUDGET_BYTES / 1024} KB of JavaScript (gzip) before it can run`, () => {
    const initial = initialScripts();
    expect(initial.length).toBeGreaterThan(0);
    const bytes = initial.reduce((sum, src) => sum + gzipSync(readFileSync(file(src))).length, 0);
    console.info(`admin app initial JavaScript: ${(bytes / 1024).toFixed(1)} KB gzip in ${initial.length} file(s)`);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('leaves every page out of the first load (each route is its own chunk, loaded on navigation)', () => {
    const initial = new Set(initialScripts().map((src) => path.basename(src)));
    const chunks = readdirSync(path.join(out, 'assets')).filter((name) => name.endsWith('.js'));
    const pages = ['OverviewPage', 'SubscribersPage', 'SubscriberDetailPage', 'TagsPage', 'TemplateEditorPage', 'MailboxPage', 'ApiKeysPage', 'AuditLogPage'];
    for (const name of pages) {
      const chunk = chunks.find((c) => c.startsWith(`${name}-`));
      expect(chunk, name).toBeDefined();
      expect(initial.has(chunk!), name).toBe(false);
    }
  });

  it("has no inline script (so it runs under script-src 'self') and is not indexable", () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).toContain('<meta name="robots" content="noindex, nofollow"');
    expect(initialScripts().every((src) => src.startsWith('/admin/assets/'))).toBe(true);
  });
});
