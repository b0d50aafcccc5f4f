import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root (this file is server/test/deploy/helpers.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts);
}

export function readText(relativePath: string): string {
  return readFileSync(repoPath(relativePath), 'utf8');
}

export function exists(relativePath: string): boolean {
  return existsSync(repoPath(relativePath));
}

/** Parses YAML the way Compose does, including `<<` merge keys. */
export function readYaml(relativePath: string): unknown {
  return parse(readText(relativePath), { merge: true });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what} is not a mapping`);
  return value;
}

export function listFiles(relativeDir: string, extension: string): string[] {
  if (!exists(relativeDir)) return [];
  return readdirSync(repoPath(relativeDir))
    .filter((name) => name.endsWith(extension))
    .sort();
}

// ---- .env.example ----------------------------------------------------------------------------------

export interface EnvExampleEntry {
  name: string;
  value: string;
  /** The comment line right above the variable. */
  comment: string | undefined;
  /** false for `# NAME=value` lines: documented, but set by compose.yaml rather than by the operator. */
  active: boolean;
  line: number;
}

const envLine = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/;

export function readEnvExample(): EnvExampleEntry[] {
  const lines = readText('.env.example').split('\n');
  const entries: EnvExampleEntry[] = [];
  lines.forEach((line, index) => {
    const match = envLine.exec(line);
    if (!match) return;
    const previous = index > 0 ? lines[index - 1] : undefined;
    const comment = previous !== undefined && previous.startsWith('#') && !envLine.test(previous) ? previous.replace(/^#\s*/, '') : undefined;
    entries.push({ name: match[2] ?? '', value: unquote(match[3] ?? ''), comment, active: match[1] === undefined, line: index + 1 });
  });
  return entries;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && (trimmed.startsWith('"') || trimmed.startsWith("'")) && trimmed.endsWith(trimmed[0] ?? '')) {
    return trimmed.slice(1, -1);
  }
  return trimmed;
}

/** The values Compose would read from a .env copied from .env.example (active lines only). */
export function envExampleValues(): Record<string, string> {
  return Object.fromEntries(
    readEnvExample()
      .filter((e) => e.active)
      .map((e) => [e.name, e.value]),
  );
}

// ---- Compose interpolation ------------------------------------------------------------------------

export interface Reference {
  name: string;
  operator: '' | ':-' | '-' | ':?' | '?' | ':+' | '+';
  argument: string;
}

const reference = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Every `${NAME...}` reference in a string (`$$` is an escaped dollar, not a reference). */
export function references(text: string): Reference[] {
  const found: Reference[] = [];
  for (const match of text.replaceAll('$$', '').matchAll(reference)) {
    found.push({ name: match[1] ?? match[4] ?? '', operator: (match[2] ?? '') as Reference['operator'], argument: match[3] ?? '' });
  }
  return found;
}

export class InterpolationError extends Error {}

/** Compose's variable substitution (the subset of the spec this project uses, without nesting). */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  const escaped = '\u0000';
  const result = text
    .replaceAll('$$', escaped)
    .replace(reference, (_whole, braced: string | undefined, operator: string | undefined, argument: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = env[name];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      switch (operator) {
        case ':-':
          return nonEmpty ? value : (argument ?? '');
        case '-':
          return set ? value : (argument ?? '');
        case ':?':
          if (!nonEmpty) throw new InterpolationError(`${name}: ${argument ?? 'required'}`);
          return value;
        case '?':
          if (!set) throw new InterpolationError(`${name}: ${argument ?? 'required'}`);
          return value;
        case ':+':
          return nonEmpty ? (argument ?? '') : '';
        case '+':
          return set ? (argument ?? '') : '';
        default:
          return value ?? '';
      }
    });
  return result.replaceAll(escaped, '$');
}

/** Applies `interpolate` to every string in a parsed YAML document. */
export function interpolateDeep(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, env));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateDeep(item, env)]));
  return value;
}

/** Every string in a parsed YAML document, for reference scanning. */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isRecord(value)) return Object.values(value).flatMap(allStrings);
  return [];
}

