import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto.ts';
import { createTestContext, sessionApi, type TestContext, type TestSession } from '../support/context.ts';
import { appHeaders, latestMail, sessionCookie, tokenFromMail } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let owner: TestSession;
let admin: TestSession;
let asOwner: ReturnType<typeof sessionApi>;
let asAdmin: ReturnType<typeof sessionApi>;

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization('Team Org');
  owner = await ctx.createSession(org.id, 'owner');
  admin = await ctx.createSession(org.id, 'admin');
  asOwner = sessionApi(ctx, owner);
  asAdmin = sessionApi(ctx, admin);
});
afterAll(() => ctx.close());

const accept = (token: string, headers: Record<string, string> = appHeaders(ctx)) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', headers, payload: { token } });

async function memberOf(email: string) {
  const members = (await asOwner('GET', '/api/v1/members?limit=100')).json().items as { id: string; role: string; user: { email: string } }[];
  return members.find((m) => m.user.email === email);
}

describe('invitations', () => {
  it('invites by email; the link signs the invitee in and joins them with the invited role', async () => {
    const created = await asAdmin('POST', '/api/v1/invitations', { email: 'New.Person@example.com', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ email: 'New.Person@example.com', role: 'viewer', status: 'pending', invited_by_user_id: admin.userId });
    const expires = new Date(created.json().expires_at).getTime() - Date.now();
    expect(Math.round(expires / 86_400_000)).toBe(7);
    expect(created.body).not.toContain('token');

    const mail = await latestMail(ctx, 'new.person@example.com');
    expect(mail).toMatchObject({ organization_id: org.id, subject: 'Join Team Org on Subscribe Flow' });
    const token = await tokenFromMail(ctx, 'new.person@example.com', '/invitations/accept');
    const joined = await accept(token);
    expect(joined.statusCode).toBe(200);
    expect(joined.json()).toMatchObject({ user: { email: 'New.Person@example.com' }, organization: { id: org.id, role: 'viewer' } });

    const cookie = sessionCookie(joined);
    const me = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    expect(me.json().current_organization).toMatchObject({ id: org.id, role: 'viewer' });
    expect((await memberOf('New.Person@example.com'))?.role).toBe('viewer');

    const again = await accept(token);
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('invitation_already_used');
    const listed = (await asAdmin('GET', '/api/v1/invitations?status=accepted')).json().items;
    expect(listed.map((i: { id: string }) => i.id)).toContain(created.json().id);
  });

  it('tells the link\'s holder what the invitation is for (organization, role, inviter) before anything is accepted', async () => {
    await asAdmin('POST', '/api/v1/invitations', { email: 'curious@example.com', role: 'admin' });
    const token = await tokenFromMail(ctx, 'curious@example.com', '/invitations/accept');
    const details = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/details', headers: appHeaders(ctx), payload: { token } });
    expect(details.statusCode, details.body).toBe(200);
    expect(details.json()).toMatchObject({ organization: { name: 'Team Org' }, role: 'admin', email: 'curious@example.com', invited_by: { email: admin.email }, status: 'pending' });
    expect(details.body).not.toContain(org.id);
    // Reading it joins nobody; a made-up token learns nothing.
    expect(await memberOf('curious@example.com')).toBeUndefined();
    const forged = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/details', headers: appHeaders(ctx), payload: { token: token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('invalid_token');
  });

  it('resends with a new link (the old one stops working) and a fresh expiry', async () => {
    const { id } = (await asAdmin('POST', '/api/v1/invitations', { email: 'resend@example.com', role: 'admin' })).json();
    const oldToken = await tokenFromMail(ctx, 'resend@example.com', '/invitations/accept');
    await ctx.container.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', id).execute();
    expect((await asAdmin('GET', '/api/v1/invitations?status=expired')).json().items.map((i: { id: string }) => i.id)).toContain(id);

    const resent = await asAdmin('POST', `/api/v1/invitations/${id}/resend`);
    expect(resent.statusCode).toBe(200);
    expect(resent.json()).toMatchObject({ status: 'pending', sent_count: 2 });
    const newToken = await tokenFromMail(ctx, 'resend@example.com', '/invitations/accept');
    expect(newToken).not.toBe(oldToken);
    expect((await accept(oldToken)).json().error.code).toBe('invalid_token');
    expect((await accept(newToken)).statusCode).toBe(200);
  });

  it('rejects expired and revoked invitations', async () => {
    const expired = (await asAdmin('POST', '/api/v1/invitations', { email: 'late@example.com', role: 'viewer' })).json();
    const expiredToken = await tokenFromMail(ctx, 'late@example.com', '/invitations/accept');
    await ctx.container.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', expired.id).execute();
    expect((await accept(expiredToken)).json().error.code).toBe('invitation_expired');

    const revoked = (await asAdmin('POST', '/api/v1/invitations', { email: 'withdrawn@example.com', role: 'viewer' })).json();
    const revokedToken = await tokenFromMail(ctx, 'withdrawn@example.com', '/invitations/accept');
    expect((await asAdmin('DELETE', `/api/v1/invitations/${revoked.id}`)).statusCode).toBe(204);
    const res = await accept(revokedToken);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invitation_revoked');
    expect((await asAdmin('DELETE', `/api/v1/invitations/${revoked.id}`)).json().error.code).toBe('invitation_closed');
    expect(await memberOf('withdrawn@example.com')).toBeUndefined();
  });

  it('shows the organization\'s mail, invitations included, in the dev mailbox (admins only)', async () => {
    await asAdmin('POST', '/api/v1/invitations', { email: 'mailbox@example.com', role: 'viewer' });
    await ctx.container.background.drain();
    const res = await asAdmin('GET', '/api/v1/dev/mailbox?to=MAILBOX@example.com');
    expect(res.statusCode).toBe(200);
    const [message] = res.json().items;
    expect(message).toMatchObject({ to: 'mailbox@example.com', subject: 'Join Team Org on Subscribe Flow' });
    expect(message.links.some((l: string) => l.includes('/invitations/accept?token='))).toBe(true);
    const other = await ctx.createOrganization('Mailbox Neighbour');
    const neighbour = sessionApi(ctx, await ctx.createSession(other.id, 'admin'));
    expect((await neighbour('GET', '/api/v1/dev/mailbox?to=mailbox@example.com')).json().items).toEqual([]);
  });

  it('stores only the hash of the invitation token', async () => {
    await asAdmin('POST', '/api/v1/invitations', { email: 'hashed@example.com', role: 'viewer' });
    const token = await tokenFromMail(ctx, 'hashed@example.com', '/invitations/accept');
    const row = await ctx.container.db.selectFrom('invitations').select('token_hash').where('email', '=', 'hashed@example.com').executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sha256Hex(token));
  });

  it('refuses duplicates, members, and owner invitations from admins', async () => {
    await asAdmin('POST', '/api/v1/invitations', { email: 'dup@example.com', role: 'viewer' });
    expect((await asAdmin('POST', '/api/v1/invitations', { email: 'DUP@example.com', role: 'admin' })).json().error.code).toBe('invitation_exists');
    expect((await asAdmin('POST', '/api/v1/invitations', { email: owner.email, role: 'viewer' })).json().error.code).toBe('already_member');
    const ownerInvite = await asAdmin('POST', '/api/v1/invitations', { email: 'boss@example.com', role: 'owner' });
    expect(ownerInvite.statusCode).toBe(403);
    expect(ownerInvite.json().error.code).toBe('owner_only');
    expect((await asOwner('POST', '/api/v1/invitations', { email: 'boss@example.com', role: 'owner' })).statusCode).toBe(201);
  });

  it('needs the CSRF headers to accept, because accepting signs the browser in', async () => {
    await asAdmin('POST', '/api/v1/invitations', { email: 'csrf-invite@example.com', role: 'viewer' });
    const token = await tokenFromMail(ctx, 'csrf-invite@example.com', '/invitations/accept');
    expect((await accept(token, { origin: 'https://evil.example', 'x-requested-with': 'subscribe-flow' })).json().error.code).toBe('csrf_failed');
    expect((await accept(token)).statusCode).toBe(200);
  });

  it('does not let another organization see or touch the invitations', async () => {
    const other = await ctx.createOrganization('Other Team');
    const outsider = sessionApi(ctx, await ctx.createSession(other.id, 'owner'));
    const { id } = (await asAdmin('POST', '/api/v1/invitations', { email: 'private@example.com', role: 'viewer' })).json();
    expect((await outsider('GET', '/api/v1/invitations')).json().items).toEqual([]);
    expect((await outsider('POST', `/api/v1/invitations/${id}/resend`)).statusCode).toBe(404);
    expect((await outsider('DELETE', `/api/v1/invitations/${id}`)).statusCode).toBe(404);
  });
});

