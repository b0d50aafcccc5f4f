import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG_SCHEMA, DEFAULT_EVENT_CATALOGUE, DEFAULT_OPENAPI, DEFAULT_OUT, generate } from '../../scripts/generate.ts';
import { CONFIG_PAGE } from '../../scripts/lib/config-reference.ts';
import { EVENTS_PAGE } from '../../scripts/lib/events-reference.ts';
import { API_DIR } from '../../scripts/lib/openapi-reference.ts';
import { listMarkdown } from '../../scripts/lib/write.ts';

/**
 * The generated pages are committed. These tests regenerate them from the server's current sources into a
 * temporary folder and require the committed copies to match: run `npm run generate -w docs-site` and
 * commit when they fail.
 */
async function tree(root: string, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listMarkdown(join(root, dir))) {
    out[relative(root, file).split(sep).join('/')] = await readFile(file, 'utf8');
  }
  return out;
}

const fresh = await mkdtemp(join(tmpdir(), 'docs-generated-'));
await generate({ openapi: DEFAULT_OPENAPI, configSchema: DEFAULT_CONFIG_SCHEMA, out: fresh });

describe('committed generated pages', () => {
  it('the API reference equals a fresh regeneration from server/openapi.json', async () => {
    expect(await tree(DEFAULT_OUT, API_DIR)).toEqual(await tree(fresh, API_DIR));
  });

  it('the configuration reference equals a fresh regeneration from the config schema', async () => {
    expect(await readFile(join(DEFAULT_OUT, CONFIG_PAGE), 'utf8')).toBe(await readFile(join(fresh, CONFIG_PAGE), 'utf8'));
  });

  it('the webhook events reference equals a fresh regeneration from the event catalogue', async () => {
    expect(await readFile(join(DEFAULT_OUT, EVENTS_PAGE), 'utf8')).toBe(await readFile(join(fresh, EVENTS_PAGE), 'utf8'));
  });

  it.runIf(existsSync(DEFAULT_EVENT_CATALOGUE))('the webhook events reference shows every type of the catalogue', async () => {
    const { EVENT_TYPES: types } = (await import(pathToFileURL(DEFAULT_EVENT_CATALOGUE).href)) as { EVENT_TYPES: string[] };
    const page = await readFile(join(DEFAULT_OUT, EVENTS_PAGE), 'utf8');
    expect(types).toContain('campaign.completed');
    for (const type of types) expect(page).toContain(`## \`${type}\``);
  });

  it.runIf(existsSync(DEFAULT_CONFIG_SCHEMA))('the configuration reference lists every variable the config schema knows', async () => {
    // Imported directly, not through the generator, so a generator bug cannot hide a variable.
    const { configSchema: schema } = (await import(pathToFileURL(DEFAULT_CONFIG_SCHEMA).href)) as { configSchema: { properties: Record<string, unknown> } };
    const page = await readFile(join(DEFAULT_OUT, CONFIG_PAGE), 'utf8');
    const names = Object.keys(schema.properties);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(page).toContain(`### \`${name}\``);
  });

  it.runIf(existsSync(DEFAULT_OPENAPI))('the API reference documents every operation in server/openapi.json', async () => {
    const doc = JSON.parse(await readFile(DEFAULT_OPENAPI, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const pages = Object.values(await tree(DEFAULT_OUT, API_DIR)).join('\n');
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace']) {
        if (item[method]) expect(pages).toContain(`\`${method.toUpperCase()} ${path}\``);
      }
    }
  });
});
