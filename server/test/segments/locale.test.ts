import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeLocale } from '../../src/lib/locale.ts';
import { api, createTestContext, type TestContext } from '../support/context.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let other: ReturnType<typeof api>;
const ids: Record<string, string> = {};

// Hand-made: who has which locale (as sent; stored canonically).
const PEOPLE = [
  { name: 'anna', locale: 'de' },
  { name: 'bert', locale: 'de-AT' },
  { name: 'cara', locale: 'DE_ch' },
  { name: 'dina', locale: 'pt-br' },
  { name: 'emil', locale: 'en' },
  { name: 'finn', locale: undefined },
] as const;

beforeAll(async () => {
  ctx = await createTestContext();
  call = api(ctx, (await ctx.createOrganization('Locale A')).key);
  other = api(ctx, (await ctx.createOrganization('Locale B')).key);
  // The other organization's German subscriber must never be counted for A.
  expect((await other('POST', '/api/v1/subscribers', { email: 'otto@locale.test', locale: 'de' })).statusCode).toBe(201);
  for (const person of PEOPLE) {
    const res = await call('POST', '/api/v1/subscribers', { email: `${person.name}@locale.test`, ...(person.locale ? { locale: person.locale } : {}) });
    expect(res.statusCode, res.body).toBe(201);
    ids[person.name] = res.json().id;
  }
});
afterAll(() => ctx.close());

describe('subscriber locale', () => {
  it('is stored in one canonical spelling and shown', async () => {
    expect(normalizeLocale('DE_ch')).toBe('de-CH');
    expect(normalizeLocale('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(normalizeLocale('es-419')).toBe('es-419');
    expect(normalizeLocale('english')).toBeNull();
    const cara = (await call('GET', `/api/v1/subscribers/${ids.cara}`)).json();
    expect(cara.locale).toBe('de-CH');
    expect((await call('GET', `/api/v1/subscribers/${ids.finn}`)).json().locale).toBeNull();
  });

  it('refuses what is not a language tag, and can be changed or cleared', async () => {
    for (const locale of ['english', 'd', 'de-', 'de AT', 'x'.repeat(40), "de'; drop table subscribers;--"]) {
      const res = await call('POST', '/api/v1/subscribers', { email: 'bad@locale.test', locale });
      expect(res.statusCode, locale).toBe(422);
    }
    const changed = await call('PATCH', `/api/v1/subscribers/${ids.emil}`, { locale: 'en_gb' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().locale).toBe('en-GB');
    expect((await call('PATCH', `/api/v1/subscribers/${ids.emil}`, { locale: null })).json().locale).toBeNull();
    expect((await call('PATCH', `/api/v1/subscribers/${ids.emil}`, { locale: 'en' })).json().locale).toBe('en');
  });

  it('is set by the batch upsert, kept when an item leaves it out, and a bad one fails only its item', async () => {
    const batch = await call('POST', '/api/v1/subscribers/batch', {
      subscribers: [{ email: 'gina@locale.test', locale: 'fr_ca' }, { email: 'bad@locale.test', locale: 'french' }, { email: 'anna@locale.test' }],
    });
    expect(batch.statusCode, batch.body).toBeLessThan(300);
    const byEmail = async (email: string) => (await call('GET', `/api/v1/subscribers/by-email?email=${encodeURIComponent(email)}`)).json();
    expect((await byEmail('gina@locale.test')).locale).toBe('fr-CA');
    expect((await byEmail('anna@locale.test')).locale).toBe('de');
    expect((await call('GET', `/api/v1/subscribers/by-email?email=bad%40locale.test`)).statusCode).toBe(404);
    // Gina is not one of the hand-computed people below: she leaves again.
    expect((await call('DELETE', `/api/v1/subscribers/${(await byEmail('gina@locale.test')).id}`)).statusCode).toBeLessThan(300);
  });
});

describe('segment locale conditions', () => {
  async function matches(condition: unknown): Promise<string[]> {
    const filter = { match: 'all', conditions: [condition] };
    const created = await call('POST', '/api/v1/segments', { name: 'locale probe', filter });
    expect(created.statusCode, created.body).toBe(201);
    const members = (await call('GET', `/api/v1/segments/${created.json().id}/members`)).json().items as { id: string }[];
    const count = (await call('POST', '/api/v1/segments/preview-count', { filter })).json().count as number;
    expect(count).toBe(members.length);
    const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    return members.map((m) => names[m.id] ?? 'foreign').sort();
  }

  it('select exactly the hand-computed subscribers', async () => {
    expect(await matches({ field: 'locale', op: 'eq', value: 'de' })).toEqual(['anna']);
    expect(await matches({ field: 'locale', op: 'eq', value: 'de_at' })).toEqual(['bert']);
    expect(await matches({ field: 'locale', op: 'language', value: 'de' })).toEqual(['anna', 'bert', 'cara']);
    expect(await matches({ field: 'locale', op: 'language', value: ['pt', 'en-US'] })).toEqual(['dina', 'emil']);
    expect(await matches({ field: 'locale', op: 'in', value: ['de-CH', 'pt-BR'] })).toEqual(['cara', 'dina']);
    expect(await matches({ field: 'locale', op: 'not_in', value: ['de', 'en'] })).toEqual(['bert', 'cara', 'dina']);
    expect(await matches({ field: 'locale', op: 'neq', value: 'de' })).toEqual(['bert', 'cara', 'dina', 'emil']);
    expect(await matches({ field: 'locale', op: 'exists' })).toEqual(['anna', 'bert', 'cara', 'dina', 'emil']);
    expect(await matches({ field: 'locale', op: 'not_exists' })).toEqual(['finn']);
  });

  it('say plainly what is wrong with a locale condition', async () => {
    const bad = await call('POST', '/api/v1/segments/preview-count', {
      filter: { match: 'all', conditions: [{ field: 'locale', op: 'eq', value: 'german' }] },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].message).toContain('is not a language tag');
    const op = await call('POST', '/api/v1/segments/preview-count', { filter: { match: 'all', conditions: [{ field: 'locale', op: 'before', value: 'de' }] } });
    expect(op.statusCode).toBe(422);
  });
});
