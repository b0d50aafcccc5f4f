import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../email/helpers.ts';
import { api } from '../support/context.ts';
import { capture, linkIn, mailTo, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * The admin dashboard in real Chromium against the real API, PostgreSQL and Redis: an owner signs in
 * through the link in the dev mailbox and runs the organization; an invited viewer can look at
 * everything and change nothing. Every page is screenshotted (test-artifacts/admin/) and scanned with
 * axe-core; a serious or critical violation fails the test.
 */
const OWNER = 'owner@admin-e2e.example';
const VIEWER = 'viewer@admin-e2e.example';
const SLOW = { timeout: 90_000 };

let stack: AdminStack;
let worker: { close: () => Promise<void> };
let organization: { id: string; key: string };
let ownerContext: BrowserContext;
let page: Page;
let base: string;

const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
const heading = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 1, name }).waitFor();
const toast = (p: Page, text: string | RegExp) => p.getByRole('status').filter({ hasText: text }).first().waitFor();
const rows = (p: Page) => p.locator('table.data-table tbody tr');

async function signIn(p: Page, email: string) {
  await p.goto(`${base}/`);
  await p.waitForURL(/\/admin\/login/);
  await heading(p, 'Sign in');
  const since = new Date(Date.now() - 1000);
  await p.getByLabel('Email address').fill(email);
  await p.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await p.getByText('Check your inbox.').waitFor();
  // No provider is configured here: the page says where the link went.
  await p.getByText('No email provider is configured: the link is in the dev mailbox').waitFor();
  const mail = await mailTo(stack.ctx, email, since);
  await p.goto(linkIn(mail.text, /http:\/\/127\.0\.0\.1:\d+\/admin\/login\/verify\?token=[\w-]+/));
  await heading(p, 'Overview');
}

beforeAll(async () => {
  stack = await startAdminStack();
  base = `${stack.origin}/admin`;
  worker = await startWorker(stack.ctx);
  // An organization with an owner whose address can receive a sign-in link.
  const created = await stack.ctx.createOrganization('Admin E2E');
  await stack.ctx.createSession(created.id, 'owner', { email: OWNER });
  organization = { id: created.id, key: created.key };
  ownerContext = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ownerContext.newPage();
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await stack?.close();
});

