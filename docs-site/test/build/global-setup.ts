import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DOCS_ROOT } from '../../scripts/generate.ts';
import { VARIANTS } from '../../site.ts';
import type { DocsVariant } from '../../site.ts';

/**
 * Builds the public and the internal site once per test run. It runs `astro build` directly rather than
 * `npm run build:*`, which would regenerate the reference pages first: the tests must see the pages as
 * committed, so that a stale generated page fails the "up to date" test instead of being silently fixed.
 *
 * DOCS_TEST_REUSE_BUILD=1 skips the builds when both output folders exist (handy while editing tests).
 */
const astroBin = join(dirname(createRequire(import.meta.url).resolve('astro/package.json')), 'bin', 'astro.mjs');

function build(variant: DocsVariant): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [astroBin, 'build', '--silent'], {
      cwd: DOCS_ROOT,
      env: { ...process.env, DOCS_VARIANT: variant, ASTRO_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`astro build (${variant}) failed with exit code ${code}:\n${output}`));
    });
  });
}

export default async function setup(): Promise<void> {
  const reuse = process.env.DOCS_TEST_REUSE_BUILD === '1' && VARIANTS.every((v) => existsSync(join(DOCS_ROOT, `dist-${v}`, 'index.html')));
  if (reuse) return;
  for (const variant of VARIANTS) {
    const ms = await build(variant);
    console.log(`docs-site: built ${variant} in ${(ms / 1000).toFixed(1)} s`);
  }
}
