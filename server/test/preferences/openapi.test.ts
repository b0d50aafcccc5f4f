import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the committed OpenAPI document', () => {
  it('matches the routes (run `npm run openapi -w server` after changing a route schema)', async () => {
    const run = promisify(execFile)(process.execPath, ['scripts/export-openapi.ts', '--check'], { cwd: serverDir });
    await expect(run).resolves.toBeDefined();
  }, 60_000);
});