describe('members and roles', () => {
  it('changes roles; only owners grant or take the owner role', async () => {
    const viewer = await ctx.createSession(org.id, 'viewer');
    const member = (await memberOf(viewer.email))!;
    const promoted = await asAdmin('PATCH', `/api/v1/members/${member.id}`, { role: 'admin' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ id: member.id, role: 'admin', user: { email: viewer.email } });
    expect((await asAdmin('PATCH', `/api/v1/members/${member.id}`, { role: 'owner' })).json().error.code).toBe('owner_only');
    expect((await asOwner('PATCH', `/api/v1/members/${member.id}`, { role: 'owner' })).json().role).toBe('owner');
    const ownerMember = (await memberOf(owner.email))!;
    expect((await asAdmin('PATCH', `/api/v1/members/${ownerMember.id}`, { role: 'viewer' })).json().error.code).toBe('owner_only');
    expect((await asAdmin('DELETE', `/api/v1/members/${ownerMember.id}`)).json().error.code).toBe('owner_only');
    // Back to one owner for the next test.
    expect((await asOwner('DELETE', `/api/v1/members/${member.id}`)).statusCode).toBe(204);
  });

  it('never leaves an organization without an owner', async () => {
    const solo = await ctx.createOrganization('Solo');
    const only = await ctx.createSession(solo.id, 'owner');
    const call = sessionApi(ctx, only);
    const members = (await call('GET', '/api/v1/members')).json().items as { id: string; user: { email: string } }[];
    const me = members.find((m) => m.user.email === only.email)!;
    // The organization's creator (createOrganization) is an owner too; remove them first.
    for (const m of members.filter((x) => x.id !== me.id)) expect((await call('DELETE', `/api/v1/members/${m.id}`)).statusCode).toBe(204);

    for (const [method, payload] of [['PATCH', { role: 'admin' }], ['DELETE', undefined]] as const) {
      const res = await call(method, `/api/v1/members/${me.id}`, payload);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('last_owner');
    }
    const leave = await call('POST', `/api/v1/organizations/${solo.id}/leave`);
    expect(leave.statusCode).toBe(409);
    expect(leave.json().error.code).toBe('last_owner');
  });

  it('does not let two owners demote each other at the same time', async () => {
    const pair = await ctx.createOrganization('Pair');
    const a = await ctx.createSession(pair.id, 'owner');
    const b = await ctx.createSession(pair.id, 'owner');
    const founders = (await sessionApi(ctx, a)('GET', '/api/v1/members')).json().items as { id: string; user: { email: string } }[];
    const founder = founders.find((m) => m.user.email !== a.email && m.user.email !== b.email)!;
    await sessionApi(ctx, a)('DELETE', `/api/v1/members/${founder.id}`);
    const idOf = (email: string) => founders.find((m) => m.user.email === email)!.id;
    const results = await Promise.all([
      sessionApi(ctx, a)('PATCH', `/api/v1/members/${idOf(b.email)}`, { role: 'viewer' }),
      sessionApi(ctx, b)('PATCH', `/api/v1/members/${idOf(a.email)}`, { role: 'viewer' }),
    ]);
    const owners = await ctx.container.db.selectFrom('organization_members').select('id').where('organization_id', '=', pair.id).where('role', '=', 'owner').execute();
    expect(owners.length).toBe(1);
    // One wins; the other is refused, as last owner (409) or, if it arrives later, as no longer an owner (403).
    const [won, lost] = results.map((r) => r.statusCode).sort();
    expect(won).toBe(200);
    expect([403, 409]).toContain(lost);
  });

  it('lets any member, viewers included, leave; a removed member loses access at once', async () => {
    const viewer = await ctx.createSession(org.id, 'viewer');
    const leave = await sessionApi(ctx, viewer)('POST', `/api/v1/organizations/${org.id}/leave`);
    expect(leave.statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: viewer.headers })).json().error.code).toBe('organization_not_found');
    expect((await sessionApi(ctx, viewer)('POST', `/api/v1/organizations/${org.id}/leave`)).statusCode).toBe(404);

    const removed = await ctx.createSession(org.id, 'admin');
    const member = (await memberOf(removed.email))!;
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: removed.headers })).statusCode).toBe(200);
    expect((await asAdmin('DELETE', `/api/v1/members/${member.id}`)).statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: removed.headers })).statusCode).toBe(404);
  });

  it('applies a role change on the very next request', async () => {
    const user = await ctx.createSession(org.id, 'admin');
    const member = (await memberOf(user.email))!;
    const create = () => ctx.app.inject({ method: 'POST', url: '/api/v1/tags', headers: user.headers, payload: { name: `role-${Math.random()}` } });
    expect((await create()).statusCode).toBe(201);
    await asOwner('PATCH', `/api/v1/members/${member.id}`, { role: 'viewer' });
    const denied = await create();
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('insufficient_role');
  });
});
