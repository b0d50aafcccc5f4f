// @vitest-environment node
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const BUDGET_BYTES = 90 * 1024;
let out: string;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sf-prefs-build-'));
  await run(path.join(web, '..', 'node_modules', '.bin', 'vite'), ['build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: web,
    env: { ...process.env, NODE_ENV: 'production', WEB_APP: 'preferences' },
  });
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the preference app build', () => {
  it(`loads at most ${BUDGET_BYTES / 1024} KB of JavaScript (gzip) before it can run`, () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    const initial = [...html.matchAll(/<script[^>]+src="([^"]+)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => (m[1] ?? m[2])!);
    expect(initial.length).toBeGreaterThan(0);
    const bytes = initial.reduce((sum, src) => sum + gzipSync(readFileSync(path.join(out, src.replace(/^\/preferences\//, '')))).length, 0);
    console.info(`preference app initial JavaScript: ${(bytes / 1024).toFixed(1)} KB gzip`);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('ships a favicon and a Brotli and gzip copy of every script, smaller than the original', () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toMatch(/<link rel="icon" type="image\/svg\+xml" href="[^"]+\.svg"/);
    const scripts = readdirSync(path.join(out, 'assets')).filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of scripts) {
      const size = statSync(path.join(out, 'assets', name)).size;
      if (size < 1024) continue;
      for (const suffix of ['.br', '.gz']) expect(statSync(path.join(out, 'assets', name + suffix)).size, name + suffix).toBeLessThan(size);
    }
  });

  it("has no inline script (the page is served with script-src 'self') and is not indexable", () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).toContain('<meta name="robots" content="noindex, nofollow"');
  });
});

describe('the API types', () => {
  it("are the SDK's generated types, with no second copy in web/ (the SDK's generator has the drift check)", () => {
    expect(readdirSync(path.join(web, 'src/shared/api')).filter((name) => name.endsWith('.d.ts'))).toEqual([]);
    expect(readFileSync(path.join(web, 'src/shared/api/client.ts'), 'utf8')).toMatch(/^import type \{ paths \} from '@subscribe-flow\/sdk';$/m);
  });
});
