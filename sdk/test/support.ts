import type { AddressInfo } from 'node:net';
import { createTestContext, type TestContext } from '../../server/test/support/context.ts';

/** The real app listening on a local port, with an organization and its full-scope key. */
export async function startApi(
  overrides: Record<string, string> = {},
): Promise<{ ctx: TestContext; baseUrl: string; organization: { id: string; slug: string; key: string } }> {
  const ctx = await createTestContext(overrides);
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = ctx.app.server.address() as AddressInfo;
  const organization = await ctx.createOrganization('SDK test');
  return { ctx, baseUrl: `http://127.0.0.1:${port}`, organization };
}

export const MJML = '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ first_name }}</mj-text></mj-column></mj-section></mj-body></mjml>';
