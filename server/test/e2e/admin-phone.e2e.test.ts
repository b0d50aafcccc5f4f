import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/context.ts';
import { capture, startAdminStack, type AdminStack } from './admin-support.ts';

/**
 * The admin dashboard on a phone (390×844, an iPhone 12–15): every page of a signed-in owner, with data
 * in it, fits the screen width (nothing scrolls sideways), the header is one row, the navigation opens
 * from a menu button, dialogs fit, and tables become one card per row. A desktop pass checks that the
 * same pages keep their side navigation.
 */
const PHONE = { width: 390, height: 844 };
const SLOW = { timeout: 240_000 };

let stack: AdminStack;
let context: BrowserContext;
let page: Page;
let base: string;
const ids: Record<string, string> = {};

/** Pixels the page is wider than the viewport (0 when nothing scrolls sideways), and the widest culprit. */
async function overflow(p: Page): Promise<{ extra: number; culprit: string }> {
  return p.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const extra = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - width;
    let culprit = '';
    let widest = width;
    // Content inside a box that scrolls or clips on its own does not widen the page.
    const clipped = (element: HTMLElement): boolean => {
      for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowX !== 'visible') return true;
      }
      return false;
    };
    for (const element of document.querySelectorAll<HTMLElement>('body *')) {
      const right = element.getBoundingClientRect().right;
      if (right > widest + 0.5 && clipped(element)) continue;
      if (right > widest + 0.5) {
        widest = right;
        culprit = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${[...element.classList].join('.')} (${Math.round(right)} px)`;
      }
    }
    return { extra, culprit };
  });
}

async function settle(p: Page) {
  await p.getByRole('heading', { level: 1 }).first().waitFor();
  await p
    .locator('.state--loading')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
  await p.waitForLoadState('networkidle');
}

beforeAll(async () => {
  stack = await startAdminStack();
  base = `${stack.origin}/admin`;
  const organization = await stack.ctx.createOrganization('A rather long organization name for phones');
  const session = await stack.ctx.createSession(organization.id, 'owner', { email: 'a.very.long.owner.address@phone-e2e.example' });
  const call = api(stack.ctx, organization.key);
  const created = async (method: 'POST', url: string, payload: object) => {
    const res = await call(method, url, payload);
    expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
    return res.json();
  };
  const tag = await created('POST', '/api/v1/tags', {
    name: 'Weekly digest with a long name',
    category: 'Newsletters',
    description: 'Every Monday morning, the week in review',
  });
  ids.tag = tag.id;
  await created('POST', '/api/v1/subscribers/batch', {
    subscribers: Array.from({ length: 12 }, (_, i) => ({
      email: `subscriber.number.${i}.with-a-long-address@an-example-domain.example`,
      first_name: 'Maximiliane',
      last_name: 'Mustermann-Schmidt',
      tags: [tag.name],
    })),
  });
  const list = (await call('GET', '/api/v1/subscribers?limit=1')).json();
  ids.subscriber = list.items[0].id;
  const template = await created('POST', '/api/v1/templates', {
    name: 'Welcome',
    slug: 'welcome',
    subject: 'Hi {{ name }}',
    variables_schema: { type: 'object', properties: { name: { type: 'string' } } },
    mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ name }}, welcome aboard.</mj-text></mj-column></mj-section></mj-body></mjml>',
  });
  ids.template = template.id;
  const sent = await created('POST', '/api/v1/emails/send', {
    template_slug: 'welcome',
    to: 'subscriber.number.0.with-a-long-address@an-example-domain.example',
    variables: { name: 'Max' },
  });
  ids.email = sent.id;
  const campaign = await created('POST', '/api/v1/campaigns', {
    name: 'Spring newsletter for everyone on the list',
    template_id: null,
    tag_filter: { include_tags: [tag.id] },
  });
  ids.campaign = campaign.id;

  context = await stack.browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  const cookie = session.cookie.split('=');
  await context.addCookies([{ name: cookie[0]!, value: cookie.slice(1).join('='), url: stack.origin }]);
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await context?.close();
  await stack?.close();
});

const PAGES = (): [string, string][] => [
  ['overview', '/'],
  ['subscribers', '/subscribers'],
  ['subscriber-new', '/subscribers/new'],
  ['subscriber-import', '/subscribers/import'],
  ['subscriber-detail', `/subscribers/${ids.subscriber}`],
  ['subscriber-edit', `/subscribers/${ids.subscriber}/edit`],
  ['tags', '/tags'],
  ['templates', '/templates'],
  ['template-editor', `/templates/${ids.template}`],
  ['campaigns', '/campaigns'],
  ['campaign-detail', `/campaigns/${ids.campaign}`],
  ['emails', '/emails'],
  ['email-detail', `/emails/${ids.email}`],
  ['suppressions', '/emails/suppressions'],
  ['mailbox', '/mailbox'],
  ['settings-organization', '/settings/organization'],
  ['settings-email', '/settings/email'],
  ['settings-preference-center', '/settings/preference-center'],
  ['settings-api-keys', '/settings/api-keys'],
  ['settings-webhooks', '/settings/webhooks'],
  ['settings-members', '/settings/members'],
  ['settings-audit-log', '/settings/audit-log'],
  ['settings-billing', '/settings/billing'],
  ['account', '/account'],
];

describe('the admin dashboard on a 390 px phone', SLOW, () => {
  it('scrolls no page sideways', async () => {
    const wide: string[] = [];
    const inaccessible: string[] = [];
    for (const [name, path] of PAGES()) {
      await page.goto(`${base}${path}`);
      await settle(page);
      const { extra, culprit } = await overflow(page);
      if (extra > 0) wide.push(`${path}: ${extra} px too wide, ${culprit}`);
      await capture(page, `phone-${name}`).catch((error: Error) => inaccessible.push(error.message));
    }
    expect(wide).toEqual([]);
    expect(inaccessible).toEqual([]);
  });

  it('keeps the header on one row and opens the navigation from a menu button', async () => {
    await page.goto(`${base}/subscribers`);
    await settle(page);
    const header = await page.locator('header.topbar').boundingBox();
    expect(header!.height).toBeLessThanOrEqual(64);
    const main = page.getByRole('navigation', { name: 'Main' });
    expect(await main.isVisible()).toBe(false);
    const menu = page.getByRole('button', { name: 'Menu' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await main.waitFor();
    // The menu names the organization and the account, which the one-row header has no room for.
    await main.getByText('A rather long organization name for phones').waitFor();
    expect((await overflow(page)).extra).toBe(0);
    await capture(page, 'phone-menu-open');
    await main.getByRole('link', { name: 'Tags', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Tags' }).waitFor();
    // Following a link closes the menu; Escape closes it too and gives focus back to the button.
    expect(await main.isVisible()).toBe(false);
    await menu.click();
    await main.waitFor();
    await page.keyboard.press('Escape');
    await main.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-controls'))).toBe('main-navigation');
  });

  it('shows table rows as cards naming their columns, and dialogs that fit the screen', async () => {
    await page.goto(`${base}/subscribers`);
    await settle(page);
    const row = page.locator('table.data-table tbody tr').first();
    const box = await row.boundingBox();
    expect(box!.width).toBeLessThanOrEqual(PHONE.width);
    // Each cell but the selection box carries its column's name, shown above the value on a phone.
    const unlabelled = await page.evaluate(
      () =>
        [...document.querySelectorAll('table.data-table tbody td')].filter(
          (td) => !td.classList.contains('cell-check') && !td.getAttribute('data-label') && td.textContent!.trim() !== '',
        ).length,
    );
    expect(unlabelled).toBe(0);

    await page.goto(`${base}/tags`);
    await settle(page);
    await page.getByRole('button', { name: 'New tag' }).click();
    const dialog = page.getByRole('dialog', { name: 'New tag' });
    await dialog.waitFor();
    const dialogBox = await dialog.boundingBox();
    expect(dialogBox!.x).toBeGreaterThanOrEqual(0);
    expect(dialogBox!.x + dialogBox!.width).toBeLessThanOrEqual(PHONE.width);
    expect((await overflow(page)).extra).toBe(0);
    await capture(page, 'phone-dialog');
  });
});

describe('the same dashboard on a desktop', SLOW, () => {
  it('keeps the side navigation visible without a menu button', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/subscribers`);
    await settle(page);
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Menu' }).isVisible()).toBe(false);
    expect((await overflow(page)).extra).toBe(0);
  });
});
