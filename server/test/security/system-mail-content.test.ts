import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { waitForMail } from '../preferences/helpers.ts';

// Issue 12, item 13: anyone may post any address and name to a public form, so the confirmation email
// must not carry the poster's links or markup to that address.

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let nextIp = 1;

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization('Relay Test');
});
afterAll(() => ctx.close());

async function confirmationFor(email: string, firstName: string) {
  const since = new Date(Date.now() - 1000);
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/public/${org.slug}/subscribe`,
    payload: { email, first_name: firstName },
    remoteAddress: `10.9.0.${nextIp++}`,
  });
  expect(res.statusCode).toBe(202);
  return waitForMail(ctx, email, since);
}

describe('confirmation emails from the public form', () => {
  it('carry no link, address or markup typed into the name field', async () => {
    const names = [
      'Win a prize at https://spam.example/claim',
      'Visit spam.example today',
      '<a href="https://spam.example">Claim</a>',
      'write to prize@spam.example',
      'x'.repeat(60),
    ];
    for (const [i, name] of names.entries()) {
      const mail = await confirmationFor(`victim${i}@example.com`, name);
      expect(mail.text).toContain('Hello,');
      for (const body of [mail.text, mail.html]) {
        expect(body).not.toContain('spam.example');
        expect(body).not.toContain('x'.repeat(41));
        expect(body).not.toMatch(/&lt;a|<a href="https:\/\/spam/);
      }
    }
  });

  it('still greet a person by a plain name', async () => {
    const mail = await confirmationFor('plain@example.com', "Zoë O'Neil");
    expect(mail.text).toContain("Hello Zoë O'Neil,");
  });
});
