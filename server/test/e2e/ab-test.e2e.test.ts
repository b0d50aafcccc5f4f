import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignOrganization } from '../campaigns/support.ts';
import { startWorker } from '../email/helpers.ts';
import { capture, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * The A/B test in real Chromium against the real API and worker: an owner sets up two subject variants
 * on a draft campaign, sends it, watches the test share go out, chooses the winner by hand and sees the
 * campaign finish. Also at a phone's width: nothing scrolls sideways. Every state is scanned with axe-core.
 */
const SLOW = { timeout: 180_000 };

let stack: AdminStack;
let worker: { close: () => Promise<void> };
let context: BrowserContext;
let page: Page;
let base: string;
let campaignId: string;

const scrollsSideways = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

beforeAll(async () => {
  stack = await startAdminStack();
  base = `${stack.origin}/admin`;
  worker = await startWorker(stack.ctx);
  const org = await campaignOrganization(stack.ctx, 'AB E2E', 20);
  const created = await org.call('POST', '/api/v1/campaigns', {
    name: 'Spring letter',
    template_id: org.templateId,
    tag_filter: { include_tags: [org.tagId] },
  });
  campaignId = created.json().id as string;
  const session = await stack.ctx.createSession(org.id, 'owner');
  context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: 'sf_session', value: session.cookie.slice('sf_session='.length), url: stack.origin }]);
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await stack?.close();
});

describe('A/B tests in the dashboard', SLOW, () => {
  it('sets up two variants in the composer, sends the test share, and sends the winner chosen by hand to the rest', async () => {
    await page.goto(`${base}/campaigns/${campaignId}`);
    await page.getByRole('heading', { level: 1, name: 'Spring letter' }).waitFor();
    await page.getByText('20 subscribers would get it now.').waitFor();
    await page.getByRole('checkbox', { name: /Test variants before sending to everyone/ }).check();
    await page.getByLabel('Subject of variant A').fill('Spring is here');
    await page.getByLabel('Subject of variant B').fill('Our April letter');
    await page.getByLabel('Test share (%)').fill('50');
    await page.getByRole('combobox', { name: 'Winner', exact: true }).selectOption('manual');
    await capture(page, 'ab-01-setup');
    await page.getByRole('button', { name: 'Save A/B test' }).click();
    await page.getByRole('status').filter({ hasText: 'A/B test saved.' }).first().waitFor();

    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Send to 20' }).click();
    await page.getByText(/The variants are sent\. Test results are final at .*; choose the winner below/).waitFor({ timeout: 60_000 });
    const table = page.getByRole('table', { name: 'Results per variant' });
    await table.getByRole('row', { name: /Our April letter/ }).waitFor();
    await page.getByText(/10 waiting for the winner/).waitFor();
    await capture(page, 'ab-02-waiting');

    await table.getByRole('button', { name: 'Choose B as winner' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Choose variant B' }).click();
    await page.getByText(/Variant B won \(chosen by hand/).waitFor({ timeout: 60_000 });
    await page.getByText(/20 sent of 20/).waitFor({ timeout: 60_000 });
    await capture(page, 'ab-03-decided');
    const subjects = await stack.ctx.container.db.selectFrom('email_messages').select(['subject']).where('campaign_id', '=', campaignId).execute();
    expect(subjects.filter((s) => s.subject === 'Our April letter')).toHaveLength(15);
    expect(subjects.filter((s) => s.subject === 'Spring is here')).toHaveLength(5);
  });

  it('fits a phone: the results table scrolls inside its frame, the page does not', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/campaigns/${campaignId}`);
    await phone.getByRole('table', { name: 'Results per variant' }).waitFor();
    expect(await scrollsSideways(phone)).toBe(false);
    await capture(phone, 'ab-04-phone-results');
    await phone.close();
  });
});
