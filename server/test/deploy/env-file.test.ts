import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from './helpers.ts';

// Every root npm script starts through scripts/node24.sh, so that is where .env is read: a checkout with
// only a .env must behave the same for `npm start`, `npm run cli`, `npm run migrate` and the rest.
const checkout = mkdtempSync(path.join(tmpdir(), 'sf-env-'));
mkdirSync(path.join(checkout, 'scripts'));
copyFileSync(repoPath('scripts/node24.sh'), path.join(checkout, 'scripts/node24.sh'));
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

// The Node running the tests is a Node 24, so node24.sh installs nothing.
const baseEnv = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp' };

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync('bash', [path.join(checkout, 'scripts/node24.sh'), ...args], {
    cwd: checkout,
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('.env for every root script', () => {
  it("exports the checkout's .env to the command, quotes and all, with the environment winning", () => {
    writeFileSync(path.join(checkout, '.env'), 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/other_db\nQUOTED="it\'s $HOME; `x`"\nLOG_LEVEL=debug\n');
    const printed = run(['node', '-e', 'console.log(JSON.stringify([process.env.DATABASE_URL, process.env.QUOTED, process.env.LOG_LEVEL]))'], {
      LOG_LEVEL: 'warn',
    });
    expect(printed.status).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(['postgres://postgres@127.0.0.1:5432/other_db', "it's $HOME; `x`", 'warn']);
  });

  it('reaches commands run through npm too (npm run migrate, npm run cli)', () => {
    writeFileSync(path.join(checkout, '.env'), 'SF_CHECK=through-npm\n');
    writeFileSync(
      path.join(checkout, 'package.json'),
      JSON.stringify({ name: 'env-check', private: true, scripts: { show: 'node -e "console.log(process.env.SF_CHECK)"' } }),
    );
    const printed = run(['npm', 'run', '--silent', 'show'], { npm_config_cache: path.join(checkout, '.npm') });
    expect(printed.stdout.trim(), printed.stderr).toBe('through-npm');
  });
});

describe('configuration errors of the operator CLI', () => {
  it('print one message naming the variable, without a stack trace', () => {
    const result = spawnSync(process.execPath, [repoPath('server/src/cli.ts'), 'mailbox', '--to', 'someone@example.com'], {
      env: baseEnv,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('TOKEN_SECRET: is not set');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('must have required properties');
  });
});
