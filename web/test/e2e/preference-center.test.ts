import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, expectAccessible, linkIn, mailTo, screenshot, startSite, startStack, type Stack } from './support.ts';

let stack: Stack;
let org: { id: string; slug: string; key: string };

beforeAll(async () => {
  stack = await startStack();
  org = await stack.ctx.createOrganization('Acme News');
  for (const tag of [
    { name: 'Weekly digest', category: 'Newsletters', description: 'The best of the week, every Monday' },
    { name: 'Breaking news', category: 'Newsletters' },
    { name: 'Product updates', category: 'Product', description: 'New features and changes' },
    { name: 'Events' },
  ]) await adminCall(stack, org.key, 'POST', '/api/v1/tags', tag);
  await adminCall(stack, org.key, 'PATCH', '/api/v1/settings/preference-center', { accent_color: '#0f766e' });
});
afterAll(() => stack?.close());

async function newSubscriberLink(email: string, tags: string[] = []): Promise<{ id: string; url: string }> {
  const subscriber = await adminCall(stack, org.key, 'POST', '/api/v1/subscribers', { email, first_name: 'Ada', tags });
  const { url } = await adminCall(stack, org.key, 'POST', `/api/v1/subscribers/${subscriber.id}/preference-token`, {});
  return { id: subscriber.id, url };
}

const topic = (page: Page, name: string) => page.getByRole('switch', { name });

