import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, preferenceToken } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization('Brand Co');
  call = api(ctx, org.key);
});
afterAll(() => ctx.close());

describe('preference-center settings', () => {
  it('start with double opt-in on, no branding, no custom texts and no allowed origins', async () => {
    const res = await call('GET', '/api/v1/settings/preference-center');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ texts: {}, logo_url: null, accent_color: null, double_opt_in: true, embed_origins: [], form_origins: [], locale: 'en' });
  });

  it('merge texts per locale and key; null restores the default', async () => {
    await call('PATCH', '/api/v1/settings/preference-center', { texts: { en: { title: 'Your emails', intro: 'Pick topics' }, de: { title: 'Ihre E-Mails' } } });
    const res = await call('PATCH', '/api/v1/settings/preference-center', {
      texts: { en: { intro: null, save: 'Saved!' } },
      accent_color: '#1D4ED8',
      locale: 'de',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      texts: { en: { title: 'Your emails', save: 'Saved!' }, de: { title: 'Ihre E-Mails' } },
      accent_color: '#1d4ed8',
      locale: 'de',
      double_opt_in: true,
    });
    expect(res.json().texts.en.intro).toBeUndefined();
    expect((await call('GET', '/api/v1/settings/preference-center')).json()).toEqual(res.json());
  });

  it('are what the preference center shows the subscriber', async () => {
    await call('PATCH', '/api/v1/settings/preference-center', { logo_url: 'https://cdn.example.com/logo.png', embed_origins: ['https://Www.Brand.example'] });
    const id = await createSubscriber(ctx, org.key, { email: 'brand@example.com' });
    const token = await preferenceToken(ctx, org.key, id);
    const view = (await ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${token}` })).json();
    expect(view.organization).toEqual({
      name: 'Brand Co',
      slug: org.slug,
      locale: 'de',
      logo_url: 'https://cdn.example.com/logo.png',
      accent_color: '#1d4ed8',
      texts: { en: { title: 'Your emails', save: 'Saved!' }, de: { title: 'Ihre E-Mails' } },
      postal_address: null,
      privacy_url: null,
      imprint_url: null,
    });
    expect((await call('GET', '/api/v1/settings/preference-center')).json().embed_origins).toEqual(['https://www.brand.example']);
  });

  it('reject malformed values, naming each field', async () => {
    const res = await call('PATCH', '/api/v1/settings/preference-center', {
      logo_url: 'http://insecure.example/logo.png',
      accent_color: 'blue',
      form_origins: ['https://site.example/path'],
      texts: { fr: { title: 'Bonjour' }, en: { title: 'x'.repeat(201) } },
    });
    expect(res.statusCode).toBe(422);
    const fields = res
      .json()
      .error.details.map((d: { field: string }) => d.field)
      .sort();
    expect(fields).toEqual(['accent_color', 'form_origins.0', 'logo_url', 'texts.en.title', 'texts.fr']);
    expect((await call('PATCH', '/api/v1/settings/preference-center', {})).statusCode).toBe(422);
    expect(
      (await call('PATCH', '/api/v1/settings/preference-center', { embed_origins: Array.from({ length: 21 }, (_, i) => `https://s${i}.example`) })).statusCode,
    ).toBe(422);
  });

  it('need the subscribers:write scope', async () => {
    const reader = await ctx.createKey(org.id, ['subscribers:read']);
    expect((await api(ctx, reader.key)('GET', '/api/v1/settings/preference-center')).statusCode).toBe(403);
    expect((await api(ctx, reader.key)('PATCH', '/api/v1/settings/preference-center', { double_opt_in: false })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/settings/preference-center' })).statusCode).toBe(401);
  });

  it('belong to one organization', async () => {
    const other = await ctx.createOrganization();
    expect((await api(ctx, other.key)('GET', '/api/v1/settings/preference-center')).json()).toMatchObject({ texts: {}, accent_color: null });
  });
});