/**
 * Placeholder values for the variables .env.example leaves empty because they are secrets; with them the
 * stack's required variables are all set.
 */
export const placeholderSecrets: Record<string, string> = {
  POSTGRES_PASSWORD: '0123456789abcdef0123456789abcdef',
  TOKEN_SECRET: 'test-token-secret-0123456789abcdef0123456789',
  TUNNEL_TOKEN: 'test-tunnel-token',
};

// ---- compose.yaml ----------------------------------------------------------------------------------

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; target?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  env_file?: unknown;
  networks?: string[] | Record<string, unknown>;
  ports?: unknown[];
  expose?: unknown[];
  volumes?: unknown[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: { test?: string | string[]; disable?: boolean; interval?: string; timeout?: string; retries?: number; start_period?: string };
  restart?: string;
  stop_grace_period?: string;
  container_name?: string;
  network_mode?: string;
  privileged?: boolean;
  profiles?: string[];
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean } | null>;
  volumes?: Record<string, unknown>;
}

/** compose.yaml with variables resolved from .env.example (plus placeholders for the empty secrets). */
export function loadCompose(
  relativePath = 'compose.yaml',
  env: Record<string, string | undefined> = { ...envExampleValues(), ...placeholderSecrets },
): ComposeFile {
  const resolved = interpolateDeep(readYaml(relativePath), env);
  const file = asRecord(resolved, relativePath);
  asRecord(file.services, `${relativePath} services`);
  return file as unknown as ComposeFile;
}

export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const environment = service.environment;
  if (environment === undefined) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((item) => {
        const [key, ...rest] = String(item).split('=');
        return [key ?? '', rest.join('=')];
      }),
    );
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null || value === undefined ? '' : String(value)]));
}

export function serviceNetworks(service: ComposeService): string[] {
  const networks = service.networks;
  if (networks === undefined) return ['default'];
  return Array.isArray(networks) ? networks.map(String) : Object.keys(networks);
}

export function commandOf(service: ComposeService): string[] {
  const command = service.command;
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : command.split(/\s+/).filter(Boolean);
}

export function healthcheckCommand(service: ComposeService): string {
  const test = service.healthcheck?.test;
  if (test === undefined) return '';
  return Array.isArray(test) ? test.join(' ') : test;
}

// ---- Dockerfile ------------------------------------------------------------------------------------

export interface DockerStage {
  name: string | undefined;
  from: string;
  instructions: { keyword: string; args: string }[];
}

/** Splits the Dockerfile into stages, with continuation lines joined and comments dropped. */
export function readDockerfile(): { args: Record<string, string>; stages: DockerStage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of readText('Dockerfile').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const argsText = rest.join(' ');
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value] = argsText.split('=');
      if (name) args[name] = value ?? '';
      continue;
    }
    if (upper === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argsText);
      const from = (match?.[1] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => args[a ?? b ?? ''] ?? '');
      stages.push({ name: match?.[2], from, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push({ keyword: upper, args: argsText });
  }
  return { args, stages };
}

// ---- package.json ----------------------------------------------------------------------------------

export function packageScripts(workspaceDir: string): Record<string, string> {
  const file = workspaceDir === '.' ? 'package.json' : `${workspaceDir}/package.json`;
  if (!exists(file)) return {};
  const parsed = JSON.parse(readText(file)) as { scripts?: Record<string, string> };
  return parsed.scripts ?? {};
}

/** Maps a workspace given to `npm -w` (folder or package name) to its folder. */
export function workspaceDir(nameOrDir: string): string | undefined {
  const root = JSON.parse(readText('package.json')) as { workspaces?: string[] };
  for (const dir of root.workspaces ?? []) {
    if (dir === nameOrDir) return dir;
    if (exists(`${dir}/package.json`)) {
      const pkg = JSON.parse(readText(`${dir}/package.json`)) as { name?: string };
      if (pkg.name === nameOrDir) return dir;
    }
  }
  return undefined;
}
