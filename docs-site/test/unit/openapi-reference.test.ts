import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_DIR, collectOperations, renderApiReference, renderMissingApiReference } from '../../scripts/lib/openapi-reference.ts';
import { headingId } from '../../scripts/lib/markdown.ts';
import { writePages } from '../../scripts/lib/write.ts';

const fixturePath = join(import.meta.dirname, '../fixtures/openapi.json');
const fixture = JSON.parse(await readFile(fixturePath, 'utf8')) as Record<string, unknown>;
const pages = renderApiReference(fixture, 'test/fixtures/openapi.json');
const all = [...pages.values()].join('\n');
const page = (slug: string) => pages.get(`${API_DIR}/${slug}.md`) ?? '';

/** The section of a tag page that documents one operation (from its heading to the next). */
function section(slug: string, heading: string): string {
  const text = page(slug);
  const start = text.indexOf(`## ${heading}\n`);
  expect(start, `heading "${heading}" on ${slug}`).toBeGreaterThanOrEqual(0);
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next === -1 ? undefined : next);
}

describe('API reference generator', () => {
  it('writes an overview plus one page per tag, untagged operations under "Other"', () => {
    expect([...pages.keys()].sort()).toEqual(['index', 'other', 'preference-center', 'subscribers', 'tags'].map((s) => `${API_DIR}/${s}.md`));
  });

  it('documents every operation once: method, path, operationId and summary', () => {
    const operations = collectOperations(fixture);
    expect(operations).toHaveLength(7);
    for (const op of operations) {
      expect(all).toContain(`\`${op.method} ${op.path}\``);
      expect(all).toContain(`**Operation ID:** \`${op.operationId}\``);
      expect(all.split(`\n## ${op.summary}\n`).length - 1).toBe(1);
    }
  });

  it('lists each operation in the overview with a link to its heading', () => {
    const index = page('index');
    expect(index).toContain('[Create a subscriber](/reference/api/subscribers/#create-a-subscriber)');
    expect(index).toContain('[Liveness](/reference/api/other/#liveness)');
  });

  it('places an operation with several tags on its first tag page only', () => {
    expect(page('preference-center')).toContain('## Subscribe to or unsubscribe from one tag');
    expect(page('tags')).not.toContain('## Subscribe to or unsubscribe from one tag');
  });

  it('states authentication and scopes from security, x-scopes and inherited root security', () => {
    const create = section('subscribers', 'Create a subscriber');
    expect(create).toContain('**Authentication:** `Authorization: Bearer …` header or `sf_session` cookie');
    expect(create).toContain('**API key scopes:** `subscribers:write`');
    const list = section('subscribers', 'List subscribers');
    expect(list).toContain('`X-API-Key` header');
    expect(list).toContain('**API key scopes:** `subscribers:read`');
    expect(section('subscribers', 'Get a subscriber')).toContain('`subscribers:read`');
    expect(section('other', 'Liveness')).toContain('**Authentication:** None (public)');
    expect(section('preference-center', 'Subscribe to or unsubscribe from one tag')).toContain('`?token=` query parameter');
  });

  it('lists parameters from the path item and the operation, resolving $ref', () => {
    const get = section('subscribers', 'Get a subscriber');
    expect(get).toContain('| `id` | path | string (uuid) | yes | Subscriber id. |');
    const create = section('subscribers', 'Create a subscriber');
    expect(create).toContain('| `Idempotency-Key` | header | string | no |');
    const list = section('subscribers', 'List subscribers');
    expect(list).toContain('| `limit` | query | integer | no | Default: `50`. 1 to 100. |');
    expect(list).toContain('"pending" \\| "active" \\| "unsubscribed"');
  });

  it('describes request bodies field by field', () => {
    const create = section('subscribers', 'Create a subscriber');
    expect(create).toContain('`application/json`, required.');
    expect(create).toContain('| `email` | string (email) | yes | Unique per organization, compared case-insensitively. At most 254 characters. |');
    expect(create).toContain('| `tags` | array of string | no | Tag slugs or names. At most 50 items. |');
    const tag = section('tags', 'Create a tag');
    expect(tag).toContain('| `category` | string \\| null | no |');
    expect(tag).toContain('| `is_public` | boolean | no | Default: `true`. |');
  });

  it('lists every response status, error codes and nested response fields', () => {
    const create = section('subscribers', 'Create a subscriber');
    for (const status of ['201', '402', '409', '422']) expect(create).toMatch(new RegExp(`^\\| ${status} \\|`, 'm'));
    expect(create).toContain('Codes: `plan_limit_exceeded`.');
    expect(create).toContain('Codes: `subscriber_exists`.');
    expect(create).toContain('| `tags[].slug` | string | yes |');
    expect(create).toContain('[error format](/reference/api/#errors)');
    const del = section('subscribers', 'Delete a subscriber permanently');
    expect(del).toContain('| 204 | Deleted, with everything recorded about them. | — |');
    expect(del).toContain('| 404 | No such resource in this organization. | Error |');
  });

  it('documents the error envelope on the overview', () => {
    const index = page('index');
    expect(index).toContain('## Errors');
    for (const field of ['error.code', 'error.message', 'error.details', 'error.request_id']) expect(index).toContain(`\`${field}\``);
  });

  it('gives each operation a curl example with credentials, path values, query and body', () => {
    expect(section('subscribers', 'Create a subscriber')).toContain(
      [
        'curl -X POST "$SF_API_URL/api/v1/subscribers" \\',
        '  -H "Authorization: Bearer $SF_API_KEY" \\',
        '  -H "Idempotency-Key: $(uuidgen)" \\',
        '  -H "Content-Type: application/json" \\',
        `  -d '{`,
        '  "email": "ada@example.com",',
      ].join('\n'),
    );
    expect(section('subscribers', 'Get a subscriber')).toContain('curl "$SF_API_URL/api/v1/subscribers/01990c4e-7c1e-7b3a-9c2d-3e4f5a6b7c8d"');
    expect(section('preference-center', 'Subscribe to or unsubscribe from one tag')).toMatch(/\?token=\$SF_TOKEN"/);
    expect(section('other', 'Liveness')).toContain('curl "$SF_API_URL/health"\n```');
    expect(section('tags', 'Create a tag')).toContain('"is_public": true');
  });

  it('computes heading ids as Astro does (github-slugger), so overview links resolve', () => {
    expect(headingId('Create or update up to 1,000 subscribers; one result per item')).toBe('create-or-update-up-to-1000-subscribers-one-result-per-item');
    expect(headingId("The organization's members — and roles")).toBe('the-organizations-members--and-roles');
    expect(headingId('Résumé café')).toBe('résumé-café');
    expect(headingId('½ price')).toBe('-price');
    expect(headingId('tab\there')).toBe('tabhere');
    expect(headingId('e\u0301')).toBe('e\u0301');
  });

  it('is deterministic: the same document renders byte-identical pages', () => {
    const again = renderApiReference(JSON.parse(JSON.stringify(fixture)), 'test/fixtures/openapi.json');
    expect([...again.entries()]).toEqual([...pages.entries()]);
  });

  it('escapes text that would break Markdown tables or inject HTML', () => {
    expect(page('subscribers')).toContain('Free-form data \\| stored as JSON.');
  });

  it('rejects a file that is not an OpenAPI document', () => {
    expect(() => renderApiReference({ hello: 'world' }, 'x.json')).toThrow(/not an OpenAPI document/);
  });

  it('writes a page that explains how to produce a missing document', () => {
    const missing = renderMissingApiReference('server/openapi.json', 'npm run openapi -w server');
    expect([...missing.keys()]).toEqual([`${API_DIR}/index.md`]);
    expect(missing.get(`${API_DIR}/index.md`)).toContain('npm run openapi -w server');
  });

  it('removes pages of tags that no longer exist when writing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docs-api-'));
    await mkdir(join(dir, API_DIR), { recursive: true });
    await writeFile(join(dir, API_DIR, 'removed-tag.md'), 'stale');
    const changes = await writePages(dir, pages, [API_DIR]);
    expect(changes).toContain(`deleted ${API_DIR}/removed-tag.md`);
    expect((await readdir(join(dir, API_DIR))).sort()).toEqual(['index.md', 'other.md', 'preference-center.md', 'subscribers.md', 'tags.md']);
    expect(await writePages(dir, pages, [API_DIR])).toEqual([]);
  });
});

