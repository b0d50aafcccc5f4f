import { describe, expect, it } from 'vitest';
import { readVariables, renderConfigReference } from '../../scripts/lib/config-reference.ts';
import { configSchema } from '../fixtures/config-schema.ts';

const page = renderConfigReference(configSchema, 'test/fixtures/config-schema.ts');

describe('configuration reference generator', () => {
  it('gives every variable a heading, in schema order', () => {
    const headings = [...page.matchAll(/^### `([A-Z0-9_]+)`$/gm)].map((m) => m[1]);
    const names = Object.keys(configSchema.properties);
    expect([...headings].sort()).toEqual([...names].sort());
    // Within a group the schema's order is kept.
    expect(headings.indexOf('DATABASE_URL')).toBeLessThan(headings.indexOf('DATABASE_POOL_MAX'));
  });

  it('marks a variable required only when it is required and has no default', () => {
    const byName = Object.fromEntries(readVariables(configSchema).map((v) => [v.name, v]));
    expect(byName.TOKEN_SECRET?.required).toBe(true);
    expect(byName.DATABASE_URL?.required).toBe(true);
    expect(byName.PORT?.required).toBe(false);
    expect(byName.SENTRY_DSN?.required).toBe(false);
    expect(page).toContain('| [`TOKEN_SECRET`](#token_secret) | yes | — |');
    expect(page).toContain('| [`PORT`](#port) | no | `3000` |');
    expect(page).toContain('| [`CORS_ORIGINS`](#cors_origins) | no | (empty) |');
  });

  it('shows defaults, allowed values and constraints', () => {
    expect(page).toContain('- **Allowed values:** `info`, `debug`');
    expect(page).toContain('- **Constraints:** 1 to 65535');
    expect(page).toContain('- **Constraints:** at least 32 characters');
    expect(page).toContain('- **Default:** `false`');
  });

  it('groups variables by prefix', () => {
    expect(page).toMatch(/## PostgreSQL\n\n### `DATABASE_URL`[\s\S]*### `DATABASE_POOL_MAX`/);
    expect(page).toMatch(/## Observability\n\n### `SENTRY_DSN`/);
  });

  it('escapes HTML in descriptions and keeps multi-paragraph descriptions', () => {
    expect(page).toContain('Signs tokens | keep it &lt;secret&gt;.');
    expect(page).toContain('SMTP server URL.\n\nLeave empty to use the dev mailbox.');
  });

  it('ends with an example .env listing required variables first', () => {
    expect(page).toContain('# Required: the server does not start without these.\nDATABASE_URL=\nTOKEN_SECRET=\n');
    expect(page).toContain('# PORT=3000');
  });

  it('is deterministic', () => {
    expect(renderConfigReference(JSON.parse(JSON.stringify(configSchema)), 'test/fixtures/config-schema.ts')).toBe(page);
  });

  it('rejects a schema without properties', () => {
    expect(() => renderConfigReference({ type: 'string' }, 'x.ts')).toThrow(/object schema/);
  });
});
