import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, waitFor } from '../email/helpers.ts';
import { api } from '../support/context.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';
import { capture, linkIn, mailTo, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * The webhooks page in real Chromium against the real API, worker, PostgreSQL and Redis: an owner adds
 * an endpoint on a local receiver, copies the secret shown once, and follows deliveries (an outbox event
 * and a test ping, both verified by the receiver with the standardwebhooks package) in the delivery log.
 */
const OWNER = 'owner@webhooks-e2e.example';
const SLOW = { timeout: 90_000 };

let stack: AdminStack;
let receiver: Receiver;
let worker: { close: () => Promise<void> };
let organization: { id: string; key: string };
let context: BrowserContext;
let page: Page;
let base: string;

beforeAll(async () => {
  receiver = await startReceiver();
  stack = await startAdminStack({ WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
  base = `${stack.origin}/admin`;
  worker = await startWorker(stack.ctx);
  const created = await stack.ctx.createOrganization('Webhooks E2E');
  await stack.ctx.createSession(created.id, 'owner', { email: OWNER });
  organization = { id: created.id, key: created.key };
  context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await stack?.close();
  await receiver?.close();
});

describe('the webhooks page', SLOW, () => {
  it('creates an endpoint with its secret shown once, and shows the deliveries the receiver verified', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/admin\/login/);
    const since = new Date(Date.now() - 1000);
    await page.getByLabel('Email address').fill(OWNER);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByText('Check your inbox.').waitFor();
    const mail = await mailTo(stack.ctx, OWNER, since);
    await page.goto(linkIn(mail.text, /http:\/\/127\.0\.0\.1:\d+\/admin\/login\/verify\?token=[\w-]+/));
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('No webhook endpoints').waitFor();
    await capture(page, 'webhooks-01-empty');

    await page.getByRole('button', { name: 'New endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'New webhook endpoint' });
    await dialog.getByLabel('URL').fill(receiver.url('/e2e'));
    await dialog.getByLabel('Description').fill('CRM sync');
    await capture(page, 'webhooks-02-new');
    await dialog.getByRole('button', { name: 'Create endpoint' }).click();
    const shown = page.getByTestId('webhook-secret');
    await shown.waitFor();
    const secret = (await shown.textContent())!;
    expect(secret).toMatch(/^whsec_/);
    receiver.expect('/e2e', secret);
    await capture(page, 'webhooks-03-secret');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page
      .getByRole('heading', { level: 3 })
      .filter({ hasText: receiver.url('/e2e') })
      .waitFor();
    expect(await page.getByText(secret).count()).toBe(0);

    // A change through the API reaches the receiver right after its commit; the test button sends a ping.
    expect((await api(stack.ctx, organization.key)('POST', '/api/v1/subscribers', { email: 'hooked@example.com' })).statusCode).toBe(201);
    await page.getByRole('button', { name: 'Send test' }).click();
    const got = await waitFor(() => (receiver.at('/e2e').length >= 2 ? receiver.at('/e2e') : null));
    expect(got.map((r) => r.verifyError)).toEqual([null, null]);
    expect(got.map((r) => r.event!.type).sort()).toEqual(['subscriber.created', 'webhook.test']);

    // Both attempts recorded (the receiver answers before the worker writes the log).
    const call = api(stack.ctx, organization.key);
    const endpointId = (await call('GET', '/api/v1/webhooks')).json().items[0].id as string;
    await waitFor(async () => {
      const items = (await call('GET', `/api/v1/webhooks/${endpointId}/deliveries`)).json().items as { status: string }[];
      return items.length === 2 && items.every((d) => d.status === 'succeeded');
    });
    // The test button opened the log; closed and opened again, it loads what is recorded now.
    const toggle = page.getByRole('button', { name: 'Deliveries' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await toggle.click();
    await toggle.click();
    const log = page.getByRole('region', { name: `Deliveries to ${receiver.url('/e2e')}` });
    const rows = log.locator('table.data-table tbody tr');
    await rows.filter({ hasText: 'webhook.test' }).getByText('succeeded').waitFor();
    await rows.filter({ hasText: 'subscriber.created' }).getByText('succeeded').waitFor();
    await rows.filter({ hasText: 'subscriber.created' }).getByRole('button', { name: 'Details' }).click();
    const detail = page.getByRole('dialog', { name: 'Delivery' });
    await detail.getByText('hooked@example.com').first().waitFor();
    await detail.getByRole('heading', { name: /^Attempt 1 · .* · 200 · \d+ ms$/ }).waitFor();
    await capture(page, 'webhooks-04-delivery');
  });
});
