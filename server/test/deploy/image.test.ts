import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asRecord, exists, loadCompose, readDockerfile, readEnvExample, readText, readYaml, repoPath, serviceEnvironment } from './helpers.ts';

// Static checks of the Dockerfile, .dockerignore, .env.example and the tunnel ingress. Docker cannot run
// here; CI's images workflow builds the image for real.

const dockerfile = readDockerfile();
const stage = (name: string) => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage ${name}`);
  return found;
};
const instructions = (name: string, keyword: string) =>
  stage(name)
    .instructions.filter((i) => i.keyword === keyword)
    .map((i) => i.args);

describe('Dockerfile', () => {
  it('builds on the exact Node 24 release that .nvmrc and scripts/node24.sh name', () => {
    const nvmrc = readText('.nvmrc').trim();
    const pinned = /NODE_VERSION=(\d+\.\d+\.\d+)/.exec(readText('scripts/node24.sh'))?.[1];
    const image = dockerfile.args.NODE_IMAGE ?? '';
    expect(image).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim$/);
    expect(image.split(':')[1]?.split('.')[0]).toBe(nvmrc);
    if (pinned) expect(image).toContain(`node:${pinned}-`);
    for (const name of ['build', 'deps', 'runtime']) expect(stage(name).from, name).toBe(image);
  });

  it('makes the server image the default (last) target, starting the api', () => {
    const last = dockerfile.stages.at(-1);
    expect(last?.name).toBe('runtime');
    expect(instructions('runtime', 'CMD')).toEqual(['["node", "--max-semi-space-size=8", "--max-old-space-size=192", "server/dist/entrypoints/api.js"]']);
  });

  it('installs only production dependencies of the server workspace into the runtime image', () => {
    const install = instructions('deps', 'RUN').join(' ');
    expect(install).toMatch(/npm ci --omit=dev -w server --include-workspace-root=false/);
    const copies = instructions('runtime', 'COPY');
    const fromStages = copies.map((c) => /--from=(\S+)/.exec(c)?.[1]).filter(Boolean);
    expect(new Set(fromStages)).toEqual(new Set(['deps', 'build']));
    expect(copies.filter((c) => c.includes('--from=build'))).toEqual(['--from=build /app/server/dist server/dist']);
    expect(copies.some((c) => /node_modules/.test(c) && c.includes('--from=build'))).toBe(false);
  });

  it('compiles with npm run build -w server, a script the server workspace has', () => {
    expect(instructions('build', 'RUN')).toContain('npm run build -w server');
    const scripts = (JSON.parse(readText('server/package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toBeTruthy();
  });

  it('runs as a non-root user', () => {
    expect(instructions('runtime', 'USER')).toEqual(['node']);
    expect(instructions('backup', 'USER')).toEqual(['postgres']);
  });

  it('has healthchecks that need no curl', () => {
    for (const name of ['runtime', 'backup']) {
      const check = instructions(name, 'HEALTHCHECK').join(' ');
      expect(check, name).toContain('CMD');
      expect(check, name).not.toMatch(/\b(curl|wget)\b/);
    }
    expect(instructions('runtime', 'HEALTHCHECK').join(' ')).toContain('fetch(');
  });

  it('bakes the backup and restore scripts into the backup image', () => {
    const copies = instructions('backup', 'COPY');
    expect(copies).toContain('--chmod=0755 scripts/backup.sh /usr/local/bin/backup.sh');
    expect(copies).toContain('--chmod=0755 scripts/restore.sh /usr/local/bin/restore.sh');
    expect(instructions('backup', 'ENTRYPOINT')).toEqual(['["/usr/local/bin/backup.sh"]']);
  });

  it('copies only files that exist in the repository', () => {
    for (const s of dockerfile.stages) {
      for (const copy of s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const source of parts.slice(0, -1)) expect(exists(source), `${s.name}: COPY ${source}`).toBe(true);
      }
    }
  });

  it('ships everything the server needs at run time: tsc copies only TypeScript into server/dist', () => {
    const assets = readdirSync(repoPath('server/src'), { recursive: true, withFileTypes: true })
      // Module READMEs are documentation, not run-time files.
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.ts') && !entry.name.endsWith('.md'))
      .map((entry) => entry.name);
    // A template, locale or SQL file under server/src would be missing from the image; copy it in the
    // Dockerfile's runtime stage (and allow it in .dockerignore) before adding it to this list.
    const copiedByDockerfile: string[] = [];
    expect(assets.filter((name) => !copiedByDockerfile.includes(name))).toEqual([]);
  });

  it('has an entry point source file for each command compose runs', () => {
    const compose = loadCompose();
    const missing: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      const command = Array.isArray(service.command) ? service.command : [];
      const entry = command.find((part) => part.startsWith('server/dist/'));
      if (!entry) continue;
      const source = entry.replace('server/dist/', 'server/src/').replace(/\.js$/, '.ts');
      if (!exists(source)) missing.push(`${name}: ${source}`);
    }
    // Entry points still being written are reported, not faked; the list must shrink to nothing.
    const pending = ['worker: server/src/entrypoints/worker.ts', 'cron: server/src/entrypoints/cron.ts'];
    for (const item of missing) expect(pending, `missing entry point ${item}`).toContain(item);
  });
});

describe('.dockerignore', () => {
  const rules = readText('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  /** Docker's glob syntax: `**` spans folders, `*` and `?` stay within one. */
  function toRegExp(pattern: string): RegExp {
    let body = '';
    const glob = pattern.replace(/\/$/, '');
    for (let i = 0; i < glob.length; i += 1) {
      const char = glob[i] ?? '';
      if (glob.startsWith('**/', i)) {
        body += '(?:.*/)?';
        i += 2;
      } else if (glob.startsWith('**', i)) {
        body += '.*';
        i += 1;
      } else if (char === '*') body += '[^/]*';
      else if (char === '?') body += '[^/]';
      else body += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${body}$`);
  }

  /** Docker's rule: the last matching line wins; a pattern that matches a folder matches what is in it. */
  function ignored(file: string): boolean {
    const prefixes = file.split('/').map((_part, index, parts) => parts.slice(0, index + 1).join('/'));
    let result = false;
    for (const rule of rules) {
      const negated = rule.startsWith('!');
      const regexp = toRegExp(negated ? rule.slice(1) : rule);
      if (prefixes.some((prefix) => regexp.test(prefix))) result = !negated;
    }
    return result;
  }

  it('starts from "exclude everything"', () => {
    expect(rules[0]).toBe('*');
  });

  it('keeps secrets, git history, local installs and build output out of the context', () => {
    for (const file of [
      '.env',
      'server/.env',
      '.git/config',
      'node_modules/x/index.js',
      'server/node_modules/x/index.js',
      'server/dist/app.js',
      '.tools/node/bin/node',
      'web/src/main.tsx',
      'server/src/app.test.ts',
    ]) {
      expect(ignored(file), file).toBe(true);
    }
  });

  it('lets in every file the Dockerfile copies', () => {
    for (const file of [
      'package.json',
      'package-lock.json',
      'tsconfig.base.json',
      'server/package.json',
      'server/tsconfig.build.json',
      'server/src/app.ts',
      'web/package.json',
      'docs-site/package.json',
      'scripts/backup.sh',
      'scripts/restore.sh',
    ]) {
      expect(ignored(file), file).toBe(false);
    }
  });
});