describe('API reference generator on @fastify/swagger output', () => {
  const tag = section('tags', 'Create a tag');

  it('reads the scope from x-required-scope', () => {
    expect(tag).toContain('**API key scopes:** `tags:write`');
  });

  it('states the dashboard role from x-required-role', () => {
    expect(tag).toContain('**Dashboard role:** at least `admin` in the organization');
    expect(section('subscribers', 'Create a subscriber')).not.toContain('**Dashboard role:**');
  });

  it('marks platform-operator routes from x-platform-admin, and describes undescribed tags', () => {
    const doc = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      tags: [{ name: 'platform', description: 'Operators' }],
      paths: {
        '/p': {
          get: {
            operationId: 'p',
            summary: 'Every organization',
            tags: ['platform'],
            'x-platform-admin': true,
            'x-required-role': 'admin',
            responses: { 200: { description: 'OK' } },
          },
        },
        '/u/{token}': { post: { operationId: 'u', summary: 'Unsubscribe', tags: ['unsubscribe'], responses: { 200: { description: 'OK' } } } },
      },
    };
    const out = renderApiReference(doc, 'x.json');
    const platform = out.get(`${API_DIR}/platform.md`) ?? '';
    expect(platform).toContain('**Who:** platform operators only');
    expect(platform).not.toContain('**Dashboard role:**');
    expect(out.get(`${API_DIR}/index.md`)).toContain('| [Unsubscribe](/reference/api/unsubscribe/) | 1 | One-click unsubscribe links (RFC 8058) |');
  });

  it('shows Idempotency-Key for operations flagged x-idempotent', () => {
    expect(tag).toContain('**Idempotent retries:**');
    expect(tag).toContain('-H "Idempotency-Key: $(uuidgen)"');
  });

  it('names def-N schemas by their title', () => {
    expect(tag).toContain('| 201 | Created. | Tag |');
  });

  it('replaces placeholder response descriptions with the meaning of the status', () => {
    expect(tag).not.toContain('Default Response');
    expect(tag).toContain('| 422 | Validation failed; `details` names the fields. | Error |');
  });
});
