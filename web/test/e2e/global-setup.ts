import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    webDist: string;
    chromiumPath: string;
  }
}

export const CHROMIUM = '/usr/bin/chromium';
const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Browser tests need Debian's Chromium and a production build of the preference app. A missing
 * Chromium fails the run with the command that installs it; it is never a silent skip.
 */
export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Browser tests need Chromium at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium`);
  }
  const dist = mkdtempSync(path.join(tmpdir(), 'sf-e2e-web-'));
  await promisify(execFile)(
    path.join(web, '..', 'node_modules', '.bin', 'vite'),
    ['build', '--outDir', path.join(dist, 'preferences'), '--emptyOutDir', '--logLevel', 'error'],
    {
      cwd: web,
      env: { ...process.env, NODE_ENV: 'production', WEB_APP: 'preferences' },
    },
  );
  project.provide('webDist', dist);
  project.provide('chromiumPath', CHROMIUM);
  return () => rmSync(dist, { recursive: true, force: true });
}
