import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { messageRow, mjml, startWorker, waitFor } from './helpers.ts';

// The first hour on a machine without an email provider: what the dev mailbox shows, what the sign-in
// page is told, and where the API's own address leads.

let ctx: TestContext;
let call: ReturnType<typeof api>;
let asAdmin: ReturnType<typeof sessionApi>;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_APP_URL: 'http://localhost:3000/admin' });
  const org = await ctx.createOrganization('Acme');
  call = api(ctx, org.key);
  asAdmin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
  await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Main Street' }).where('id', '=', org.id).execute();
  worker = await startWorker(ctx);
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
});

describe('the dev mailbox', () => {
  it('shows the headers a message was sent with, and lists only links a reader can click', async () => {
    await call('POST', '/api/v1/templates', {
      name: 'News',
      slug: 'news',
      category: 'marketing',
      subject: 'News',
      mjml_content: mjml('Read <a href="https://acme.example/post">the post</a>.'),
    });
    const subscriber = (await call('POST', '/api/v1/subscribers', { email: 'reader@example.com' })).json();
    const id = (await call('POST', '/api/v1/emails/send', { template_slug: 'news', to: subscriber.id })).json().id as string;
    await waitFor(async () => (await messageRow(ctx, id)).status === 'sent');
    const [message] = (await asAdmin('GET', '/api/v1/dev/mailbox?to=reader@example.com')).json().items;
    expect(message.headers).toMatchObject({
      'List-Unsubscribe': expect.stringMatching(/^<http:\/\/localhost:3000\/u\//),
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'X-Entity-Ref-ID': `m.${id}`,
    });
    expect(message.links).toContain('https://acme.example/post');
    expect(message.links.some((l: string) => l.includes('/u/'))).toBe(true);
    // The HTML's XML namespaces are not links.
    expect(message.html).toContain('http://www.w3.org/1999/xhtml');
    expect(message.links.filter((l: string) => l.includes('w3.org') || l.includes('schemas-microsoft'))).toEqual([]);
  });

  it('tells the sign-in page that the link is in the dev mailbox', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/magic-link', payload: { email: 'someone@example.com' } });
    expect(res.statusCode).toBe(202);
    expect(res.json().dev_mailbox).toBe(true);
  });
});

describe("the API's own address", () => {
  it('sends a person opening it to the dashboard', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('http://localhost:3000/admin');
  });
});
