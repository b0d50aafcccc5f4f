import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { asRecord, exists, isRecord, listFiles, loadCompose, packageScripts, readDockerfile, readText, readYaml, repoRoot, workspaceDir } from './helpers.ts';

// Static checks of .github/workflows: every workflow parses, and every script, npm script and path it
// names exists (or is produced by an earlier step of the same job).

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
}

interface Job {
  'runs-on'?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string> | string;
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  steps?: Step[];
  environment?: unknown;
}

interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

/**
 * npm scripts and files that workflows name but other workstreams have not created yet. They are reported
 * rather than faked; remove an entry once it exists.
 */
const PENDING = new Set<string>([]);

const workflowFiles = listFiles('.github/workflows', '.yml');
const workflows = new Map(workflowFiles.map((file) => [file, readYaml(`.github/workflows/${file}`) as Workflow]));
const workflow = (file: string): Workflow => {
  const found = workflows.get(file);
  if (!found) throw new Error(`no workflow ${file}`);
  return found;
};
const allJobs = () => [...workflows.entries()].flatMap(([file, w]) => Object.entries(w.jobs).map(([id, job]) => ({ file, id, job })));
const allSteps = () => allJobs().flatMap(({ file, id, job }) => (job.steps ?? []).map((step, index) => ({ file, job: id, index, step })));

interface NpmCall {
  command: string;
  script: string;
  workspace: string | undefined;
}

/** `npm run x`, `npm run x -w ws`, `npm test` and friends in a run script. */
function npmCalls(run: string): NpmCall[] {
  const calls: NpmCall[] = [];
  for (const line of run.split('\n')) {
    for (const match of line.matchAll(/\bnpm\s+(run-script|run|test|t)\b([^;&|]*)/g)) {
      const rest = (match[2] ?? '').trim().split(/\s+/).filter(Boolean);
      const script = match[1] === 'test' || match[1] === 't' ? 'test' : (rest.find((token) => !token.startsWith('-')) ?? '');
      const flagIndex = rest.findIndex((token) => token === '-w' || token === '--workspace' || token.startsWith('--workspace='));
      let workspace: string | undefined;
      if (flagIndex >= 0) {
        const flag = rest[flagIndex] ?? '';
        workspace = flag.startsWith('--workspace=') ? flag.slice('--workspace='.length) : rest[flagIndex + 1];
      }
      const command = `npm run ${script}${workspace ? ` -w ${workspace}` : ''}`;
      calls.push({ command: match[1] === 'test' || match[1] === 't' ? `npm test${workspace ? ` -w ${workspace}` : ''}` : command, script, workspace });
    }
  }
  return calls;
}

function ignoredByGit(relativePath: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '--quiet', '--no-index', `${relativePath}/index.html`], { cwd: repoRoot });
    return true;
  } catch {
    return false;
  }
}

