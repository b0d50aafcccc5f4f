import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { repoPath, serviceEnvironment, type ComposeFile } from './helpers.ts';

// Running the server's entry points as plain processes with the environment compose.yaml gives their
// containers, pointed at local services: shared by the from-source and the from-build process tests.

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The service's compose environment with only the addresses changed: the database, Redis (and its key
 * prefix), loopback interfaces, free ports. Nothing else from this machine's environment leaks in, except
 * where to find programs.
 */
export async function localEnvironment(
  compose: ComposeFile,
  service: string,
  local: {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
    overrides?: Record<string, string>;
  },
): Promise<{ env: Record<string, string>; port: number | undefined; metricsPort: number | undefined }> {
  const env: Record<string, string> = { ...serviceEnvironment(compose.services[service] ?? {}) };
  if ('DATABASE_URL' in env) env.DATABASE_URL = local.databaseUrl;
  if ('REDIS_URL' in env) env.REDIS_URL = local.redisUrl;
  if ('REDIS_PREFIX' in env) env.REDIS_PREFIX = local.redisPrefix;
  if ('HOST' in env) env.HOST = '127.0.0.1';
  if ('METRICS_HOST' in env) env.METRICS_HOST = '127.0.0.1';
  if ('LOG_LEVEL' in env) env.LOG_LEVEL = 'warn';
  for (const [key, value] of Object.entries(local.overrides ?? {})) if (key in env) env[key] = value;
  const port = 'PORT' in env ? await freePort() : undefined;
  const metricsPort = 'METRICS_PORT' in env ? await freePort() : undefined;
  if (port !== undefined) env.PORT = String(port);
  if (metricsPort !== undefined) env.METRICS_PORT = String(metricsPort);
  return { env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin' }, port, metricsPort };
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node <entry>` from server/, keeping the tail of its output for failure messages. */
export function startProcess(label: string, entry: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [entry], { cwd: repoPath('server'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => `${label}: ${output.slice(-4000)}`, exited };
}

/** Polls `url` until it answers 2xx; fails early with the process output if the process exits first. */
export async function waitForOk(url: string, running: Running, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`exited with ${running.child.exitCode} before ${url} answered:\n${running.output()}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${running.output()}`);
}
