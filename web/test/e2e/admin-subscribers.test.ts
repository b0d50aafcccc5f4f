import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMetrics } from '../../../server/src/metrics/registry.ts';
import { jobContext } from '../../../server/test/imports/helpers.ts';
import { adminCall, expectAccessible, screenshot, startStack, type Stack } from './support.ts';

/** The admin subscriber list in Chromium: search, filters, sorting, "all N matching" with progress, and a phone. */
let stack: Stack;
let org: { id: string; slug: string; key: string };
let cookie: { name: string; value: string };
const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

beforeAll(async () => {
  // The admin build goes next to the preference build the global setup made; the API serves both.
  await promisify(execFile)(
    path.join(web, '..', 'node_modules', '.bin', 'vite'),
    ['build', '--outDir', path.join(inject('webDist'), 'admin'), '--emptyOutDir', '--logLevel', 'error'],
    { cwd: web, env: { ...process.env, NODE_ENV: 'production', WEB_APP: 'admin' } },
  );
  stack = await startStack();
  org = await stack.ctx.createOrganization('Acme Lists');
  await adminCall(stack, org.key, 'POST', '/api/v1/tags', { name: 'Weekly digest' });
  await sql`
    insert into subscribers (id, organization_id, email, first_name, last_name, status, source, confirmed_at, created_at)
    select uuid_v7(), ${org.id}::uuid, 'reader' || g || '@example.com', 'Reader', 'Number ' || g, 'active', 'import', now(), now() - interval '1 hour'
    from generate_series(1, 120) g`.execute(stack.ctx.container.db);
  // The newest subscriber, on top of the first page.
  await adminCall(stack, org.key, 'POST', '/api/v1/subscribers', {
    email: 'ada.lovelace@analytical.example',
    first_name: 'Ada',
    last_name: 'Lovelace',
    tags: ['Events', 'Research', 'Offers', 'Beta'],
  });
  const session = await stack.ctx.createSession(org.id, 'admin');
  const [name, value] = session.cookie.split('=') as [string, string];
  cookie = { name, value };
}, 180_000);
afterAll(() => stack?.close());

async function open(width: number, height: number): Promise<Page> {
  const context = await stack.browser.newContext({ viewport: { width, height }, locale: 'en-US' });
  await context.addCookies([{ ...cookie, url: stack.origin }]);
  const page = await context.newPage();
  await page.goto(`${stack.origin}/admin/subscribers`);
  await page.getByRole('heading', { level: 1, name: 'Subscribers' }).waitFor();
  await page.getByRole('link', { name: 'ada.lovelace@analytical.example' }).waitFor();
  return page;
}

const scrollsSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

describe('the subscriber list in Chromium', () => {
  it('searches names, sorts by a heading, and tags all matching through one server job with progress', async () => {
    const page = await open(1280, 800);
    expect(await page.getByText('121 in total').count()).toBe(1);
    await expectAccessible(page, 'subscribers page');

    await page.getByRole('searchbox', { name: 'Search' }).fill('lovelace');
    await page.getByText('1 matching').waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill('number 1');
    await page.getByText('32 matching').waitFor();
    await page.getByRole('button', { name: /^Name/ }).click();
    await page.waitForURL(/sort=name/);
    await page.getByRole('columnheader', { name: /Name/ }).and(page.locator('[aria-sort="ascending"]')).waitFor();

    await page.getByRole('searchbox', { name: 'Search' }).fill('reader');
    await page.getByText('120 matching').waitFor();
    await page.getByLabel('Select all subscribers on this page').check();
    await page.getByRole('button', { name: 'Select all 120 matching' }).click();
    const bulk = page.getByRole('region', { name: 'Bulk actions' });
    await bulk.getByLabel('Tag for the selected subscribers').selectOption('weekly-digest');
    await bulk.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('status').filter({ hasText: 'Adding the tag' }).waitFor();
    await screenshot(page, 'admin-subscribers-bulk-progress');
    // The worker's part, run here: the job the request queued.
    const [action] = await stack.ctx.container.db.selectFrom('subscriber_bulk_actions').select('id').where('organization_id', '=', org.id).execute();
    await stack.ctx.container.jobHandlers(createMetrics('e2e-bulk'))['subscribers.bulk-action']({ bulk_action_id: action!.id }, jobContext(stack.ctx));
    await page.getByText('Done: 120 subscribers changed of 120 matching.').waitFor({ timeout: 10_000 });
    await page.goto(`${stack.origin}/admin/subscribers?tags_all=weekly-digest`);
    await page.getByText('120 matching').waitFor();
    await page.context().close();
  });

  it('shows compact card rows at 390 px without sideways scrolling', async () => {
    const page = await open(390, 844);
    expect(await scrollsSideways(page)).toBe(false);
    const row = page.getByRole('row').filter({ hasText: 'ada.lovelace@analytical.example' });
    expect(await row.evaluate((tr) => getComputedStyle(tr).display)).toBe('flex');
    await row
      .getByRole('list', { name: /^Tags:/ })
      .getByText('+1')
      .waitFor();
    // The tag filter panel opens within the screen too.
    await page.locator('summary', { hasText: 'Tags' }).click();
    await page.getByRole('checkbox', { name: 'Without Weekly digest' }).waitFor();
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'admin-subscribers-390');
    await expectAccessible(page, 'subscribers page at 390 px');
    await page.context().close();
  });
});
