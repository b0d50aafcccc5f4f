import { api, createTestContext, type TestContext } from '../support/context.ts';
import type { FakeResend } from '../support/fake-resend.ts';
import { mjml, resendConfig } from '../email/helpers.ts';

/** A clock the tests move: the automations read it instead of the system clock. */
export function testClock() {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

export async function automationContext(fake: FakeResend, clock: ReturnType<typeof testClock>): Promise<TestContext> {
  return createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', WORKER_LOCK_DURATION_MS: '1500' }), { now: clock.now });
}

/** An organization ready to send marketing mail: postal address, two marketing templates and a tag. */
export async function automationOrganization(ctx: TestContext, name: string) {
  const org = await ctx.createOrganization(name);
  const call = api(ctx, org.key);
  await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Example Street, Berlin' }).where('id', '=', org.id).execute();
  const template = async (slug: string, subject: string) => (await call('POST', '/api/v1/templates', {
    name: slug, slug, category: 'marketing', subject, mjml_content: mjml('Hello {{ subscriber.first_name | default: "reader" }}'),
  })).json().id as string;
  const welcome = await template(`${org.slug}-welcome`, 'Welcome');
  const tips = await template(`${org.slug}-tips`, 'Tips for you');
  const tag = (await call('POST', '/api/v1/tags', { name: 'Customer' })).json() as { id: string; slug: string };
  return { ...org, call, welcome, tips, tag };
}

export const DAY = 86_400_000;
