import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, expectAccessible, screenshot, startStack, type Stack } from './support.ts';

// What the organization's admins decide about their preference center, as a subscriber's browser shows
// it: the topics' order and their names in the subscriber's language, the footer, the unsubscribe card
// of a campaign email ("this topic only" or everything), and the admins' read-only preview.

let stack: Stack;
let org: { id: string; slug: string; key: string };
const ids: Record<string, string> = {};

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

beforeAll(async () => {
  stack = await startStack();
  org = await stack.ctx.createOrganization('Choice News');
  for (const tag of [
    { name: 'Weekly digest', category: 'Newsletters', description: 'Every Monday', translations: { de: { name: 'Wochenbrief', description: 'Jeden Montag' } } },
    { name: 'Product updates', category: 'Product' },
    { name: 'Breaking news', category: 'Newsletters' },
    { name: 'Events' },
  ]) {
    const created = await adminCall(stack, org.key, 'POST', '/api/v1/tags', tag);
    ids[created.slug] = created.id;
  }
  // Product first, then the newsletters with breaking news on top.
  await adminCall(stack, org.key, 'PUT', '/api/v1/tags/order', {
    tag_ids: [ids['product-updates'], ids['breaking-news'], ids['weekly-digest'], ids['events']],
  });
  await stack.ctx.container.db
    .updateTable('organizations')
    .set({ postal_address: 'Hauptstraße 1\n10115 Berlin', privacy_url: 'https://choice.example/privacy', imprint_url: 'https://choice.example/imprint' })
    .where('id', '=', org.id)
    .execute();
});
afterAll(() => stack?.close());

async function subscriber(email: string, tags: string[]) {
  const created = await adminCall(stack, org.key, 'POST', '/api/v1/subscribers', { email, tags });
  const { url } = await adminCall(stack, org.key, 'POST', `/api/v1/subscribers/${created.id}/preference-token`, {});
  return { id: created.id as string, url: url as string };
}