describe('the admin dashboard, as the owner', SLOW, () => {
  it('signs in through the link from the dev mailbox and shows the overview', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/admin\/login/);
    await heading(page, 'Sign in');
    await capture(page, '01-login');
    await signIn(page, OWNER);
    expect(page.url()).toBe(`${base}/`);
    await page.getByText('All subscribers').waitFor();
    await page.getByRole('heading', { name: 'Growth' }).waitFor();
    await page.locator('svg.chart-svg').first().waitFor();
    await capture(page, '02-overview');
  });

  it('creates a tag in a dialog that holds focus and gives it back', async () => {
    await nav(page, 'Tags');
    await heading(page, 'Tags');
    await page.getByText('No tags yet').waitFor();
    await capture(page, '03-tags-empty');

    const open = page.getByRole('button', { name: 'New tag' });
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'New tag' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tag-name');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('New tag');

    await open.click();
    await dialog.getByLabel('Name', { exact: true }).fill('Weekly digest');
    await dialog.getByLabel('Category').fill('Newsletters');
    await dialog.getByLabel('Description', { exact: true }).fill('Every Monday');
    await capture(page, '04-tag-dialog');
    await dialog.getByRole('button', { name: 'Create tag' }).click();
    await toast(page, 'Tag Weekly digest created.');
    await rows(page).filter({ hasText: 'Weekly digest' }).waitFor();
    await capture(page, '05-tags');
  });

  it("creates a subscriber, showing the API's field errors, then edits it", async () => {
    await nav(page, 'Subscribers');
    await heading(page, 'Subscribers');
    await page.getByText('No subscribers yet').waitFor();
    await page.getByRole('link', { name: 'Add subscriber' }).click();
    await heading(page, 'Add subscriber');
    const email = page.getByLabel('Email address');
    await email.fill('not-an-email');
    await page.getByRole('button', { name: 'Add subscriber' }).click();
    await page.locator('#email-error').waitFor();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    await capture(page, '06-subscriber-form-errors');

    await email.fill('ada@example.com');
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Weekly digest').check();
    await page.getByLabel('Metadata (JSON)').fill('{"plan": "pro"}');
    await page.getByRole('button', { name: 'Add subscriber' }).click();
    await heading(page, 'ada@example.com');
    await page.getByText('Subscriber created').waitFor();
    expect(await page.getByRole('switch', { name: 'Weekly digest' }).isChecked()).toBe(true);
    await capture(page, '07-subscriber-detail');

    await page.getByRole('link', { name: 'Edit' }).click();
    await heading(page, 'Edit subscriber');
    await page.getByLabel('Last name').fill('Lovelace');
    await capture(page, '08-subscriber-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await heading(page, 'ada@example.com');
    await page.getByText('Ada Lovelace').first().waitFor();

    // Tag switches save at once and write consent history.
    await page.getByRole('switch', { name: 'Weekly digest' }).uncheck();
    await toast(page, 'Unsubscribed from the tag.');
    await page.getByText('Unsubscribed from Weekly digest').waitFor();
  });

  it('searches by email and filters by status and tag, and tags a selection in bulk', async () => {
    const call = api(stack.ctx, organization.key);
    const batch = await call('POST', '/api/v1/subscribers/batch', {
      subscribers: [
        { email: 'alice@example.com', tags: ['Weekly digest'] },
        { email: 'bob@example.com', status: 'unsubscribed' },
        { email: 'carol@example.com', status: 'pending' },
      ],
    });
    expect(batch.statusCode).toBe(200);

    await nav(page, 'Subscribers');
    await heading(page, 'Subscribers');
    await expect.poll(() => rows(page).count()).toBe(4);
    await capture(page, '09-subscribers');

    await page.getByLabel('Search', { exact: true }).fill('ali');
    await expect.poll(() => rows(page).allInnerTexts()).toEqual([expect.stringContaining('alice@example.com')]);
    expect(page.url()).toContain('q=ali');
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await expect.poll(() => rows(page).count()).toBe(4);

    // Status and tag choices sit in disclosure panels of the filter bar.
    const panel = (name: string) => page.locator('summary', { hasText: name });
    await panel('Status').click();
    await page.getByRole('checkbox', { name: 'Unsubscribed', exact: true }).check();
    await expect.poll(() => rows(page).allInnerTexts()).toEqual([expect.stringContaining('bob@example.com')]);
    await page.getByRole('checkbox', { name: 'Unsubscribed', exact: true }).uncheck();
    await panel('Status').click();
    await panel('Tags').click();
    await page.getByRole('checkbox', { name: 'Weekly digest', exact: true }).check();
    await expect.poll(() => rows(page).allInnerTexts()).toEqual([expect.stringContaining('alice@example.com')]);
    await page.getByRole('checkbox', { name: 'Weekly digest', exact: true }).uncheck();
    await panel('Tags').click();
    await expect.poll(() => rows(page).count()).toBe(4);

    await page.getByLabel('Select bob@example.com').check();
    await page.getByLabel('Select carol@example.com').check();
    await page.getByLabel('Tag for the selected subscribers').selectOption('weekly-digest');
    await capture(page, '10-subscribers-bulk');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await toast(page, 'Added Weekly digest to 2 subscribers.');
    await panel('Tags').click();
    await page.getByRole('checkbox', { name: 'Weekly digest', exact: true }).check();
    await expect.poll(() => rows(page).count()).toBe(3);
    await panel('Tags').click();

    // Tablet width: the navigation moves above the content and the table scrolls on its own.
    await page.setViewportSize({ width: 800, height: 1100 });
    await capture(page, '11-subscribers-tablet');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("copies a preference link, exports a subscriber's data as JSON, and erases the subscriber", async () => {
    await ownerContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.origin });
    await nav(page, 'Subscribers');
    await page.getByRole('link', { name: 'carol@example.com' }).click();
    await heading(page, 'carol@example.com');

    await page.getByRole('button', { name: 'Copy preference link' }).click();
    await toast(page, 'Preference link copied. It works for this subscriber only.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(new RegExp(`^${stack.origin}/preferences/\\?token=`));

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export data' }).click()]);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    expect(exported.subscriber.email).toBe('carol@example.com');
    expect(exported.consent_history.map((e: { action: string }) => e.action)).toContain('created');

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog', { name: 'Delete carol@example.com?' }).getByRole('button', { name: 'Delete for good' }).click();
    await heading(page, 'Subscribers');
    await toast(page, 'Subscriber erased.');
    expect((await api(stack.ctx, organization.key)('GET', '/api/v1/subscribers/by-email?email=carol%40example.com')).statusCode).toBe(404);
  });

  it('deletes a tag after saying how many subscribers lose it', async () => {
    const call = api(stack.ctx, organization.key);
    expect((await call('POST', '/api/v1/tags', { name: 'Old news' })).statusCode).toBe(201);
    await call('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'alice@example.com', tags: ['Old news'] }] });
    await nav(page, 'Tags');
    await rows(page).filter({ hasText: 'Old news' }).waitFor();
    await page.getByRole('button', { name: 'Delete Old news' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete the tag Old news?' });
    await confirm.getByText('1 subscriber is subscribed to it and will lose it.').waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await capture(page, '12-tag-delete-confirm');
    await confirm.getByRole('button', { name: 'Delete tag' }).click();
    await toast(page, 'Tag Old news deleted.');
    await expect.poll(() => rows(page).filter({ hasText: 'Old news' }).count()).toBe(0);
  });

  it('creates an API key shown once, which works until it is revoked', async () => {
    await nav(page, 'Settings');
    await heading(page, 'Settings');
    await capture(page, '13-settings-organization');
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('CI key');
    await capture(page, '14-api-key-dialog');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByTestId('new-api-key');
    await shown.waitFor();
    const key = (await shown.textContent())!;
    expect(key).toMatch(/^sf_live_/);
    expect((await api(stack.ctx, key)('GET', '/api/v1/tags')).statusCode).toBe(200);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await rows(page).filter({ hasText: 'CI key' }).waitFor();
    expect(await page.getByText(key).count()).toBe(0);
    await capture(page, '15-api-keys');

    await page.getByRole('button', { name: 'Revoke CI key' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke key' }).click();
    await toast(page, 'Key CI key revoked.');
    await rows(page).filter({ hasText: 'CI key' }).getByText('revoked').waitFor();
    expect((await api(stack.ctx, key)('GET', '/api/v1/tags')).statusCode).toBe(401);
  });

  it('edits a template and sees the preview follow the unsaved MJML, then saves it and sends a test to the dev mailbox', async () => {
    await nav(page, 'Templates');
    await heading(page, 'Templates');
    await capture(page, '16-templates-empty');
    await page.getByRole('button', { name: 'New template' }).click();
    const dialog = page.getByRole('dialog', { name: 'New template' });
    await dialog.getByLabel('Name').fill('Welcome');
    await dialog.getByLabel('Subject').fill('Hi {{ name }}');
    await dialog.getByRole('button', { name: 'Create and edit' }).click();
    await heading(page, 'Welcome');
    const frame = page.locator('iframe[title="Email preview"]');
    await expect.poll(() => frame.getAttribute('srcdoc'), { timeout: 15_000 }).toContain('Write your message here.');
    expect(await frame.getAttribute('sandbox')).toBe('');
    await expect.poll(() => page.getByTestId('preview-subject').textContent()).toBe('Hi Example name');

    // The preview renders the edit after a pause in typing, before anything is saved.
    const templateId = new URL(page.url()).pathname.split('/').at(-1)!;
    const stored = async () => (await api(stack.ctx, organization.key)('GET', `/api/v1/templates/${templateId}`)).json().mjml_content as string;
    const mjml = page.getByLabel('MJML');
    await mjml.fill((await mjml.inputValue()).replace('Write your message here.', 'Fresh words from the editor.'));
    await expect.poll(() => frame.getAttribute('srcdoc'), { timeout: 15_000 }).toContain('Fresh words from the editor.');
    await page.getByText('The preview shows your unsaved edits; a test email uses the saved version.').waitFor();
    expect(await stored()).toContain('Write your message here.');
    await page.getByRole('button', { name: 'Save template' }).click();
    await toast(page, 'Template saved.');
    await page.getByText('The preview follows your edits as you type.').waitFor();
    expect(await stored()).toContain('Fresh words from the editor.');
    // Sample variables re-render the preview after a pause in typing.
    await page.getByLabel('Sample variables (JSON)').fill('{"name": "Grace"}');
    await expect.poll(() => page.getByTestId('preview-subject').textContent(), { timeout: 15_000 }).toBe('Hi Grace');
    await capture(page, '17-template-editor');

    await page.getByRole('button', { name: 'Send test to me' }).click();
    await toast(page, /Test email on its way/);
    await nav(page, 'Dev mailbox');
    await heading(page, 'Dev mailbox');
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return page.getByRole('button', { name: /Hi Grace/ }).count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    await page
      .getByRole('button', { name: /Hi Grace/ })
      .first()
      .click();
    const message = page.locator('iframe[title="Message: [Test] Hi Grace"]');
    expect(await message.getAttribute('sandbox')).toBe('');
    expect(await message.getAttribute('srcdoc')).toContain('Fresh words from the editor.');
    // The headers a provider would get are shown, and markup namespaces are not listed as links.
    await page.getByText(/^Headers \(\d+\)$/).click();
    await page.locator('.message-view dt', { hasText: 'X-Entity-Ref-ID' }).waitFor();
    await page
      .getByText(/^Links in this message/)
      .click()
      .catch(() => undefined);
    expect(await page.locator('.message-view a[href*="w3.org"]').count()).toBe(0);
    await capture(page, '18-dev-mailbox');
  });

  it('shows the messages sent to a subscriber on their page', async () => {
    const call = api(stack.ctx, organization.key);
    const sent = await call('POST', '/api/v1/emails/send', { template_slug: 'welcome', to: 'ada@example.com', variables: { name: 'Ada' } });
    expect(sent.statusCode).toBe(202);
    await nav(page, 'Subscribers');
    await page.getByRole('link', { name: 'ada@example.com' }).click();
    await heading(page, 'ada@example.com');
    const messages = page.getByRole('region', { name: 'Messages sent' });
    await messages.locator('tbody tr').filter({ hasText: 'Hi Ada' }).filter({ hasText: 'Welcome' }).waitFor();
    await capture(page, '18b-subscriber-messages');
  });

  it('saves organization, sender and preference-center settings', async () => {
    await page.goto(`${base}/settings/organization`);
    await heading(page, 'Settings');
    await page.getByLabel('Postal address').fill('1 Main Street, Springfield');
    await page.getByRole('button', { name: 'Save organization' }).click();
    await toast(page, 'Organization saved.');
    // Campaigns go out on weekdays from 08:00 to 18:00, Berlin time.
    await page.getByLabel('Time zone').selectOption('Europe/Berlin');
    await page.getByLabel('Send campaigns only on certain days and hours').check();
    await page.getByLabel('Saturday').uncheck();
    await page.getByLabel('Sunday').uncheck();
    await page.getByLabel('From', { exact: true }).fill('08:00');
    await page.getByLabel('Until', { exact: true }).fill('18:00');
    await page.getByRole('button', { name: 'Save sending window' }).click();
    await toast(page, 'Sending window saved.');
    const stored = await stack.ctx.container.db
      .selectFrom('organizations')
      .select(['timezone', 'sending_window'])
      .where('id', '=', organization.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ timezone: 'Europe/Berlin', sending_window: { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' } });

    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Sender & domains' }).click();
    await page.getByLabel('Sender name').waitFor();
    await page.getByLabel('Sender name').fill('Admin E2E News');
    await page.getByRole('button', { name: 'Save sender' }).click();
    await toast(page, 'Sender saved.');
    await capture(page, '19-settings-email');

    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Preference center' }).click();
    await page.getByLabel('Page title (en)').fill('Your topics');
    await page.getByRole('switch', { name: 'Double opt-in' }).click();
    await page.getByLabel('Sites that may embed the preference center').fill('not an origin');
    await page.getByRole('button', { name: 'Save preference center' }).click();
    await page
      .locator('#embed-origins-error')
      .getByText(/Line 1/)
      .waitFor();
    await page.getByLabel('Sites that may embed the preference center').fill('https://www.example.com');
    await page.getByRole('button', { name: 'Save preference center' }).click();
    await toast(page, 'Preference center saved.');
    await capture(page, '20-settings-preference-center');
    await nav(page, 'Overview');
    await page.getByText('Subscribed to Weekly digest').first().waitFor();
    await page.getByRole('button', { name: '90 days' }).click();
    await page.getByText(/in the last 90 days/).waitFor();
    await capture(page, '20b-overview-with-data');
    const settings = (await api(stack.ctx, organization.key)('GET', '/api/v1/settings/preference-center')).json();
    expect(settings).toMatchObject({ embed_origins: ['https://www.example.com'], texts: { en: { title: 'Your topics' } } });
  });
});

describe('an invited viewer', SLOW, () => {
  let viewerContext: BrowserContext;
  let viewer: Page;

  it('is invited by the owner and accepts from the invitation email', async () => {
    await page.goto(`${base}/settings/members`);
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    const since = new Date(Date.now() - 1000);
    await page.getByLabel('Email address').fill(VIEWER);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await toast(page, `Invitation sent to ${VIEWER}.`);
    await rows(page).filter({ hasText: VIEWER }).waitFor();
    await capture(page, '21-settings-members');

    const mail = await mailTo(stack.ctx, VIEWER, since);
    const link = linkIn(mail.text, /http:\/\/127\.0\.0\.1:\d+\/admin\/invitations\/accept\?token=[\w-]+/);
    viewerContext = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
    viewer = await viewerContext.newPage();
    await viewer.goto(link);
    await heading(viewer, 'Join an organization');
    // The page names the organization, the role and who sent the invitation before anything is accepted.
    await viewer.getByText(/invited you to join Admin E2E as a viewer/).waitFor();
    await viewer
      .getByText(new RegExp(OWNER.replace('.', '\\.')))
      .first()
      .waitFor();
    await capture(viewer, '22-invitation-accept');
    await viewer.getByRole('button', { name: 'Accept invitation' }).click();
    await heading(viewer, 'Overview');
    await viewer.getByText('Viewer', { exact: true }).first().waitFor();
  });

  it('sees every page without a single write action, and the API refuses writes anyway', async () => {
    const mainNav = viewer.getByRole('navigation', { name: 'Main' });
    expect(await mainNav.getByRole('link', { name: 'Dev mailbox' }).count()).toBe(0);

    await nav(viewer, 'Subscribers');
    await expect.poll(() => rows(viewer).count()).toBe(3);
    expect(await viewer.getByRole('link', { name: 'Add subscriber' }).count()).toBe(0);
    expect(await viewer.getByRole('checkbox').count()).toBe(0);
    await capture(viewer, '23-viewer-subscribers');

    await viewer.getByRole('link', { name: 'ada@example.com' }).click();
    await heading(viewer, 'ada@example.com');
    for (const name of ['Edit', 'Delete', 'Copy preference link', 'Export data', 'Add note']) {
      expect(
        await viewer
          .getByRole('button', { name })
          .or(viewer.getByRole('link', { name, exact: true }))
          .count(),
        name,
      ).toBe(0);
    }
    expect(await viewer.getByRole('switch').count()).toBe(0);
    await capture(viewer, '24-viewer-subscriber');

    await nav(viewer, 'Tags');
    await rows(viewer).first().waitFor();
    expect(await viewer.getByRole('button', { name: /New tag|Edit|Delete/ }).count()).toBe(0);

    await nav(viewer, 'Templates');
    await rows(viewer).first().waitFor();
    expect(await viewer.getByRole('button', { name: 'New template' }).count()).toBe(0);
    await viewer.getByRole('link', { name: 'Welcome' }).click();
    await heading(viewer, 'Welcome');
    expect(await viewer.getByRole('button', { name: /Save template|Archive/ }).count()).toBe(0);
    expect(await viewer.getByLabel('MJML').isDisabled()).toBe(true);

    await nav(viewer, 'Settings');
    await heading(viewer, 'Settings');
    expect(await viewer.getByLabel('Name').isDisabled()).toBe(true);
    expect(await viewer.getByRole('button', { name: /Save|Delete/ }).count()).toBe(0);
    const tabs = viewer.getByRole('navigation', { name: 'Settings' });
    expect(await tabs.getByRole('link', { name: /API keys|Audit log|Preference center/ }).count()).toBe(0);
    await capture(viewer, '25-viewer-settings');

    await viewer.goto(`${base}/settings/api-keys`);
    await viewer.getByText('Not available with your role').waitFor();

    // The interface hides write actions; the API is what enforces the role.
    const status = await viewer.evaluate(
      async () =>
        (
          await fetch('/api/v1/tags', {
            method: 'POST',
            credentials: 'include',
            headers: { 'content-type': 'application/json', 'x-requested-with': 'subscribe-flow' },
            body: JSON.stringify({ name: 'Sneaky' }),
          })
        ).status,
    );
    expect(status).toBe(403);
    await viewerContext.close();
  });
});

describe("the owner's remaining pages", SLOW, () => {
  it('filters the audit log, lists sessions and revokes another one, then signs out', async () => {
    await page.goto(`${base}/settings/audit-log`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Action').fill('tag.create');
    await expect.poll(() => rows(page).count()).toBe(2);
    await page.getByLabel('Member').selectOption({ label: OWNER });
    await expect.poll(() => rows(page).allInnerTexts()).toEqual([expect.stringMatching(new RegExp(`${OWNER}\\s+tag\\.create`))]);
    await capture(page, '26-settings-audit-log');

    await page.getByRole('link', { name: OWNER }).click();
    await heading(page, 'Your account');
    // Two sessions: this browser's, and the one the test made when it created the owner.
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    await capture(page, '27-account');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'End session' }).click();
    await toast(page, 'Session ended.');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);

    await page.goto(`${base}/no/such/page`);
    await heading(page, 'Page not found');
    await capture(page, '28-not-found');

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await heading(page, 'Sign in');
    await page.goto(`${base}/subscribers`);
    await page.waitForURL(/\/admin\/login\?next=%2Fsubscribers/);
  });

  it('explains a spent or broken sign-in link', async () => {
    await page.goto(`${base}/login/verify?token=${'x'.repeat(43)}`);
    await page.getByText('This sign-in link does not work.').waitFor();
    await capture(page, '29-verify-invalid');
    await ownerContext.close();
  });
});
