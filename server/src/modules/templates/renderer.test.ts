import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { footerStrings } from './footer.ts';
import { htmlToText } from './html-to-text.ts';
import { createTemplateRenderer, type RenderableTemplate } from './renderer.ts';

const renderer = createTemplateRenderer();
// The MJML worker thread loads MJML once (seconds on a busy machine); that is not what the tests time.
beforeAll(() => renderer.compile({ subject: 's', mjml: '<mjml><mj-body></mj-body></mjml>', category: 'transactional', variablesSchema: {} }), 30_000);
afterAll(() => renderer.close());
const mjml = (body: string) => `<mjml><mj-body><mj-section><mj-column><mj-text>${body}</mj-text></mj-column></mj-section></mj-body></mjml>`;
let version = 0;

async function template(
  body: string,
  options: { subject?: string; category?: 'marketing' | 'transactional'; schema?: Record<string, unknown> } = {},
): Promise<RenderableTemplate> {
  const subject = options.subject ?? 'Hello {{ name }}';
  const variablesSchema = options.schema ?? {};
  const compiledHtml = await renderer.compile({ subject, mjml: mjml(body), category: options.category ?? 'transactional', variablesSchema });
  version += 1;
  return { id: 't', version: String(version), subject, compiledHtml, variablesSchema };
}

const problem = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

describe('template renderer', () => {
  it('escapes variables in HTML but not in the subject, and derives a text part with links', async () => {
    const t = await template('Hi {{ name }}, <a href="{{ url }}">confirm</a>');
    const out = await renderer.render(t, { name: '<Ada & Co>', url: 'https://x.test/c?a=1&b=2' });
    expect(out.subject).toBe('Hello <Ada & Co>');
    expect(out.html).toContain('Hi &lt;Ada &amp; Co&gt;');
    expect(out.html).not.toContain('<Ada');
    expect(out.text).toContain('Hi <Ada & Co>, confirm (https://x.test/c?a=1&amp;b=2)'.replace('&amp;', '&'));
  });

  it('renders the subject and the body apart exactly as together (campaigns render them at different times)', async () => {
    const t = await template('Hi {{ name }}, <a href="{{ url }}">go</a> <a href="javascript:alert(1)">x</a>', { subject: 'For {{ name }}\nnow' });
    const context = { name: '<Ada & Co>', url: 'https://x.test/c?a=1&b=2' };
    const whole = await renderer.render(t, context);
    expect(await renderer.renderSubject(t, context)).toBe(whole.subject);
    expect(await renderer.renderBody(t, context)).toEqual({ html: whole.html, text: whole.text });
    expect(whole.subject).toBe('For <Ada & Co> now');
    expect(whole.html).toContain('href="#"');
    expect(whole.html).toContain('href="https://x.test/c?a=1&amp;b=2"');
  });

  it('names a missing variable', async () => {
    const t = await template('Hi {{ user.first_name }}');
    const error = await problem(renderer.render(t, { name: 'x', user: {} }));
    expect(error).toMatchObject({ status: 422, code: 'template_variable_missing', details: [{ field: 'variables.user.first_name' }] });
  });

  it('lets an if test a variable that was not given', async () => {
    const t = await template('{% if coupon %}Code {{ coupon }}{% endif %}Bye');
    expect((await renderer.render(t, { name: 'x' })).text).toContain('Bye');
  });

  it('refuses Liquid syntax errors and unknown filters when the template is saved', async () => {
    expect(await problem(template('{% if %}'))).toMatchObject({ code: 'template_invalid_liquid', details: [{ field: 'mjml_content' }] });
    expect(await problem(template('x', { subject: '{{ a | nope }}' }))).toMatchObject({ code: 'template_invalid_liquid', details: [{ field: 'subject' }] });
  });

  it('refuses invalid MJML with the line of the problem', async () => {
    const error = await problem(
      renderer.compile({
        subject: 's',
        mjml: '<mjml><mj-body>\n<mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section></mj-body></mjml>',
        category: 'transactional',
        variablesSchema: {},
      }),
    );
    expect(error).toMatchObject({
      code: 'template_invalid_mjml',
      details: [{ field: 'mjml_content', message: expect.stringMatching(/^line 2: Attribute colour is illegal/) }],
    });
    expect(await problem(renderer.compile({ subject: 's', mjml: 'hello', category: 'transactional', variablesSchema: {} }))).toMatchObject({
      code: 'template_invalid_mjml',
    });
  });

  it('cannot read files through include or render', async () => {
    const t = await template('{% include "/etc/passwd" %}');
    expect(await problem(renderer.render(t, { name: 'x' }))).toMatchObject({ code: 'template_render_failed' });
  });

  it('checks variables against variables_schema and refuses reserved names', async () => {
    const t = await template('x', { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 5 } } } });
    expect(() => renderer.checkVariables(t, {})).toThrowError(
      expect.objectContaining({ code: 'template_variables_invalid', details: [expect.objectContaining({ field: 'variables.name' })] }),
    );
    expect(() => renderer.checkVariables(t, { name: 'far too long' })).toThrowError(expect.objectContaining({ code: 'template_variables_invalid' }));
    expect(() => renderer.checkVariables(t, { name: 'ok', unsubscribe_url: 'x' })).toThrowError(
      expect.objectContaining({ details: [expect.objectContaining({ field: 'variables.unsubscribe_url' })] }),
    );
    renderer.checkVariables(t, { name: 'ok' });
    expect(await problem(template('x', { schema: { type: 'nonsense' } }))).toMatchObject({
      code: 'validation_error',
      details: [{ field: 'variables_schema' }],
    });
  });

  it('adds the organization footer to marketing mail, in the organization language', async () => {
    const t = await template('News', { category: 'marketing', subject: 'News' });
    const out = await renderer.render(t, {
      organization: { name: 'Acme GmbH', postal_address: 'Hauptstr. 1\n10115 <Berlin>' },
      preference_center_url: 'https://api.test/u/tok',
      unsubscribe_url: 'https://api.test/u/tok',
      footer: footerStrings('de-DE', 'Acme GmbH'),
    });
    expect(out.html).toMatch(/Hauptstr. 1<br \/>\s*10115 &lt;Berlin&gt;/);
    expect(out.text).toContain('Sie erhalten diese E-Mail, weil Sie Nachrichten von Acme GmbH abonniert haben.');
    expect(out.text).toContain('Einstellungen verwalten (https://api.test/u/tok)');
    expect(out.text).toContain('Abmelden (https://api.test/u/tok)');
  });
});

describe('html to text', () => {
  it('drops head and comments, keeps paragraphs and decodes entities', () => {
    expect(htmlToText('<html><head><style>p{}</style></head><body><!--[if mso]>x<![endif]--><p>One &amp; two</p><p>Three<br>four</p></body></html>')).toBe(
      'One & two\n\nThree\nfour',
    );
  });
});
