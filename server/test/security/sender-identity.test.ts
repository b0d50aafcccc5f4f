import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { mjml } from '../email/helpers.ts';

// Issue 12, item 14: a display name cannot show another address, and without a provider that verifies
// domains (dev mailbox, SMTP) an organization sends only from the platform's own domain.

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let owner: ReturnType<typeof sessionApi>;

beforeAll(async () => {
  ctx = await createTestContext({ EMAIL_DEFAULT_FROM: 'Platform <mail@platform.example>' });
  org = await ctx.createOrganization('Sender Test');
  owner = sessionApi(ctx, await ctx.createSession(org.id, 'owner'));
});
afterAll(() => ctx.close());

describe('sender identity', () => {
  it('refuses display names with quotes, angle brackets or @', async () => {
    for (const name of ['Bank "Security" <security@bank.example>', 'Security <x>', 'security@bank.example', 'Back\\slash']) {
      const settings = await owner('PATCH', '/api/v1/settings/email', { from_name: name });
      expect(settings.statusCode, name).toBe(422);
      expect(settings.json().error.details[0].field).toContain('from_name');
      const organization = await owner('PATCH', '/api/v1/organizations/current', { email_from_name: name });
      expect(organization.statusCode, name).toBe(422);
    }
    expect((await owner('PATCH', '/api/v1/settings/email', { from_name: 'Sender Test News' })).statusCode).toBe(200);
  });

  it('allows only the platform sending domain when the provider cannot verify domains', async () => {
    const refused = await owner('PATCH', '/api/v1/settings/email', { from_email: 'ceo@bank.example' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({ code: 'sender_domain_not_allowed', details: [{ field: 'from_email' }] });
    const allowed = await owner('PATCH', '/api/v1/settings/email', { from_email: 'news@platform.example' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().effective_from).toBe('"Sender Test News" <news@platform.example>');
    const viaOrganization = await owner('PATCH', '/api/v1/organizations/current', { email_from_address: 'ceo@bank.example' });
    expect(viaOrganization.statusCode).toBe(422);
    expect(viaOrganization.json().error).toMatchObject({ code: 'sender_domain_not_allowed', details: [{ field: 'email_from_address' }] });
  });

  it('ignores a stored spoofing name or foreign address when sending', async () => {
    await ctx.container.db
      .updateTable('organizations')
      .set({ email_from_name: 'Bank "Security" <security@bank.example>', email_from_address: 'security@bank.example' })
      .where('id', '=', org.id)
      .execute();
    const call = api(ctx, org.key);
    expect((await call('POST', '/api/v1/templates', { name: 'Note', slug: 'note', subject: 'Note', mjml_content: mjml('Hello') })).statusCode).toBe(201);
    const sent = await call('POST', '/api/v1/emails/send', { template_slug: 'note', to: 'reader@example.com' });
    expect(sent.statusCode).toBe(202);
    const row = await ctx.container.db.selectFrom('email_messages').select('from_address').where('id', '=', sent.json().id).executeTakeFirstOrThrow();
    expect(row.from_address).toBe('"Bank Security security bank.example" <mail@platform.example>');
  });
});
