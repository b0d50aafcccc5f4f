import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/context.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { capture, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * The import wizard in Chromium on a phone-sized screen (390 px), against the real API, PostgreSQL,
 * Redis and a worker running the import jobs: choose a file, map its columns, check it (dry run with
 * exact counts and the first rows), import it, follow the progress through a page reload, read the
 * report and download the errors file; cancel an import that waits; the list of imports.
 */
const PHONE = { width: 390, height: 844 };

let stack: AdminStack;
let worker: Awaited<ReturnType<typeof startWorker>> | null = null;
let context: BrowserContext;
let page: Page;
let base: string;
let organization: { id: string; slug: string; key: string };
let ownerEmail: string;

// Semicolon separated, Latin-1 (a German export from a spreadsheet),
// a quoted delimiter, an invalid address, a duplicate and someone who already unsubscribed.
const CSV = Buffer.from(
  [
    'E-Mail;Vorname;Nachname;Plan',
    'anna@example.com;Anna;Müller;pro',
    'ben@example.com;Ben;"Groß; Jr.";free',
    'not-an-address;Carl;Klein;free',
    'ANNA@example.com;Anna;Doppelt;pro',
    'gone@example.com;Gina;Weg;free',
    'dora@example.com;Dora;Schön;pro',
    '',
  ].join('\r\n'),
  'latin1',
);

async function pageOverflow(p: Page): Promise<number> {
  return p.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - document.documentElement.clientWidth);
}

beforeAll(async () => {
  stack = await startAdminStack();
  base = `${stack.origin}/admin`;
  organization = await stack.ctx.createOrganization('Import wizard');
  const session = await stack.ctx.createSession(organization.id, 'owner', { email: 'importer@wizard-e2e.example' });
  ownerEmail = session.email;
  const call = api(stack.ctx, organization.key);
  const gone = await call('POST', '/api/v1/subscribers', { email: 'gone@example.com', first_name: 'Gina' });
  expect(gone.statusCode, gone.body).toBe(201);
  const unsubscribed = await call('PATCH', `/api/v1/subscribers/${gone.json().id}`, { status: 'unsubscribed' });
  expect(unsubscribed.statusCode, unsubscribed.body).toBe(200);
  worker = await startWorker(stack.ctx, { queues: ['sync'] });

  context = await stack.browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, acceptDownloads: true });
  // The download goes through the plain-link fallback (a save dialog cannot be answered headless).
  await context.addInitScript(() => {
    delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  const [name, ...value] = session.cookie.split('=');
  await context.addCookies([{ name: name!, value: value.join('='), url: stack.origin }]);
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await context?.close();
  await worker?.close();
  await stack?.close();
});