describe('.github/workflows', () => {
  it('has the CI, images, Pages, internal docs and deploy workflows, each parsing to jobs', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['ci.yml', 'deploy.yml', 'docs-internal.yml', 'images.yml', 'pages.yml']));
    for (const [file, w] of workflows) {
      expect(w.name, file).toBeTruthy();
      expect(isRecord(w.on), `${file} triggers`).toBe(true);
      expect(Object.keys(w.jobs ?? {}).length, file).toBeGreaterThan(0);
      for (const [id, job] of Object.entries(w.jobs)) expect(job['runs-on'], `${file} ${id}`).toMatch(/^ubuntu-\d+\.\d+$/);
    }
  });

  it('declares permissions in every workflow and never grants write-all or contents: write', () => {
    for (const [file, w] of workflows) {
      expect(w.permissions, `${file} has no top-level permissions`).toBeDefined();
      const blocks = [w.permissions, ...Object.values(w.jobs).map((j) => j.permissions)].filter((p) => p !== undefined);
      for (const block of blocks) {
        expect(block, file).not.toBe('write-all');
        if (isRecord(block)) expect(block.contents ?? 'read', file).toBe('read');
      }
    }
  });

  it('pins every action to a major version or a commit', () => {
    for (const { file, job, step } of allSteps()) {
      if (step.uses === undefined) continue;
      expect(step.uses, `${file} ${job}`).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    }
  });

  it('runs only npm scripts that exist (or are listed as pending)', () => {
    const missing = new Set<string>();
    const runs = allSteps().map(({ step }) => step.run ?? '');
    for (const call of runs.flatMap(npmCalls)) {
      const dir = call.workspace === undefined ? '.' : workspaceDir(call.workspace);
      expect(dir, `${call.command}: unknown workspace`).toBeDefined();
      const scripts = packageScripts(dir ?? '.');
      if (scripts[call.script] === undefined) {
        missing.add(call.command);
        continue;
      }
      // Root scripts delegate to shell scripts; those must exist too.
      if (dir === '.') {
        for (const file of scripts[call.script]?.match(/scripts\/[\w.-]+\.sh/g) ?? []) {
          if (!exists(file)) missing.add(`${file} (used by the root npm script "${call.script}")`);
        }
      }
    }
    const unexpected = [...missing].filter((item) => !PENDING.has(item));
    expect(unexpected, 'workflows name npm scripts or files that nobody is creating').toEqual([]);
  });

  it('names only repository files that exist', () => {
    const pattern = /(?:^|[\s"'=])((?:scripts|cloudflared|dokploy)\/[\w./-]+\.\w+|compose(?:\.dev)?\.yaml|\.env\.example|Dockerfile|\.nvmrc)(?=$|[\s"'<>;])/g;
    for (const { file, job, step } of allSteps()) {
      const texts = [step.run ?? '', ...Object.values(step.with ?? {}).map(String)];
      for (const text of texts) {
        for (const match of text.matchAll(pattern)) {
          const path = match[1] ?? '';
          expect(exists(path), `${file} ${job}: ${path}`).toBe(true);
        }
      }
    }
  });

  it('deploys only build output that an earlier step of the same job builds, from git-ignored folders', () => {
    const outputs: { file: string; job: string; dir: string; builtBefore: string[] }[] = [];
    for (const { file, id, job } of allJobs()) {
      const steps = job.steps ?? [];
      steps.forEach((step, index) => {
        const command = String(step.with?.command ?? '');
        const pagesDir = /pages deploy (\S+)/.exec(command)?.[1];
        const artifactDir = step.uses?.startsWith('actions/upload-pages-artifact@') ? String(step.with?.path ?? '') : undefined;
        const dir = pagesDir ?? artifactDir;
        if (!dir) return;
        const builtBefore = steps.slice(0, index).flatMap((s) => npmCalls(s.run ?? '')).map((c) => c.command);
        outputs.push({ file, job: id, dir, builtBefore });
      });
    }
    const byDir = new Map(outputs.map((o) => [o.dir, o]));
    expect([...byDir.keys()].sort()).toEqual(['docs-site/dist-internal', 'docs-site/dist-public', 'web/dist/admin', 'web/dist/preferences']);
    const producers: Record<string, string> = {
      'web/dist/admin': 'npm run build -w web',
      'web/dist/preferences': 'npm run build -w web',
      'docs-site/dist-public': 'npm run build:public -w docs-site',
      'docs-site/dist-internal': 'npm run build:internal -w docs-site',
    };
    for (const output of outputs) {
      expect(output.builtBefore, `${output.file} ${output.job} deploys ${output.dir}`).toContain(producers[output.dir]);
      expect(exists(output.dir.split('/')[0] ?? ''), output.dir).toBe(true);
      expect(ignoredByGit(output.dir), `${output.dir} is build output and must be git-ignored`).toBe(true);
    }
  });

  it('passes credentials only as secrets, never written into a workflow', () => {
    for (const { file, job, step } of allSteps()) {
      for (const [input, value] of Object.entries(step.with ?? {})) {
        if (/token|password|secret|key|accountid/i.test(input) && !/^(cache-dependency-path|key)$/.test(input)) {
          expect(String(value), `${file} ${job} ${input}`).toMatch(/^\$\{\{\s*secrets\.[A-Z_]+\s*\}\}$/);
        }
      }
    }
    for (const file of workflowFiles) {
      const text = readText(`.github/workflows/${file}`);
      expect(text, file).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}|sk_(live|test)_[A-Za-z0-9]+|whsec_[A-Za-z0-9]+|ghp_[A-Za-z0-9]{20,}|re_[A-Za-z0-9]{20,}/);
    }
  });

  it('passes event data to run scripts through env, never by ${{ }} inside the script', () => {
    for (const { file, job, step } of allSteps()) {
      if (step.run === undefined) continue;
      expect(step.run, `${file} ${job} ${step.name ?? ''}`).not.toMatch(/\$\{\{/);
    }
  });
});

