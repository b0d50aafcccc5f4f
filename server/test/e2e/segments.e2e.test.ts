import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignOrganization, seedSubscribers } from '../campaigns/support.ts';
import { startWorker } from '../email/helpers.ts';
import { capture, mailTo, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * The segment builder in real Chromium against the real API: an owner builds a segment of two
 * conditions, sees its live count, makes it the audience of a campaign, sees the campaign's recipient
 * count, and sends a test to the dev mailbox. Also at a phone's width (390 px): nothing scrolls
 * sideways. Every state is scanned with axe-core.
 */
const SLOW = { timeout: 120_000 };
const TESTER = 'tester@segments-e2e.example';

let stack: AdminStack;
let worker: { close: () => Promise<void> };
let context: BrowserContext;
let page: Page;
let base: string;

const heading = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 1, name }).waitFor();

/** Whether the page is wider than the window (a sideways scroll bar). */
const scrollsSideways = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

beforeAll(async () => {
  stack = await startAdminStack();
  base = `${stack.origin}/admin`;
  worker = await startWorker(stack.ctx);
  const org = await campaignOrganization(stack.ctx, 'Segments E2E', 0);
  // 20 readers of the topic, 5 of them "vip-" addresses; 3 vip addresses outside the topic.
  await seedSubscribers(stack.ctx, org.id, org.tagId, 15, 'reader-');
  await seedSubscribers(stack.ctx, org.id, org.tagId, 5, 'vip-');
  const other = (await org.call('POST', '/api/v1/tags', { name: 'Offers' })).json() as { id: string };
  await seedSubscribers(stack.ctx, org.id, other.id, 3, 'vip-offers-');
  const session = await stack.ctx.createSession(org.id, 'owner');
  context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: 'sf_session', value: session.cookie.slice('sf_session='.length), url: stack.origin }]);
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await stack?.close();
});

describe('segments in the dashboard', SLOW, () => {
  it('builds a segment of two conditions and shows its live count before saving', async () => {
    await page.goto(`${base}/segments`);
    await heading(page, 'Segments');
    await page.getByText('No segments yet').waitFor();
    await capture(page, 'segments-01-empty');
    await page.getByRole('button', { name: 'New segment' }).click();
    await heading(page, 'New segment');
    await page.getByLabel('Name', { exact: true }).fill('VIP readers');

    // Condition 1: subscribed to the topic "News".
    const first = page.getByRole('group', { name: 'Condition 1' });
    await first.getByLabel('Field', { exact: true }).selectOption('tags');
    await first.getByRole('checkbox', { name: 'News' }).check();
    await page.locator('.live-count').filter({ hasText: '20 subscribers match now.' }).waitFor();

    // Condition 2: the email address starts with "vip".
    // The builder's buttons work from the keyboard: focus and Enter.
    await page.getByRole('button', { name: 'Add condition' }).focus();
    await page.keyboard.press('Enter');
    const second = page.getByRole('group', { name: 'Condition 2' });
    await second.getByLabel('Field', { exact: true }).selectOption('email');
    await second.getByLabel('Operator', { exact: true }).selectOption('prefix');
    await second.getByLabel('Value', { exact: true }).fill('vip');
    await page.locator('.live-count').filter({ hasText: '5 subscribers match now.' }).waitFor();
    await capture(page, 'segments-02-builder');

    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.getByRole('heading', { name: 'Newest members' }).waitFor();
    await page.getByRole('cell', { name: 'vip-1@example.com' }).waitFor();
    await capture(page, 'segments-03-saved');
  });

  it('makes the segment the audience of a campaign, states its count and sends a test', async () => {
    await page.goto(`${base}/campaigns`);
    await heading(page, 'Campaigns');
    await page
      .getByRole('button', { name: /New campaign|Create the first campaign/ })
      .first()
      .click();
    const dialog = page.getByRole('dialog', { name: 'New campaign' });
    await dialog.getByLabel('Name').fill('VIP preview');
    await dialog.getByLabel('Template').selectOption({ label: 'Newsletter' });
    await dialog.getByRole('button', { name: 'Create draft' }).click();
    await heading(page, 'VIP preview');

    await page.getByRole('radio', { name: 'A saved segment' }).check();
    await page.getByRole('combobox', { name: 'Segment' }).selectOption({ label: 'VIP readers' });
    await page.getByText('5 subscribers would get it now.').waitFor();
    await page.getByText('Not confirmed yet: 0').waitFor();
    await capture(page, 'segments-04-campaign-audience');

    const since = new Date(Date.now() - 1000);
    await page.getByLabel('Send a test to').fill(TESTER);
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('status').filter({ hasText: 'Test email sent to 1 address.' }).first().waitFor();
    const mail = await mailTo(stack.ctx, TESTER, since, 20_000);
    expect(mail.subject).toContain('News for');

    // Sending asks first and names the count.
    await page.getByRole('button', { name: 'Send now' }).click();
    const confirm = page.getByRole('alertdialog');
    await confirm.getByText('Send to 5 subscribers?').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
  });

  it('fits a phone: no sideways scroll on the segment editor and the campaign composer', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/segments`);
    await phone.getByRole('link', { name: 'VIP readers' }).click();
    await phone.locator('.live-count').filter({ hasText: '5 subscribers match now.' }).waitFor();
    await phone.getByRole('button', { name: 'Add group' }).first().click();
    expect(await scrollsSideways(phone)).toBe(false);
    await capture(phone, 'segments-05-phone-editor');
    // Back to the saved conditions, so leaving the page asks nothing.
    await phone.getByRole('button', { name: 'Remove group' }).click();
    await phone.goto(`${base}/campaigns`);
    await phone.getByRole('link', { name: 'VIP preview' }).click();
    await phone.getByText('5 subscribers would get it now.').waitFor();
    await phone.getByRole('radio', { name: 'Subscribers who match conditions' }).check();
    await phone.getByRole('group', { name: 'Condition 1' }).waitFor();
    expect(await scrollsSideways(phone)).toBe(false);
    await capture(phone, 'segments-06-phone-composer');
    await phone.close();
  });
});
