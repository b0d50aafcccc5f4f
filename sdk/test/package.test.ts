import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../server/test/support/context.ts';
import { startApi } from './support.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = path.resolve(here, '..');
const tsc = path.resolve(sdkDir, '../node_modules/typescript/bin/tsc');

/**
 * The oldest Node.js the package supports (engines: >=20.3): NODE20 names its binary, otherwise the first
 * `node` on PATH whose major version is 20 (the system one, when the project's Node 24 comes first).
 */
async function findNode20(): Promise<string | null> {
  const candidates = [process.env.NODE20, ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'node'))];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      if (!statSync(candidate).isFile()) continue;
      const { stdout } = await run(candidate, ['--version']);
      if (stdout.trim().startsWith('v20.')) return candidate;
    } catch {
      // not there, or not runnable
    }
  }
  return null;
}

let ctx: TestContext;
let api: { baseUrl: string; key: string };
let dir: string;
let packed: { files: { path: string }[]; filename: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sdk-package-'));
  // `npm pack` runs the package's prepack (the build) and writes the tarball a publish would upload.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: sdkDir, maxBuffer: 16 * 1024 * 1024 });
  packed = (JSON.parse(stdout) as (typeof packed)[])[0]!;
  // Installed as a dependency of a project of its own, outside this repository's workspaces.
  const target = path.join(dir, 'project/node_modules/@subscribe-flow');
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', path.join(dir, packed.filename), '-C', target]);
  await rename(path.join(target, 'package'), path.join(target, 'sdk'));
  await writeFile(path.join(dir, 'project/package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));

  const started = await startApi();
  ctx = started.ctx;
  api = { baseUrl: started.baseUrl, key: started.organization.key };
}, 120_000);
afterAll(async () => {
  await ctx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the published package', () => {
  it('holds the built ESM and declarations, the sources they map to, README and LICENSE, and nothing else', () => {
    const files = packed.files.map((f) => f.path).sort();
    for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/generated/schema.d.ts', 'src/index.ts']) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => !/^(dist|src)\//.test(f))).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files.filter((f) => /test|examples|scripts|tsconfig|vitest/.test(f))).toEqual([]);
  });

  it('type-checks a consumer project against its declarations', async () => {
    const project = path.join(dir, 'project');
    await copyFile(path.join(here, 'fixtures/consumer.ts'), path.join(project, 'consumer.ts'));
    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023', 'dom'], types: [] },
        files: ['consumer.ts'],
      }),
    );
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(result).toBe('');
  }, 60_000);

  it('works on Node.js 20 against the running API', async () => {
    const node20 = await findNode20();
    expect(node20, 'No Node.js 20 found: put one on PATH or name it in NODE20').not.toBeNull();
    const project = path.join(dir, 'project');
    await copyFile(path.join(here, 'fixtures/node20-check.mjs'), path.join(project, 'check.mjs'));
    const { stdout } = await run(node20!, ['check.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', SUBSCRIBE_FLOW_API_KEY: api.key, SUBSCRIBE_FLOW_URL: api.baseUrl },
    });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(seen).toMatchObject({
      created: 'node20@example.com',
      listed: ['node20-1@example.com', 'node20-2@example.com', 'node20-3@example.com', 'node20@example.com'],
      notFound: 'subscriber_not_found',
      upload: 'queued',
      exportedLines: 5,
      aborted: 'AbortError',
      forged: true,
    });
    expect(String(seen.node)).toMatch(/^20\./);
  }, 60_000);
});
