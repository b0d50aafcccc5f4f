import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { mjml } from '../email/helpers.ts';
import { dataLink } from '../preferences/helpers.ts';

// Issue 12, items 1 and 15: a read-only caller previewed a template with {{ unsubscribe_url }} for a
// subscriber, followed the link to a preference token, and erased the subscriber with it.

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let owner: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext({ PREFERENCES_APP_URL: 'https://prefs.example.com/' });
  org = await ctx.createOrganization('Previewers');
  owner = api(ctx, org.key);
});
afterAll(() => ctx.close());

async function subscriber(email: string): Promise<string> {
  const res = await owner('POST', '/api/v1/subscribers', { email, first_name: 'Pat', metadata: { plan: 'gold' } });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function template(): Promise<string> {
  const res = await owner('POST', '/api/v1/templates', {
    name: `Links ${Math.random()}`,
    subject: 'Hi',
    category: 'marketing',
    mjml_content: mjml('<a href="{{ unsubscribe_url }}">out</a> <a href="{{ preference_center_url }}">prefs</a> {{ subscriber.email }}'),
  });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

const linksIn = (html: string) => [...html.matchAll(/href="([^"]*\/u\/[^"]+)"/g)].map((m) => new URL(m[1]!.replace(/&amp;/g, '&')).pathname);
const preferenceToken = (location: string) => new URL(location).searchParams.get('token');
const prefs = (method: 'GET' | 'DELETE', path: string, token: string) =>
  ctx.app.inject({ method, url: `/api/v1/preference-center${path}?token=${encodeURIComponent(token)}` });

describe('template previews', () => {
  it('need subscribers:read to render a real subscriber; templates:read alone is refused', async () => {
    const [templateId, subscriberId] = await Promise.all([template(), subscriber('scoped@example.com')]);
    const templatesOnly = api(ctx, (await ctx.createKey(org.id, ['templates:read'])).key);
    const refused = await templatesOnly('POST', `/api/v1/templates/${templateId}/preview`, { subscriber_id: subscriberId });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('insufficient_scope');
    expect(refused.body).not.toContain('scoped@example.com');
    // A sample preview (no subscriber) still works with templates:read only.
    expect((await templatesOnly('POST', `/api/v1/templates/${templateId}/preview`, {})).statusCode).toBe(200);
    const both = api(ctx, (await ctx.createKey(org.id, ['templates:read', 'subscribers:read'])).key);
    const ok = await both('POST', `/api/v1/templates/${templateId}/preview`, { subscriber_id: subscriberId });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().html).toContain('scoped@example.com');
  });

  it('never carry a working link: /u/ refuses them, so a viewer cannot reach a preference token', async () => {
    const [templateId, subscriberId] = await Promise.all([template(), subscriber('viewed@example.com')]);
    const viewer = sessionApi(ctx, await ctx.createSession(org.id, 'viewer'));
    const preview = await viewer('POST', `/api/v1/templates/${templateId}/preview`, { subscriber_id: subscriberId });
    expect(preview.statusCode).toBe(200);
    const paths = linksIn(preview.json().html);
    expect(paths.length).toBeGreaterThanOrEqual(2);
    for (const path of paths) {
      const opened = await ctx.app.inject({ method: 'GET', url: path });
      expect(opened.statusCode).toBe(302);
      // The page for a broken link (it may name the organization, so a new link can be asked for), never a token.
      const landing = new URL(String(opened.headers.location));
      expect(landing.origin + landing.pathname).toBe('https://prefs.example.com/');
      expect(landing.searchParams.get('error')).toBe('invalid_link');
      expect(landing.searchParams.get('token')).toBeNull();
      const oneClick = await ctx.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(oneClick.statusCode).toBe(401);
    }
    expect((await owner('GET', `/api/v1/subscribers/${subscriberId}`)).json().status).toBe('active');
  });
});

describe('preference links from emails', () => {
  it('manage topics but cannot export or erase; a link emailed on request can', async () => {
    const subscriberId = await subscriber('forwarded@example.com');
    // The one-click link every marketing email carries, opened in a browser: a fresh preference token.
    const unsubscribeUrl = ctx.container.services.links.unsubscribeUrl(org.id, subscriberId);
    const opened = await ctx.app.inject({ method: 'GET', url: new URL(unsubscribeUrl).pathname });
    const fromEmail = preferenceToken(opened.headers.location as string)!;
    const view = await prefs('GET', '', fromEmail);
    expect(view.statusCode).toBe(200);
    expect(view.json().can_manage_data).toBe(false);
    for (const [method, path] of [
      ['GET', '/export'],
      ['DELETE', ''],
    ] as const) {
      const res = await prefs(method, path, fromEmail);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('fresh_link_required');
    }
    // Links minted through the API end up in emails too: topics only.
    const minted = (await owner('POST', `/api/v1/subscribers/${subscriberId}/preference-token`, {})).json().token as string;
    expect((await prefs('DELETE', '', minted)).statusCode).toBe(403);
    expect((await owner('GET', `/api/v1/subscribers/${subscriberId}`)).statusCode).toBe(200);

    const fresh = await dataLink(ctx, 'forwarded@example.com', org.slug);
    expect((await prefs('GET', '', fresh)).json().can_manage_data).toBe(true);
    expect((await prefs('GET', '/export', fresh)).statusCode).toBe(200);
    expect((await prefs('DELETE', '', fresh)).statusCode).toBe(204);
    expect((await owner('GET', `/api/v1/subscribers/${subscriberId}`)).statusCode).toBe(404);
  });
});
