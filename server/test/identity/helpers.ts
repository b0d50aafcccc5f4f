import type { TestContext } from '../support/context.ts';

/** The headers the admin app sends with every state-changing request. */
export function appHeaders(ctx: TestContext): Record<string, string> {
  return { origin: new URL(ctx.config.ADMIN_APP_URL).origin, 'x-requested-with': 'subscribe-flow' };
}

/** The newest dev-mailbox message to an address, after every background send has finished. */
export async function latestMail(ctx: TestContext, to: string) {
  await ctx.container.background.drain();
  return ctx.container.devMailbox.latestTo(to);
}

/** The token of the first link in the newest message to `to` that points at `path` of the admin app. */
export async function tokenFromMail(ctx: TestContext, to: string, path: string): Promise<string> {
  const message = await latestMail(ctx, to);
  if (!message) throw new Error(`no message to ${to}`);
  const link = message.text.match(/https?:\/\/\S+/g)?.find((l) => new URL(l).pathname.endsWith(path));
  if (!link) throw new Error(`no ${path} link in "${message.subject}"`);
  return new URL(link).searchParams.get('token')!;
}

export async function requestLink(ctx: TestContext, email: string, remoteAddress = '127.0.0.1') {
  return ctx.app.inject({ method: 'POST', url: '/api/v1/auth/magic-link', payload: { email }, remoteAddress });
}

export async function verify(ctx: TestContext, token: string, options: { headers?: Record<string, string>; remoteAddress?: string } = {}) {
  return ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/verify',
    payload: { token },
    headers: options.headers ?? appHeaders(ctx),
    remoteAddress: options.remoteAddress ?? '127.0.0.1',
  });
}

/** The `name=value` pair of the session cookie a response sets, ready for a Cookie header. */
export function sessionCookie(response: { cookies: { name: string; value: string }[] }): string {
  const cookie = response.cookies.find((c) => c.name === 'sf_session');
  if (!cookie) throw new Error('no sf_session cookie was set');
  return `sf_session=${cookie.value}`;
}
