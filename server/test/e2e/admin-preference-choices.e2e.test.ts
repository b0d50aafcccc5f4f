import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/context.ts';
import { capture, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * What admins decide about their preference center, in the dashboard at phone and desktop width: the
 * order of topics and categories, German topic names, the privacy and imprint links of the footer, and
 * the read-only preview. Each state is screenshotted and scanned with axe-core.
 */
const SLOW = { timeout: 180_000 };

let stack: AdminStack;
let base: string;

beforeAll(async () => {
  stack = await startAdminStack();
  base = `${stack.origin}/admin`;
}, 180_000);
afterAll(() => stack?.close());

const sidewaysScroll = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

async function settle(p: Page) {
  await p.getByRole('heading', { level: 1 }).first().waitFor();
  await p
    .locator('.state--loading')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
  await p.waitForLoadState('networkidle');
}

describe.each([
  ['phone', { width: 390, height: 844 }],
  ['desktop', { width: 1280, height: 800 }],
] as const)('preference-center choices in the admin on a %s', (label, viewport) => {
  let page: Page;
  let organization: { id: string; key: string };
  let call: ReturnType<typeof api>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    organization = await stack.ctx.createOrganization(`Choices ${label}`);
    call = api(stack.ctx, organization.key);
    for (const tag of [{ name: 'Weekly digest', category: 'Newsletters' }, { name: 'Product updates', category: 'Product' }, { name: 'Events' }]) {
      const res = await call('POST', '/api/v1/tags', tag);
      ids[res.json().slug] = res.json().id;
    }
    const session = await stack.ctx.createSession(organization.id, 'owner');
    const context = await stack.browser.newContext({ viewport, ...(label === 'phone' ? { isMobile: true, hasTouch: true } : {}) });
    const cookie = session.cookie.split('=');
    await context.addCookies([{ name: cookie[0]!, value: cookie.slice(1).join('='), url: stack.origin }]);
    page = await context.newPage();
  });
  afterAll(() => page?.context().close());

  it('orders categories and topics with buttons, and the preference center follows', SLOW, async () => {
    await page.goto(`${base}/tags`);
    await settle(page);
    await page.getByRole('button', { name: 'Order in preference center' }).click();
    const dialog = page.getByRole('dialog', { name: 'Order in the preference center' });
    await dialog.getByText('Newsletters').waitFor();
    expect(await sidewaysScroll(page)).toBe(0);
    await capture(page, `choices-order-dialog-${label}`);
    await dialog.getByRole('button', { name: 'Move category Product up' }).click();
    await dialog.getByText('Product moved up.').waitFor();
    await dialog.getByRole('button', { name: 'Save order' }).click();
    await page.getByRole('status').filter({ hasText: 'Order saved.' }).first().waitFor();
    const tags = (await call('GET', '/api/v1/tags')).json().items as { slug: string; position: number }[];
    const position = Object.fromEntries(tags.map((t) => [t.slug, t.position]));
    expect(position['product-updates']).toBeLessThan(position['weekly-digest']!);
    expect(position['weekly-digest']).toBeLessThan(position['events']!);
  });

  it('saves a German topic name from the tag dialog', SLOW, async () => {
    await page.goto(`${base}/tags`);
    await settle(page);
    await page.getByRole('button', { name: 'Edit Weekly digest' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('German name').fill('Wochenbrief');
    await dialog.getByLabel('German description').fill('Jeden Montag');
    expect(await sidewaysScroll(page)).toBe(0);
    await capture(page, `choices-tag-german-${label}`);
    await dialog.getByRole('button', { name: 'Save tag' }).click();
    await page.getByRole('status').filter({ hasText: 'Tag Weekly digest saved.' }).first().waitFor();
    expect((await call('GET', `/api/v1/tags/${ids['weekly-digest']}`)).json().translations).toEqual({
      de: { name: 'Wochenbrief', description: 'Jeden Montag' },
    });
  });

  it('takes privacy and imprint links, https only', SLOW, async () => {
    await page.goto(`${base}/settings/organization`);
    await settle(page);
    await page.getByLabel('Privacy policy page').fill('http://choices.example/privacy');
    await page.getByRole('button', { name: 'Save organization' }).click();
    await page.getByText('Enter a full address starting with https://').first().waitFor();
    await capture(page, `choices-org-links-error-${label}`);
    await page.getByLabel('Privacy policy page').fill('https://choices.example/privacy');
    await page.getByLabel('Imprint page').fill('https://choices.example/imprint');
    await page.getByRole('button', { name: 'Save organization' }).click();
    await page.getByRole('status').filter({ hasText: 'Organization saved.' }).first().waitFor();
    expect(await sidewaysScroll(page)).toBe(0);
    const saved = await stack.ctx.container.db
      .selectFrom('organizations')
      .select(['privacy_url', 'imprint_url'])
      .where('id', '=', organization.id)
      .executeTakeFirstOrThrow();
    expect(saved).toEqual({ privacy_url: 'https://choices.example/privacy', imprint_url: 'https://choices.example/imprint' });
  });

  it('opens a read-only preview of the preference center in a new tab', SLOW, async () => {
    await page.goto(`${base}/settings/preference-center`);
    await settle(page);
    expect(await sidewaysScroll(page)).toBe(0);
    await capture(page, `choices-preview-button-${label}`);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Preview the preference center' }).click()]);
    await popup.waitForURL(/\/preferences\/\?token=/);
    const token = new URL(popup.url()).searchParams.get('token')!;
    await popup.close();
    const view = await stack.ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${encodeURIComponent(token)}` });
    expect(view.json()).toMatchObject({ preview: true, subscriber: { email: 'subscriber@example.com' } });
    const write = await stack.ctx.app.inject({
      method: 'PUT',
      url: `/api/v1/preference-center/tags/${ids['events']}?token=${encodeURIComponent(token)}`,
      payload: { subscribed: true },
    });
    expect(write.statusCode).toBe(401);
    await page.getByRole('link', { name: 'unsubscribe card' }).waitFor();
  });
});