describe('ci.yml', () => {
  const ci = workflow('ci.yml');
  const test = ci.jobs.test;
  const runs = (test?.steps ?? []).map((s) => s.run ?? '').join('\n');

  it('runs on pushes to main and on pull requests', () => {
    expect(ci.on).toHaveProperty('pull_request');
    expect(asRecord(ci.on.push, 'push').branches).toEqual(['main']);
  });

  it('tests against PostgreSQL of the production major version and Redis', () => {
    const postgres = test?.services?.postgres?.image ?? '';
    const productionMajor = /^postgres:(\d+)/.exec(loadCompose().services.postgres?.image ?? '')?.[1];
    expect(postgres).toMatch(new RegExp(`^postgres:${productionMajor}[.-]`));
    expect(test?.services?.redis?.image).toMatch(/^redis:\d/);
  });

  it('uses Node from .nvmrc and runs install, lint, typecheck, tests and every build', () => {
    // The last Node set up is the one the steps after it run on; an earlier Node 20 is only for the SDK's check that it runs there.
    const setupNodes = (test?.steps ?? []).filter((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(setupNodes.at(-1)?.with?.['node-version-file']).toBe('.nvmrc');
    const commands = (test?.steps ?? []).flatMap((s) => (s.run ?? '').split('\n').map((line) => line.trim()));
    const order = ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test', 'npm run build -w server'];
    const positions = order.map((command) => commands.indexOf(command));
    for (const [index, position] of positions.entries()) expect(position, order[index]).toBeGreaterThanOrEqual(0);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(runs).toContain('npm run build -w web');
    expect(runs).toContain('npm run build:public -w docs-site');
    expect(runs).toContain('npm run build:internal -w docs-site');
  });

  it('installs Chromium for the browser tests and the PostgreSQL client for the backup test', () => {
    expect(runs).toContain('sudo apt-get install -y --no-install-recommends chromium');
    expect(runs).toContain('postgresql-client');
  });

  it('validates the compose files and lints the shell scripts', () => {
    const deployFiles = (ci.jobs['deploy-files']?.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(deployFiles).toContain('docker compose -f compose.yaml config --quiet');
    expect(deployFiles).toContain('docker compose -f compose.yaml -f compose.dev.yaml config --quiet');
    expect(deployFiles).toContain('shellcheck --shell=sh scripts/backup.sh scripts/restore.sh');
  });
});

describe('images.yml', () => {
  const images = workflow('images.yml');
  const job = images.jobs.image;

  it('builds every Dockerfile target that compose uses and pushes it to ghcr.io outside pull requests', () => {
    const targets = ((job as unknown as { strategy: { matrix: { include: { target: string }[] } } }).strategy.matrix.include ?? []).map((i) => i.target);
    const composeTargets = Object.values(loadCompose().services).flatMap((s) => (typeof s.build === 'object' && s.build.target ? [s.build.target] : []));
    expect(new Set(targets)).toEqual(new Set(composeTargets));
    const stages = readDockerfile().stages.map((s) => s.name);
    for (const target of targets) expect(stages).toContain(target);
    const build = job?.steps?.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with?.push).toBe("${{ github.event_name != 'pull_request' }}");
    const meta = job?.steps?.find((s) => s.uses?.startsWith('docker/metadata-action@'));
    expect(String(meta?.with?.images)).toMatch(/^ghcr\.io\//);
    expect(String(meta?.with?.flavor)).toContain('latest=false');
    expect(job?.permissions).toMatchObject({ packages: 'write' });
  });
});

describe('pages.yml', () => {
  const pages = workflow('pages.yml');
  const wranglerSteps = Object.values(pages.jobs).flatMap((j) => (j.steps ?? []).filter((s) => s.uses?.startsWith('cloudflare/wrangler-action@')));

  it('deploys the admin app, the preference center and the public docs with wrangler-action v4', () => {
    expect(wranglerSteps.length).toBe(3);
    const dirs = wranglerSteps.map((s) => /pages deploy (\S+)/.exec(String(s.with?.command))?.[1]).sort();
    expect(dirs).toEqual(['docs-site/dist-public', 'web/dist/admin', 'web/dist/preferences']);
    for (const step of wranglerSteps) {
      expect(step.uses).toBe('cloudflare/wrangler-action@v4');
      expect(step.with?.apiToken).toBe('${{ secrets.CLOUDFLARE_API_TOKEN }}');
      expect(step.with?.accountId).toBe('${{ secrets.CLOUDFLARE_ACCOUNT_ID }}');
    }
  });

  it('makes preview deployments on pull requests and production ones from main', () => {
    expect(pages.on).toHaveProperty('pull_request');
    expect(asRecord(pages.on.push, 'push').branches).toEqual(['main']);
    expect(readText('.github/workflows/pages.yml')).toContain('BRANCH: ${{ github.head_ref || github.ref_name }}');
    for (const step of wranglerSteps) {
      expect(String(step.with?.command)).toContain('--branch=${{ env.BRANCH }}');
      expect(step.if, 'fork pull requests have no secrets and must not try to deploy').toBe("env.CAN_DEPLOY == 'true'");
    }
    expect(pages.permissions).toMatchObject({ deployments: 'write' });
  });
});

describe('docs-internal.yml', () => {
  const docs = workflow('docs-internal.yml');

  it('publishes the internal docs build to GitHub Pages', () => {
    const steps = Object.values(docs.jobs).flatMap((j) => j.steps ?? []);
    expect(steps.some((s) => s.uses?.startsWith('actions/deploy-pages@'))).toBe(true);
    expect(steps.find((s) => s.uses?.startsWith('actions/upload-pages-artifact@'))?.with?.path).toBe('docs-site/dist-internal');
    expect(docs.jobs.deploy?.permissions).toMatchObject({ pages: 'write', 'id-token': 'write' });
  });
});

describe('deploy.yml', () => {
  const deploy = workflow('deploy.yml');
  const job = deploy.jobs.dokploy;

  it('deploys only after CI has passed on a push to main', () => {
    const trigger = asRecord(deploy.on.workflow_run, 'workflow_run');
    expect(trigger.workflows).toEqual([workflow('ci.yml').name]);
    expect(trigger.types).toEqual(['completed']);
    expect(trigger.branches).toEqual(['main']);
    expect(job?.if).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(job?.if).toContain("github.event.workflow_run.event == 'push'");
  });

  it('calls the Dokploy webhook from the DOKPLOY_DEPLOY_URL secret and fails unless Dokploy accepted it', () => {
    const step = job?.steps?.[0];
    expect(step?.env?.DOKPLOY_DEPLOY_URL).toBe('${{ secrets.DOKPLOY_DEPLOY_URL }}');
    expect(step?.run).toContain('"$DOKPLOY_DEPLOY_URL"');
    expect(step?.run).toContain("X-GitHub-Event: push");
    expect(step?.run).toContain('if [ "$status" != "200" ]');
  });
});