describe('import wizard', () => {
  it('checks, imports and reports a file, and keeps following the import after a reload', async () => {
    await page.goto(`${base}/subscribers`);
    await page.getByRole('link', { name: 'Import CSV' }).click();
    await page.getByRole('heading', { level: 1, name: 'Import subscribers' }).waitFor();
    await page.getByText('No imports yet').waitFor();
    await capture(page, 'import-empty');

    await page.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'kunden.csv', mimeType: 'text/csv', buffer: CSV });
    await expect.poll(() => page.getByTestId('detected').textContent()).toContain('semicolon separated · Latin-1');
    // Known German headers are matched; the unknown one becomes a custom field.
    expect(await page.getByLabel('Where “E-Mail” goes').inputValue()).toBe('email');
    expect(await page.getByLabel('Where “Vorname” goes').inputValue()).toBe('first_name');
    expect(await page.getByLabel('Where “Nachname” goes').inputValue()).toBe('last_name');
    expect(await page.getByLabel('Where “Plan” goes').inputValue()).toBe('metadata');
    await page.getByText('Müller').waitFor();
    // Without an email column the check is refused with a reason.
    await page.getByLabel('Where “E-Mail” goes').selectOption('ignore');
    await page.getByText('Choose the column that holds the email.').waitFor();
    await page.getByLabel('Where “E-Mail” goes').selectOption('email');
    await page.getByLabel('Custom field name for “Plan”').fill('plan');
    await page.getByLabel('Tags to add to every row').fill('Imported 2026');
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await capture(page, 'import-mapping');

    await page.getByRole('button', { name: 'Check the file' }).click();
    await page.getByRole('heading', { name: 'Check finished' }).waitFor({ timeout: 30_000 });
    expect(page.url()).toMatch(/\/subscribers\/import\?id=[0-9a-f-]{36}$/);
    const counts = page.getByRole('definition');
    const dryRun = await page.locator('.import-counts').innerText();
    expect(dryRun).toMatch(/Would create\s+3/);
    expect(dryRun).toMatch(/Would skip\s+2/);
    expect(dryRun).toMatch(/Invalid rows\s+1/);
    expect(dryRun).toMatch(/Rows in the file\s+6/);
    expect(await counts.count()).toBe(6);
    await page.getByText('1 skipped: appears earlier in the file').waitFor();
    await page
      .getByText('1 skipped: on the suppression list')
      .or(page.getByText(/1 skipped: already a subscriber/))
      .waitFor();
    await page.getByRole('cell', { name: 'Ben Groß; Jr.' }).waitFor();
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await capture(page, 'import-dry-run');
    // Nothing was written by the check.
    expect((await api(stack.ctx, organization.key)('GET', '/api/v1/subscribers/by-email?email=anna@example.com')).statusCode).toBe(404);

    await page.getByRole('button', { name: 'Import 3 subscribers' }).click();
    await page.reload();
    await page.getByRole('heading', { name: 'Import finished' }).waitFor({ timeout: 30_000 });
    const report = await page.locator('.import-counts').innerText();
    expect(report).toMatch(/Created\s+3/);
    expect(report).toMatch(/Invalid rows\s+1/);
    await capture(page, 'import-report');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download the rows not imported (errors.csv)' }).click();
    const file = await download;
    const errors = await new Promise<string>((resolve, reject) => {
      void file.createReadStream().then((stream) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        stream.on('error', reject);
      }, reject);
    });
    expect(errors).toContain('invalid_email');
    expect(errors).toContain('duplicate_in_file');
    expect(errors).not.toContain('not-an-address');

    const call = api(stack.ctx, organization.key);
    const anna = (await call('GET', '/api/v1/subscribers/by-email?email=anna@example.com')).json();
    expect(anna).toMatchObject({ first_name: 'Anna', last_name: 'Müller', status: 'active', metadata: { plan: 'pro' } });
    expect(anna.tags.map((t: { name: string }) => t.name)).toEqual(['Imported 2026']);
    const gone = (await call('GET', '/api/v1/subscribers/by-email?email=gone@example.com')).json();
    expect(gone.status).toBe('unsubscribed');

    // The list names who started it.
    const row = page.getByRole('row').filter({ hasText: 'kunden.csv' });
    await row.getByText(ownerEmail).first().waitFor();
    await row.getByText('completed').first().waitFor();
  }, 120_000);

  it('cancels an import that waits for the worker', async () => {
    await worker?.close();
    worker = null;
    await page.goto(`${base}/subscribers/import`);
    await page
      .getByLabel('CSV file', { exact: true })
      .setInputFiles({ name: 'later.csv', mimeType: 'text/csv', buffer: Buffer.from('email\nlater@example.com\n') });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await page.getByRole('heading', { name: 'Checking the file…' }).waitFor();
    await page.getByText('time left not known yet').waitFor();
    await page.getByRole('button', { name: 'Cancel import' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel import' }).click();
    await page.getByRole('heading', { name: 'Check cancelled' }).waitFor();
    await page.getByText('This import was cancelled; nothing of it was imported.').waitFor();
    const id = new URL(page.url()).searchParams.get('id')!;
    const status = await waitFor(async () => {
      const res = await api(stack.ctx, organization.key)('GET', `/api/v1/subscribers/imports/${id}`);
      return res.json().status === 'cancelled' ? 'cancelled' : null;
    });
    expect(status).toBe('cancelled');
    await capture(page, 'import-cancelled');
  }, 60_000);

  it('explains a file without an email column', async () => {
    await page.goto(`${base}/subscribers/import`);
    await page
      .getByLabel('CSV file', { exact: true })
      .setInputFiles({ name: 'names.csv', mimeType: 'text/csv', buffer: Buffer.from('name,city\nAnna,Berlin\n') });
    await page.getByText('Choose the column that holds the email.').waitFor();
    // Refused in the browser: nothing can be uploaded until a column holds the email.
    expect(await page.getByRole('button', { name: 'Check the file' }).getAttribute('aria-disabled')).toBe('true');
    await page.getByLabel('Where “name” goes').selectOption('email');
    expect(await page.getByRole('button', { name: 'Check the file' }).getAttribute('aria-disabled')).toBeNull();
    expect(page.url()).not.toContain('id=');
  }, 60_000);
});
