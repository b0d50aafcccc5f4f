import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, expectAccessible, linkIn, mailTo, screenshot, startSite, startStack, type Stack } from './support.ts';

let stack: Stack;
let org: { id: string; slug: string; key: string };
let site: Awaited<ReturnType<typeof startSite>>;
let otherSite: Awaited<ReturnType<typeof startSite>>;

// An organization's own website with a signup form that posts to the public endpoint from the browser.
const signupPage = (api: () => string, slug: () => string) => () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme signup</title></head><body><main>
<h1>Join our newsletter</h1>
<form id="signup">
  <label for="email">Email</label> <input id="email" name="email" type="email" required>
  <label for="first_name">First name</label> <input id="first_name" name="first_name">
  <label><input type="checkbox" name="tags" value="weekly-digest"> Weekly digest</label>
  <div aria-hidden="true" style="position:absolute;left:-9999px"><label for="website">Website</label><input id="website" name="website" tabindex="-1" autocomplete="off"></div>
  <button>Subscribe</button>
</form>
<p id="result" role="status"></p>
<script>
document.getElementById('signup').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { email: form.get('email'), first_name: form.get('first_name') || undefined, tags: form.getAll('tags'), website: form.get('website'),
    consent_text: 'Send me the Acme newsletter.' };
  try {
    const res = await fetch('${api()}/api/v1/public/${slug()}/subscribe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const data = await res.json();
    document.getElementById('result').textContent = res.ok ? data.message : 'Error: ' + data.error.code;
  } catch (error) {
    document.getElementById('result').textContent = 'Blocked: ' + error.message;
  }
});
</script></main></body></html>`;

beforeAll(async () => {
  stack = await startStack();
  org = await stack.ctx.createOrganization('Acme News');
  await adminCall(stack, org.key, 'POST', '/api/v1/tags', { name: 'Weekly digest', category: 'Newsletters' });
  site = await startSite(
    signupPage(
      () => stack.origin,
      () => org.slug,
    ),
  );
  otherSite = await startSite(
    signupPage(
      () => stack.origin,
      () => org.slug,
    ),
  );
  await adminCall(stack, org.key, 'PATCH', '/api/v1/settings/preference-center', { form_origins: [site.origin] });
});
afterAll(async () => {
  await site?.close();
  await otherSite?.close();
  await stack?.close();
});

describe('double opt-in in Chromium', () => {
  it('goes from the website form to the confirmation email to an active subscriber', async () => {
    const context = await stack.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(site.origin);
    await page.getByLabel('Email').fill('new.reader@example.com');
    await page.getByLabel('First name').fill('Nia');
    await page.getByLabel('Weekly digest').check();
    const since = new Date(Date.now() - 1000);
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByText('Please check your inbox and confirm your subscription.').waitFor();
    const pending = await adminCall(stack, org.key, 'GET', '/api/v1/subscribers/by-email?email=new.reader@example.com');
    expect(pending.status).toBe('pending');

    const mail = await mailTo(stack.ctx, 'new.reader@example.com', since);
    await page.goto(linkIn(mail.text, /http:\/\/\S+\/preferences\/confirm\?token=\S+/));
    await page.getByRole('heading', { level: 1, name: 'Confirm your subscription' }).waitFor();
    await page.getByText('Weekly digest').waitFor();
    await screenshot(page, 'confirm');
    await expectAccessible(page, 'confirmation page');
    expect((await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${pending.id}`)).status).toBe('pending');

    await page.getByRole('button', { name: 'Confirm subscription' }).click();
    await page.getByRole('heading', { level: 1, name: 'You are subscribed' }).waitFor();
    await screenshot(page, 'confirmed');
    await expectAccessible(page, 'confirmed page');
    const active = await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${pending.id}`);
    expect(active).toMatchObject({ status: 'active', tags: [{ slug: 'weekly-digest' }] });
    const events = await adminCall(stack, org.key, 'GET', `/api/v1/subscribers/${pending.id}/events`);
    const confirmed = events.items.find((e: { action: string }) => e.action === 'confirmed');
    expect(confirmed).toMatchObject({ source: 'form', ip: '127.0.0.1', details: { via: 'double_opt_in', locale: 'en' } });
    expect(confirmed.user_agent).toContain('Chrome');

    await page.getByRole('link', { name: 'Manage your preferences' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your email preferences' }).waitFor();
    expect(await page.getByRole('switch', { name: 'Weekly digest' }).isChecked()).toBe(true);
    await context.close();
  });

  it('is refused to a website the organization does not list (CORS)', async () => {
    const context = await stack.browser.newContext();
    const page = await context.newPage();
    await page.goto(otherSite.origin);
    await page.getByLabel('Email').fill('elsewhere@example.com');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByText(/^Blocked:/).waitFor();
    expect(
      (
        await stack.ctx.app.inject({
          method: 'GET',
          url: '/api/v1/subscribers/by-email?email=elsewhere@example.com',
          headers: { authorization: `Bearer ${org.key}` },
        })
      ).statusCode,
    ).toBe(404);
    await context.close();
  });
});