describe('the preference center in Chromium', () => {
  it('manages topics, unsubscribes from all with undo, exports and deletes', async () => {
    const { id, url } = await newSubscriberLink('ada@example.com', ['weekly-digest']);
    const context = await stack.browser.newContext({ acceptDownloads: true, locale: 'en-US' });
    const page = await context.newPage();
    const viewRequests: string[] = [];
    page.on('request', (request) => { if (request.url().includes('/api/v1/preference-center?')) viewRequests.push(request.url()); });
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Your email preferences' }).waitFor();
    expect(await topic(page, 'Weekly digest').isChecked()).toBe(true);
    // The server's preload hint and the app's own call are one request.
    expect(viewRequests).toHaveLength(1);
    await screenshot(page, 'preferences');
    await expectAccessible(page, 'preference page');

    await topic(page, 'Events').click();
    await page.getByText('Saved: you will get Events.').waitFor();
    await topic(page, 'Weekly digest').click();
    await page.getByText('Saved: you will no longer get Weekly digest.').waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await topic(page, 'Events').isChecked()).toBe(true);
    expect(await topic(page, 'Weekly digest').isChecked()).toBe(false);

    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Ihre E-Mail-Einstellungen' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('de');
    await screenshot(page, 'preferences-de');
    await expectAccessible(page, 'preference page (German)');
    await page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');

    await page.getByRole('button', { name: 'Unsubscribe from all emails' }).click();
    const undo = page.getByRole('button', { name: 'Undo' });
    await undo.waitFor();
    expect(await undo.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await topic(page, 'Events').isDisabled()).toBe(true);
    await screenshot(page, 'unsubscribed-all');
    await expectAccessible(page, 'after unsubscribe-all');
    await undo.click();
    await page.getByText('Done: your subscriptions are back.').waitFor();
    expect(await topic(page, 'Events').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Unsubscribe from all emails' }).click();
    await undo.waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Subscribe again' }).waitFor();

    // A link minted for a newsletter (and maybe forwarded) manages topics only: export and erasure need a
    // link emailed to the address now.
    expect(await page.getByRole('button', { name: 'Download my data' }).count()).toBe(0);
    const since = new Date(Date.now() - 1000);
    await page.getByRole('button', { name: 'Email me that link' }).click();
    await page.getByText('We sent a link to ada@example.com.', { exact: false }).waitFor();
    const mail = await mailTo(stack.ctx, 'ada@example.com', since);
    await page.goto(linkIn(mail.text, /http:\/\/\S+\/preferences\/\?token=\S+/));
    await page.getByRole('button', { name: 'Subscribe again' }).waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my data' }).click()]);
    expect(download.suggestedFilename()).toBe('my-subscription-data.json');
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    expect(exported.subscriber).toMatchObject({ id, email: 'ada@example.com', status: 'unsubscribed' });
    expect(exported.consent_history.filter((h: { source: string }) => h.source === 'preference_center').length).toBeGreaterThanOrEqual(4);

    await page.getByRole('button', { name: 'Delete my data' }).click();
    await page.getByRole('heading', { name: 'Delete all your data?' }).waitFor();
    await screenshot(page, 'delete-confirmation');
    await expectAccessible(page, 'delete confirmation');
    // aria-disabled until the box is ticked: a forced click does nothing.
    await page.getByRole('button', { name: 'Delete permanently' }).click({ force: true });
    expect(await stack.ctx.container.db.selectFrom('subscribers').select('id').where('id', '=', id).executeTakeFirst()).toBeDefined();
    await page.getByRole('checkbox', { name: 'I understand that this cannot be undone' }).check();
    await page.getByRole('button', { name: 'Delete permanently' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your data has been deleted' }).waitFor();
    await screenshot(page, 'deleted');
    await expectAccessible(page, 'deleted page');
    expect(await stack.ctx.container.db.selectFrom('subscribers').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    await context.close();
  });

  it('shows the request form for an expired link, and the emailed link works', async () => {
    const { id } = await newSubscriberLink('late@example.com');
    const expired = stack.ctx.container.tokens.sign({ purpose: 'pref', organizationId: org.id, subjectId: id, expiresAt: Math.floor(Date.now() / 1000) - 60 });
    const context = await stack.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${stack.origin}/preferences/?token=${expired}`);
    await page.getByRole('heading', { level: 1, name: 'Get a new link' }).waitFor();
    await page.getByText('This link has expired').waitFor();
    await screenshot(page, 'request-link');
    await expectAccessible(page, 'request-link page');

    await page.getByRole('button', { name: 'Send me a new link' }).click();
    expect(await page.getByRole('textbox', { name: 'Email address' }).getAttribute('aria-invalid')).toBe('true');
    const since = new Date(Date.now() - 1000);
    await page.getByRole('textbox', { name: 'Email address' }).fill('late@example.com');
    await page.keyboard.press('Enter');
    await page.getByText(/a new link is on its way/).waitFor();
    await expectAccessible(page, 'request-link page after sending');
    const mail = await mailTo(stack.ctx, 'late@example.com', since);
    await page.goto(linkIn(mail.text, /http:\/\/\S+\/preferences\/\?token=\S+/));
    await page.getByRole('heading', { level: 1, name: 'Your email preferences' }).waitFor();
    await context.close();
  });

  it('works with the keyboard alone, on a phone-sized screen, with reduced motion', async () => {
    const { url } = await newSubscriberLink('keys@example.com');
    const context = await stack.browser.newContext({ viewport: { width: 375, height: 740 }, reducedMotion: 'reduce', locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await topic(page, 'Events').evaluate((element) => getComputedStyle(element).transitionDuration)).toBe('0s');
    await screenshot(page, 'preferences-mobile');

    // From the top of the page: the language menu comes first, then the topics in order.
    for (let i = 0; i < 12; i += 1) {
      await page.keyboard.press('Tab');
      if (await topic(page, 'Events').evaluate((element) => element === document.activeElement)) break;
    }
    expect(await topic(page, 'Events').evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await topic(page, 'Events').evaluate((element) => getComputedStyle(element).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Space');
    await page.getByText('Saved: you will get Events.').waitFor();
    await context.close();
  });

  it('can be embedded by the organization\'s listed origins only', async () => {
    const { url } = await newSubscriberLink('embedded@example.com');
    const site = await startSite(() => `<!doctype html><html lang="en"><title>Blog</title><iframe title="Email preferences" src="${url}" width="600" height="800"></iframe></html>`);
    try {
      const context = await stack.browser.newContext();
      const page = await context.newPage();
      await page.goto(site.origin);
      await page.waitForTimeout(1500);
      expect(await page.frameLocator('iframe').getByRole('heading', { level: 1 }).count()).toBe(0);

      await adminCall(stack, org.key, 'PATCH', '/api/v1/settings/preference-center', { embed_origins: [site.origin] });
      await page.reload();
      await page.frameLocator('iframe').getByRole('heading', { level: 1, name: 'Your email preferences' }).waitFor();
      await screenshot(page, 'embedded');
      await context.close();
    } finally {
      await site.close();
    }
  });

  it('opens an email\'s unsubscribe link on a phone with the unsubscribe card in view, and says the outcome beside it', async () => {
    const { id } = await newSubscriberLink('leaving@example.com', ['weekly-digest', 'events']);
    const unsubscribeUrl = stack.ctx.container.services.links.unsubscribeUrl(org.id, id);
    const context = await stack.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(unsubscribeUrl);
    await page.getByRole('heading', { level: 1, name: 'Unsubscribe' }).waitFor();
    const card = page.getByRole('region', { name: 'Unsubscribe from all emails' });
    const button = card.getByRole('button', { name: 'Unsubscribe from all emails' });
    // The button is on the first screen, above the topics.
    const box = (await button.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    expect(box.y).toBeLessThan((await topic(page, 'Weekly digest').boundingBox())!.y);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'unsubscribe-card-phone');
    await expectAccessible(page, 'unsubscribe card');

    await card.getByRole('radio', { name: 'Too many emails' }).check();
    await button.click();
    await card.getByText('Done: you will get no more emails from Acme News.').waitFor();
    const said = (await card.getByText('Done: you will get no more emails from Acme News.').boundingBox())!;
    expect(said.y + said.height).toBeLessThanOrEqual(844);
    expect(await topic(page, 'Weekly digest').isChecked()).toBe(false);
    await screenshot(page, 'unsubscribe-card-done');
    const subscriber = await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${id}`);
    expect(subscriber.status).toBe('unsubscribed');
    const events = await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${id}/events`);
    expect(JSON.stringify(events)).toContain('too_many');

    // A link mangled by a mail client lands on the organization's new-link form, not on JSON.
    const [, , token] = new URL(unsubscribeUrl).pathname.split('/');
    await page.goto(`${stack.origin}/u/${token!.slice(0, -6)}`);
    await page.getByRole('heading', { level: 1, name: 'Get a new link' }).waitFor();
    await page.getByText(/This link does not work/).waitFor();
    await page.getByRole('textbox', { name: 'Email address' }).waitFor();
    await page.goto(`${stack.origin}/u/not-a-token`);
    await page.getByRole('heading', { level: 1, name: 'Get a new link' }).waitFor();
    await expectAccessible(page, 'broken unsubscribe link');
    await context.close();
  });
});
