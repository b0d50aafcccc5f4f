import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { mjml } from './helpers.ts';
import { PREVIEWS_PER_MINUTE } from '../../src/modules/templates/templates.routes.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  call = api(ctx, org.key);
});
afterAll(() => ctx.close());

const create = (body: Record<string, unknown>) =>
  call('POST', '/api/v1/templates', { subject: 'Hello {{ name }}', mjml_content: mjml('Hi {{ name }}'), ...body });

describe('templates', () => {
  it('creates a template with a slug derived from its name and reads it back', async () => {
    const res = await create({ name: 'Welcome Mail', variables_schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Welcome Mail', slug: 'welcome-mail', category: 'transactional', status: 'active', archived_at: null });
    expect(res.json()).not.toHaveProperty('compiled_html');
    expect((await call('GET', `/api/v1/templates/${res.json().id}`)).json().slug).toBe('welcome-mail');
  });

  it('keeps slugs unique among active templates and frees a slug when its template is archived', async () => {
    const first = await create({ name: 'Receipt', slug: 'receipt' });
    expect((await create({ name: 'Receipt 2', slug: 'receipt' })).json().error.code).toBe('template_slug_taken');
    expect((await call('DELETE', `/api/v1/templates/${first.json().id}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/templates/${first.json().id}`)).statusCode).toBe(204);
    const again = await create({ name: 'Receipt v2', slug: 'receipt' });
    expect(again.statusCode).toBe(201);
    const archived = await call('GET', '/api/v1/templates?status=archived');
    expect(archived.json().items.map((t: { id: string }) => t.id)).toEqual([first.json().id]);
    expect((await call('GET', `/api/v1/templates/${first.json().id}`)).json().status).toBe('archived');
    expect((await call('PATCH', `/api/v1/templates/${first.json().id}`, { name: 'x' })).json().error.code).toBe('template_archived');
  });

  it('answers 422 naming the problem for invalid MJML and bad Liquid', async () => {
    const badMjml = await create({
      name: 'Bad MJML',
      mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    expect(badMjml.statusCode).toBe(422);
    expect(badMjml.json().error).toMatchObject({
      code: 'template_invalid_mjml',
      details: [{ field: 'mjml_content', message: expect.stringContaining('colour') }],
    });
    const badLiquid = await create({ name: 'Bad Liquid', subject: 'Hi {{ name | shout }}' });
    expect(badLiquid.json().error).toMatchObject({ code: 'template_invalid_liquid', details: [{ field: 'subject' }] });
    const notMjml = await create({ name: 'Plain', mjml_content: '<p>hello</p>' });
    expect(notMjml.json().error.code).toBe('template_invalid_mjml');
  });

  it('previews with escaped variables and names a missing one', async () => {
    const t = (await create({ name: 'Preview me' })).json();
    const ok = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: '<b>Ada</b>' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().subject).toBe('Hello <b>Ada</b>');
    expect(ok.json().html).toContain('Hi &lt;b&gt;Ada&lt;/b&gt;');
    expect(ok.json().text).toContain('Hi <b>Ada</b>');
    const missing = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: {} });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error).toMatchObject({ code: 'template_variable_missing', details: [{ field: 'variables.name' }] });
  });

  it('previews unsaved edits of subject, MJML and category without storing anything', async () => {
    const t = (await create({ name: 'Draft me' })).json();
    const stored = await ctx.container.db
      .selectFrom('templates')
      .select(['subject', 'mjml_content', 'compiled_html', 'version', 'updated_at'])
      .where('id', '=', t.id)
      .executeTakeFirstOrThrow();
    // Rendered once first, so the stored version is in the renderer's cache when the draft comes.
    expect((await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'Ada' } })).json().subject).toBe('Hello Ada');
    const draft = await call('POST', `/api/v1/templates/${t.id}/preview`, {
      variables: { name: 'Ada' },
      subject: 'Draft subject for {{ name }}',
      mjml_content: mjml('Typed just now, {{ name }}'),
    });
    expect(draft.statusCode).toBe(200);
    expect(draft.json().subject).toBe('Draft subject for Ada');
    expect(draft.json().text).toContain('Typed just now, Ada');
    expect(draft.json().text).not.toContain('Hi Ada');

    const asMarketing = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'Ada' }, category: 'marketing' });
    expect(asMarketing.json().text).toContain('Hi Ada');
    expect(asMarketing.json().text).toContain('You receive this email because you subscribed to updates from Acme.');

    // The stored template, its compiled HTML and its version are as they were; a plain preview renders them.
    expect(
      await ctx.container.db
        .selectFrom('templates')
        .select(['subject', 'mjml_content', 'compiled_html', 'version', 'updated_at'])
        .where('id', '=', t.id)
        .executeTakeFirstOrThrow(),
    ).toEqual(stored);
    expect((await call('GET', `/api/v1/templates/${t.id}`)).json()).toMatchObject({ subject: 'Hello {{ name }}', category: 'transactional' });
    const saved = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'Ada' } });
    expect(saved.json().subject).toBe('Hello Ada');
    expect(saved.json().text).toContain('Hi Ada');
    expect(saved.json().text).not.toContain('You receive this email');
  });

  it('refuses a draft with the 422s of saving, each naming its field', async () => {
    const t = (await create({ name: 'Draft errors' })).json();
    const preview = (body: Record<string, unknown>) => call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'Ada' }, ...body });
    const badMjml = await preview({
      mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    expect(badMjml.statusCode).toBe(422);
    expect(badMjml.json().error).toMatchObject({
      code: 'template_invalid_mjml',
      details: [{ field: 'mjml_content', message: expect.stringContaining('colour') }],
    });
    expect((await preview({ mjml_content: '<p>hello</p>' })).json().error).toMatchObject({
      code: 'template_invalid_mjml',
      details: [{ field: 'mjml_content' }],
    });
    expect((await preview({ mjml_content: mjml('{% if name %}open') })).json().error).toMatchObject({
      code: 'template_invalid_liquid',
      details: [{ field: 'mjml_content' }],
    });
    expect((await preview({ subject: 'Hi {{ name | shout }}' })).json().error).toMatchObject({
      code: 'template_invalid_liquid',
      details: [{ field: 'subject' }],
    });
    const missing = await preview({ mjml_content: mjml('Hi {{ name }} from {{ city }}') });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error).toMatchObject({
      code: 'template_variable_missing',
      details: [{ field: 'variables.city', message: expect.stringContaining('body') }],
    });
    // Sizes are bounded as on save.
    const blank = await preview({ subject: ' ' });
    expect(blank.statusCode).toBe(422);
    expect(blank.json().error.details).toEqual([expect.objectContaining({ field: 'subject' })]);
    const huge = await preview({ mjml_content: mjml('x'.repeat(256 * 1024)) });
    expect(huge.statusCode).toBe(422);
    expect(huge.json().error.details).toEqual([expect.objectContaining({ field: 'mjml_content' })]);
    expect((await call('GET', `/api/v1/templates/${t.id}`)).json().mjml_content).toBe(mjml('Hi {{ name }}'));
  });

  it('checks variables against variables_schema', async () => {
    const t = (
      await create({ name: 'Typed', variables_schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 3 } } } })
    ).json();
    const res = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'too long' } });
    expect(res.json().error).toMatchObject({ code: 'template_variables_invalid', details: [{ field: 'variables.name' }] });
  });

  it('gives marketing templates the organization footer in its language, with links', async () => {
    await ctx.container.db.updateTable('organizations').set({ locale: 'de', postal_address: 'Hauptstraße 1\n10115 Berlin' }).where('id', '=', orgId).execute();
    const subscriber = (await call('POST', '/api/v1/subscribers', { email: 'leser@example.com' })).json();
    const t = (
      await create({ name: 'Newsletter', category: 'marketing', subject: 'News', mjml_content: mjml('Neuigkeiten für {{ subscriber.email }}') })
    ).json();
    const res = await call('POST', `/api/v1/templates/${t.id}/preview`, { subscriber_id: subscriber.id });
    expect(res.statusCode).toBe(200);
    const text: string = res.json().text;
    expect(text).toContain('Neuigkeiten für leser@example.com');
    expect(text).toContain('Sie erhalten diese E-Mail, weil Sie Nachrichten von Acme abonniert haben.');
    expect(text).toContain('Hauptstraße 1');
    expect(text).toMatch(/Einstellungen verwalten \(http:\/\/localhost:3000\/u\/[\w-]+\.[\w-]+\)/);
    expect(text).toMatch(/Abmelden \(http:\/\/localhost:3000\/u\/[\w-]+\.[\w-]+\)/);
  });

  it("renders in the organization's language with no web fonts, and says what images say in the text part", async () => {
    const image =
      '<mjml><mj-body><mj-section><mj-column><mj-image src="https://cdn.acme.example/sale.png" alt="Winter sale: 30% off everything" /></mj-column></mj-section></mj-body></mjml>';
    await ctx.container.db.updateTable('organizations').set({ locale: 'de' }).where('id', '=', orgId).execute();
    const t = (await create({ name: 'Sale', subject: 'Sale', mjml_content: image })).json();
    const res = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'Ada' } });
    expect(res.json().html).toMatch(/^<!doctype html>\s*<html lang="de"/i);
    expect(res.json().html).not.toMatch(/fonts\.googleapis|@import url/);
    expect(res.json().text).toContain('Winter sale: 30% off everything');
    expect(res.json().text).not.toContain('sale.png');
  });

  it('warns when a saved template is only images, and not when it has words', async () => {
    const image = '<mjml><mj-body><mj-section><mj-column><mj-image src="https://cdn.acme.example/a.png" alt="" /></mj-column></mj-section></mj-body></mjml>';
    const onlyImage = await create({ name: 'Only image', subject: 'Look', mjml_content: image });
    expect(onlyImage.statusCode).toBe(201);
    expect(onlyImage.json().warnings).toEqual([expect.stringMatching(/^image_only: /)]);
    const worded = await create({
      name: 'Worded',
      subject: 'Read',
      mjml_content: image.replace(
        '</mj-column>',
        '<mj-text>Our winter sale starts today with thirty percent off every item in the shop.</mj-text></mj-column>',
      ),
    });
    expect(worded.json()).not.toHaveProperty('warnings');
    const changed = await call('PATCH', `/api/v1/templates/${worded.json().id}`, { mjml_content: image });
    expect(changed.json().warnings).toHaveLength(1);
  });

  it('changes a template and compiles it again', async () => {
    const t = (await create({ name: 'Changing' })).json();
    const res = await call('PATCH', `/api/v1/templates/${t.id}`, { mjml_content: mjml('Bye {{ name }}'), subject: 'Bye' });
    expect(res.statusCode).toBe(200);
    const preview = await call('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'Ada' } });
    expect(preview.json()).toMatchObject({ subject: 'Bye' });
    expect(preview.json().text).toContain('Bye Ada');
    expect((await call('PATCH', `/api/v1/templates/${t.id}`, { mjml_content: '<mjml>' })).json().error.code).toBe('template_invalid_mjml');
  });

  it('needs templates:write to change and templates:read to read', async () => {
    const reader = await ctx.createKey(orgId, ['templates:read']);
    const asReader = api(ctx, reader.key);
    expect((await asReader('GET', '/api/v1/templates')).statusCode).toBe(200);
    expect((await asReader('POST', '/api/v1/templates', { name: 'x', subject: 's', mjml_content: mjml('x') })).json().error.code).toBe('insufficient_scope');
  });

  it("does not reveal another organization's template", async () => {
    const t = (await create({ name: 'Private' })).json();
    const other = await ctx.createOrganization('Other');
    const asOther = api(ctx, other.key);
    expect((await asOther('GET', `/api/v1/templates/${t.id}`)).statusCode).toBe(404);
    expect((await asOther('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'x' } })).statusCode).toBe(404);
    // A draft does not render under another organization's template id either.
    const draft = await asOther('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'x' }, subject: 'Mine', mjml_content: mjml('Mine') });
    expect(draft.statusCode).toBe(404);
    expect(draft.json().error.code).toBe('template_not_found');
    expect((await asOther('POST', '/api/v1/templates', { name: 'Private', subject: 's', mjml_content: mjml('x') })).statusCode).toBe(201);
  });

  it('limits previews per key well below the general limit, since each one compiles MJML', async () => {
    const t = (await create({ name: 'Busy preview' })).json();
    const own = api(ctx, (await ctx.createKey(orgId, ['templates:read'])).key);
    const statuses: number[] = [];
    for (let i = 0; i <= PREVIEWS_PER_MINUTE; i += 1)
      statuses.push((await own('POST', `/api/v1/templates/${t.id}/preview`, { variables: { name: 'x' } })).statusCode);
    expect(statuses.slice(0, PREVIEWS_PER_MINUTE).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Other routes of the same key keep their own, larger budget.
    expect((await own('GET', '/api/v1/templates')).statusCode).toBe(200);
  });
});