const legends = (page: Page) => page.locator('legend.pc-legend').allTextContents();
const noSidewaysScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe.each([
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const)('the preference center on a %s', (label, device) => {
  it('shows the topics in the order the admins set, and the footer with address and legal links', async () => {
    const { url } = await subscriber(`order-${label}@example.com`, ['weekly-digest']);
    const context = await stack.browser.newContext({ ...device, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Your email preferences' }).waitFor();
    expect(await legends(page)).toEqual(['Product', 'Newsletters', 'Other topics']);
    const order = await page.getByRole('switch').evaluateAll((nodes) => nodes.map((node) => node.id));
    expect(order).toEqual([ids['product-updates'], ids['breaking-news'], ids['weekly-digest'], ids['events']].map((id) => `topic-${id}`));
    const footer = page.getByRole('contentinfo', { name: 'About the sender' });
    await footer.getByText('Hauptstraße 1').waitFor();
    expect(await footer.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe('https://choice.example/privacy');
    expect(await footer.getByRole('link', { name: 'Imprint' }).getAttribute('href')).toBe('https://choice.example/imprint');
    expect(await noSidewaysScroll(page)).toBe(true);
    await screenshot(page, `choices-order-footer-${label}`);
    await expectAccessible(page, `ordered topics and footer (${label})`);
    await context.close();
  });

  it("names topics in the subscriber's language, falling back to the organization's wording", async () => {
    const { url } = await subscriber(`lang-${label}@example.com`, []);
    const context = await stack.browser.newContext({ ...device, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Ihre E-Mail-Einstellungen' }).waitFor();
    await page.getByRole('switch', { name: 'Wochenbrief' }).waitFor();
    await page.getByText('Jeden Montag').waitFor();
    await page.getByRole('switch', { name: 'Breaking news' }).waitFor();
    await page.getByRole('link', { name: 'Datenschutz' }).waitFor();
    await page.getByRole('link', { name: 'Impressum' }).waitFor();
    await page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');
    await page.getByRole('switch', { name: 'Weekly digest' }).waitFor();
    expect(await page.getByText('Every Monday').count()).toBe(1);
    expect(await noSidewaysScroll(page)).toBe(true);
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await screenshot(page, `choices-german-${label}`);
    await expectAccessible(page, `German topic names (${label})`);
    await context.close();
  });

  it("offers to stop only the campaign's topic, names it, and shows the outcome truthfully", async () => {
    const { id } = await subscriber(`card-${label}@example.com`, ['weekly-digest', 'events']);
    const campaign = await adminCall(stack, org.key, 'POST', '/api/v1/campaigns', { name: `Digest ${label}`, tag_filter: { include_tags: ['weekly-digest'] } });
    const link = stack.ctx.container.services.links.unsubscribeUrl(org.id, id, campaign.id);
    const context = await stack.browser.newContext({ ...device, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Unsubscribe' }).waitFor();
    const only = page.getByRole('radio', { name: /Only Weekly digest/ });
    expect(await only.isChecked()).toBe(true);
    await page.getByRole('radio', { name: /All emails/ }).waitFor();
    const button = page.getByRole('button', { name: 'Unsubscribe', exact: true });
    const box = (await button.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(device.viewport.height);
    expect(await noSidewaysScroll(page)).toBe(true);
    await screenshot(page, `choices-card-${label}`);
    await expectAccessible(page, `unsubscribe card with the campaign's topic (${label})`);

    await page.getByRole('radio', { name: 'Not relevant to me' }).check();
    await button.click();
    await page.getByText('Done: you will no longer get Weekly digest. Your other topics stay as they are.').waitFor();
    expect(await page.getByRole('switch', { name: 'Weekly digest' }).isChecked()).toBe(false);
    expect(await page.getByRole('switch', { name: 'Events' }).isChecked()).toBe(true);
    await expectAccessible(page, `unsubscribe card after stopping one topic (${label})`);
    const after = await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${id}`);
    expect(after.status).toBe('active');
    expect(after.tags.map((t: { slug: string }) => t.slug)).toEqual(['events']);
    const events = await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${id}/events`);
    expect(JSON.stringify(events)).toContain('not_relevant');

    // The same card after a reload says what is true now: the topic is off, so only "everything" is left.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Unsubscribe' }).waitFor();
    expect(await page.getByRole('radio', { name: /Only Weekly digest/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Unsubscribe from all emails' }).click();
    await page.getByText('Done: you will get no more emails from Choice News.').waitFor();
    expect((await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${id}`)).status).toBe('unsubscribed');
    await context.close();
  });

  it("shows the admins' preview read-only: nothing can be switched and nothing is sent", async () => {
    const preview = await adminCall(stack, org.key, 'POST', '/api/v1/settings/preference-center/preview');
    const context = await stack.browser.newContext({ ...device, locale: 'en-US' });
    const page = await context.newPage();
    const writes: string[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET') writes.push(`${request.method()} ${request.url()}`);
    });
    await page.goto(preview.url.replace(/^https?:\/\/[^/]+/, stack.origin));
    await page.getByText('Preview with a sample subscriber. Nothing you do here is saved.').waitFor();
    await page.getByText('Preferences for subscriber@example.com').waitFor();
    const first = page.getByRole('switch', { name: 'Product updates' });
    expect(await first.isChecked()).toBe(true);
    expect(await first.isDisabled()).toBe(true);
    await first.click({ force: true });
    expect(await first.isChecked()).toBe(true);
    const unsubscribe = page.getByRole('button', { name: 'Unsubscribe from all emails' });
    expect(await unsubscribe.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Email me that link' }).count()).toBe(0);
    expect(await noSidewaysScroll(page)).toBe(true);
    await screenshot(page, `choices-preview-${label}`);
    await expectAccessible(page, `preview (${label})`);

    await page.goto(preview.unsubscribe_url.replace(/^https?:\/\/[^/]+/, stack.origin));
    await page.getByRole('radio', { name: /Only Product updates/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Unsubscribe', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByText('Vorschau mit einer Beispielperson. Nichts, was Sie hier tun, wird gespeichert.').waitFor();
    await expectAccessible(page, `preview of the unsubscribe card, German (${label})`);
    expect(writes).toEqual([]);
    await context.close();
  });
});