describe('.env.example', () => {
  const entries = readEnvExample();
  const names = entries.map((e) => e.name);

  it('documents each variable with a one-line comment right above it', () => {
    for (const entry of entries) expect(entry.comment, `${entry.name} (line ${entry.line}) has no comment`).toBeTruthy();
  });

  it('lists each variable once, grouped under headings', () => {
    expect(new Set(names).size).toBe(names.length);
    expect(readText('.env.example').match(/^# ---- .+ -+$/gm)?.length).toBeGreaterThanOrEqual(8);
  });

  it('documents every variable of the deployment contract', () => {
    const contract = [
      'DATABASE_URL',
      'DATABASE_POOL_MAX',
      'REDIS_URL',
      'REDIS_PREFIX',
      'HOST',
      'PORT',
      'LOG_LEVEL',
      'PUBLIC_API_URL',
      'ADMIN_APP_URL',
      'PREFERENCES_APP_URL',
      'CORS_ORIGINS',
      'TRUST_PROXY',
      'TRUST_CF_CONNECTING_IP',
      'TOKEN_SECRET',
      'BODY_LIMIT_BYTES',
      'RATE_LIMIT_API_KEY_PER_MINUTE',
      'RATE_LIMIT_IP_PER_MINUTE',
      'IDEMPOTENCY_TTL_SECONDS',
      'METRICS_HOST',
      'METRICS_PORT',
      'SENTRY_DSN',
      'EMAIL_PROVIDER',
      'RESEND_API_KEY',
      'RESEND_BASE_URL',
      'RESEND_WEBHOOK_SECRET',
      'SMTP_URL',
      'EMAIL_DEFAULT_FROM',
      'PROVIDER_RATE_LIMIT_PER_SECOND',
      'TUNNEL_TOKEN',
      'POSTGRES_PASSWORD',
    ];
    for (const name of contract) expect(names, name).toContain(name);
  });

  it('documents every variable the server configuration schema reads', () => {
    const schemaFile = 'server/src/config/schema.ts';
    if (!exists(schemaFile)) return;
    const keys = [...readText(schemaFile).matchAll(/^\s*([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)\s*:/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(0);
    const missing = keys.filter((key) => !names.includes(key ?? ''));
    expect(missing, 'read by the server but missing from .env.example (and maybe from compose.yaml)').toEqual([]);
  });

  it('ships no secret values', () => {
    const secrets = [
      'POSTGRES_PASSWORD',
      'TOKEN_SECRET',
      'TUNNEL_TOKEN',
      'RESEND_API_KEY',
      'RESEND_WEBHOOK_SECRET',
      'BOUNCE_WEBHOOK_SECRET',
      'SMTP_URL',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'SENTRY_DSN',
    ];
    for (const entry of entries.filter((e) => secrets.includes(e.name))) expect(entry.value, entry.name).toBe('');
    expect(readText('.gitignore').split('\n'), 'a filled-in .env must never be committed').toContain('.env');
  });
});

describe('cloudflared/config.yml', () => {
  const config = asRecord(readYaml('cloudflared/config.yml'), 'cloudflared/config.yml');
  const ingress = config.ingress as { hostname?: string; path?: string; service: string }[];

  it('routes the api hostname to the api service on the port compose gives it', () => {
    const apiPort = serviceEnvironment(loadCompose().services.api ?? {}).PORT;
    const rule = ingress.find((r) => r.hostname !== undefined && r.path === undefined);
    expect(rule?.service).toBe(`http://api:${apiPort}`);
  });

  it('refuses /metrics before the api rule', () => {
    const metrics = ingress.findIndex((r) => r.path === '^/metrics' && r.service === 'http_status:404');
    const api = ingress.findIndex((r) => r.service.startsWith('http://api:'));
    expect(metrics).toBeGreaterThanOrEqual(0);
    expect(metrics).toBeLessThan(api);
  });

  it('ends with the catch-all 404 that cloudflared requires', () => {
    expect(ingress.at(-1)).toEqual({ service: 'http_status:404' });
    for (const rule of ingress.slice(0, -1)) expect(rule.hostname, 'only the last rule may match every hostname').toBeTruthy();
  });
});
