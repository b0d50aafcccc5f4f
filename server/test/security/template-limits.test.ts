import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { mjml } from '../email/helpers.ts';

// Issue 12, items 2 and 10: template work must not stall the API process.

let ctx: TestContext;
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext();
  call = api(ctx, (await ctx.createOrganization()).key);
  // MJML loads once in its worker thread (seconds on a busy machine); the tests time what comes after.
  await call('POST', '/api/v1/templates', { name: 'Warm up', subject: 'Hi', mjml_content: mjml('warm') });
}, 60_000);
afterAll(() => ctx.close());

let n = 0;
async function create(body: Record<string, unknown>) {
  n += 1;
  return call('POST', '/api/v1/templates', { name: `T ${n}`, subject: 'Hi', mjml_content: mjml('Hello'), ...body });
}

/** How long /health takes to answer while `work` runs. */
async function healthDuring(work: Promise<unknown>): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  const started = performance.now();
  const health = await ctx.app.inject({ method: 'GET', url: '/health' });
  const took = performance.now() - started;
  expect(health.statusCode).toBeLessThan(600);
  await work;
  return took;
}

describe('variables_schema patterns', () => {
  it('run in linear time: ^(a+)+$ against 40 characters answers at once', async () => {
    const res = await create({ variables_schema: { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } } });
    expect(res.statusCode).toBe(201);
    const started = performance.now();
    const preview = await call('POST', `/api/v1/templates/${res.json().id}/preview`, { variables: { code: `${'a'.repeat(40)}!` } });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(preview.statusCode).toBe(422);
    expect(preview.json().error).toMatchObject({ code: 'template_variables_invalid', details: [{ field: 'variables.code' }] });
    const matching = await call('POST', `/api/v1/templates/${res.json().id}/preview`, { variables: { code: 'aaaa' } });
    expect(matching.statusCode).toBe(200);
  });

  it('refuses patterns a linear-time engine cannot run, and overlong ones, when the template is saved', async () => {
    for (const pattern of ['^(a)\\1$', '^(?=a)a$', '(?<!b)a', `^${'a'.repeat(501)}$`]) {
      const res = await create({ variables_schema: { properties: { code: { type: 'string', pattern } } } });
      expect(res.statusCode, pattern).toBe(422);
      expect(res.json().error.details[0].field).toBe('variables_schema');
    }
    const properties = await create({ variables_schema: { patternProperties: { '^(x)\\1$': { type: 'string' } } } });
    expect(properties.statusCode).toBe(422);
  });
});

describe('Liquid rendering', () => {
  it('refuses a huge loop after bounded work while /health keeps answering', async () => {
    const res = await create({ mjml_content: mjml('{% for i in (1..3000) %}{% for j in (1..3000) %}x{% endfor %}{% endfor %}') });
    expect(res.statusCode).toBe(201);
    const started = performance.now();
    const previews = Promise.all([1, 2, 3, 4].map(() => call('POST', `/api/v1/templates/${res.json().id}/preview`, {})));
    const healthMs = await healthDuring(previews);
    const elapsed = performance.now() - started;
    for (const preview of await previews) {
      expect(preview.statusCode).toBe(422);
      expect(preview.json().error.code).toBe('template_render_failed');
      expect(preview.json().error.details[0].message).toMatch(/render limit exceeded: more than \d+ steps/);
    }
    // Before the bound, each render ran to the 2 s time limit.
    expect(elapsed).toBeLessThan(1500);
    expect(healthMs).toBeLessThan(1000);
  });

  it('refuses output beyond the size limit', async () => {
    const res = await create({ mjml_content: mjml(`{% for i in (1..15000) %}${'y'.repeat(100)}{% endfor %}`) });
    expect(res.statusCode).toBe(201);
    const preview = await call('POST', `/api/v1/templates/${res.json().id}/preview`, {});
    expect(preview.statusCode).toBe(422);
    expect(preview.json().error.details[0].message).toMatch(/output limit exceeded/);
  });

  it('turns javascript:, vbscript: and data: URLs from variables into inert links', async () => {
    const res = await create({
      mjml_content: mjml('<a href="{{ a }}">a</a><a href=\'{{ b }}\'>b</a><a href="{{ c }}">c</a><a href="{{ d }}">d</a><a href="{{ ok }}">ok</a>'),
    });
    const preview = await call('POST', `/api/v1/templates/${res.json().id}/preview`, {
      variables: {
        a: 'javascript:alert(1)',
        b: ' JaVaScRiPt:alert(1)',
        c: 'data:text/html;base64,PHNjcmlwdD4=',
        d: 'java\tscript:alert(1)',
        ok: 'https://example.com/?a=1&b=2',
      },
    });
    expect(preview.statusCode).toBe(200);
    const html: string = preview.json().html;
    expect(html.toLowerCase()).not.toMatch(/javascript:|java\s+script:|data:text/);
    expect(html.match(/href="#"/g)).toHaveLength(4);
    expect(html).toContain('href="https://example.com/?a=1&amp;b=2"');
  });
});

describe('MJML compilation', () => {
  it('compiles each distinct source once, off the event loop', async () => {
    const { renderer } = ctx.container.services;
    const body = mjml(`Big ${'<p>paragraph of text</p>'.repeat(9000)}`);
    expect(body.length).toBeGreaterThan(200_000);
    const before = renderer.mjmlStats().compilations;
    const saving = create({ mjml_content: body });
    const healthMs = await healthDuring(saving);
    const first = await saving;
    expect(first.statusCode).toBe(201);
    expect(healthMs).toBeLessThan(300);
    expect(renderer.mjmlStats().compilations).toBe(before + 1);
    // The same source saved again and previewed as a draft: no new compilation.
    expect((await create({ mjml_content: body })).statusCode).toBe(201);
    const preview = await call('POST', `/api/v1/templates/${first.json().id}/preview`, { mjml_content: body, subject: 'Draft subject' });
    expect(preview.statusCode).toBe(200);
    expect(renderer.mjmlStats().compilations).toBe(before + 1);
  });
});
