import { v7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7Floor } from '../../src/lib/ids.ts';
import type { StatsRepository } from '../../src/modules/stats/stats.repository.ts';
import { createStatsService, type CountsCache } from '../../src/modules/stats/stats.service.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';

const DAY = 86_400_000;
let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let other: { id: string; slug: string; key: string };

/** Inserts a subscriber as if it had been created `daysAgo` days ago (id and created_at agree, as in production). */
async function backdated(organizationId: string, email: string, daysAgo: number, status = 'active', unsubscribedDaysAgo?: number) {
  const createdAt = new Date(Date.now() - daysAgo * DAY);
  await ctx.container.db
    .insertInto('subscribers')
    .values({
      id: v7({ msecs: createdAt.getTime() }),
      organization_id: organizationId,
      email,
      status,
      source: 'test',
      created_at: createdAt,
      updated_at: createdAt,
      unsubscribed_at: unsubscribedDaysAgo === undefined ? null : new Date(Date.now() - unsubscribedDaysAgo * DAY),
    })
    .execute();
}

const utcDay = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization('Stats');
  other = await ctx.createOrganization('Other');
  const call = api(ctx, org.key);
  await call('POST', '/api/v1/subscribers', { email: 'today-1@example.com', tags: ['News'] });
  await call('POST', '/api/v1/subscribers', { email: 'today-2@example.com', status: 'pending' });
  await backdated(org.id, 'ten-days@example.com', 10);
  await backdated(org.id, 'left@example.com', 20, 'unsubscribed', 3);
  await backdated(org.id, 'old@example.com', 200, 'bounced');
  // Another tenant's subscribers and consent events must never count.
  await api(ctx, other.key)('POST', '/api/v1/subscribers', { email: 'other@example.com', tags: ['Secret topic'] });
  await backdated(other.id, 'other-old@example.com', 10, 'unsubscribed', 3);
  await ctx.container.db.updateTable('organizations').set({ emails_sent_this_month: 1234, max_emails_per_month: 10_000 }).where('id', '=', org.id).execute();
});
afterAll(() => ctx.close());

describe('the dashboard overview', () => {
  it("counts the organization's subscribers by status, every status present, other tenants excluded", async () => {
    const res = await api(ctx, org.key)('GET', '/api/v1/stats/overview');
    expect(res.statusCode).toBe(200);
    expect(res.json().subscribers).toEqual({
      total: 5,
      by_status: { active: 2, pending: 1, unsubscribed: 1, bounced: 1, complained: 0 },
    });
  });

  it("shows this month's emails against the plan limit", async () => {
    const { emails } = (await api(ctx, org.key)('GET', '/api/v1/stats/overview')).json();
    expect(emails).toMatchObject({ plan: 'free', sent_this_month: 1234, monthly_limit: 10_000 });
    expect(emails.period_start).toMatch(/^\d{4}-\d{2}-01$/);
  });

  it("lists the latest consent events newest first with the subscriber and tag, never another tenant's", async () => {
    const { latest_consent_events: events } = (await api(ctx, org.key)('GET', '/api/v1/stats/overview')).json();
    expect(events.map((e: { action: string }) => e.action)).toEqual(['created', 'tag_subscribed', 'created']);
    expect(events[1]).toMatchObject({ subscriber: { email: 'today-1@example.com' }, tag: { name: 'News', slug: 'news' }, source: 'api' });
    expect(JSON.stringify(events)).not.toContain('other@example.com');
    expect(JSON.stringify(events)).not.toContain('Secret topic');
  });

  it('is readable by a viewer session', async () => {
    const viewer = await ctx.createSession(org.id, 'viewer');
    const res = await sessionApi(ctx, viewer)('GET', '/api/v1/stats/overview');
    expect(res.statusCode).toBe(200);
    expect(res.json().subscribers.total).toBe(5);
  });
});

describe('subscriber growth', () => {
  it('has one point per UTC day of the window, today last, with subscriptions, unsubscriptions and the running total', async () => {
    const res = await api(ctx, org.key)('GET', '/api/v1/stats/growth?days=30');
    expect(res.statusCode).toBe(200);
    const { days, points } = res.json() as { days: number; points: { date: string; subscribed: number; unsubscribed: number; total: number }[] };
    expect(days).toBe(30);
    expect(points).toHaveLength(30);
    expect(points.at(-1)).toEqual({ date: utcDay(0), subscribed: 2, unsubscribed: 0, total: 5 });
    const on = (daysAgo: number) => points.find((p) => p.date === utcDay(daysAgo))!;
    expect(on(3)).toMatchObject({ unsubscribed: 1 });
    expect(on(10)).toMatchObject({ subscribed: 1, total: 3 });
    expect(on(20)).toMatchObject({ subscribed: 1, total: 2 });
    // Before the window's first subscriber only the 200-day-old one existed.
    expect(points[0]).toEqual({ date: utcDay(29), subscribed: 0, unsubscribed: 0, total: 1 });
    expect(points.reduce((n, p) => n + p.unsubscribed, 0)).toBe(1);
  });

  it('reaches back 90 days when asked and refuses windows outside 7–365 days', async () => {
    const call = api(ctx, org.key);
    const res = await call('GET', '/api/v1/stats/growth?days=90');
    expect(res.json().points).toHaveLength(90);
    expect(res.json().points[0].total).toBe(1);
    expect((await call('GET', '/api/v1/stats/growth?days=1000')).statusCode).toBe(422);
  });
});

describe('counting a large organization', () => {
  it('keeps its counts for a minute, while a small organization is counted on every request', async () => {
    const stored = new Map<string, { counts: unknown; ttl: number }>();
    const cache: CountsCache = {
      get: async (id) => (stored.get(id)?.counts as never) ?? null,
      set: async (id, counts, ttl) => {
        stored.set(id, { counts, ttl });
      },
    };
    let counted = 0;
    const sizes: Record<string, number> = { big: 150, small: 50 };
    const repo = {
      countByStatus: async (id: string) => {
        counted += 1;
        return { active: sizes[id]! };
      },
      createdPerDay: async () => new Map(),
      unsubscribedPerDay: async () => new Map(),
    } as unknown as StatsRepository;
    const stats = createStatsService({ statsRepository: repo, cache, cacheAbove: 100, entitlements: { limits: async () => undefined } });
    await stats.growth('big', 7);
    await stats.growth('big', 7);
    expect(counted).toBe(1);
    expect(stored.get('big')).toEqual({ counts: { active: 150, pending: 0, unsubscribed: 0, bounced: 0, complained: 0 }, ttl: 60 });
    await stats.growth('small', 7);
    await stats.growth('small', 7);
    expect(counted).toBe(3);
    expect(stored.has('small')).toBe(false);
  });
});

describe('the UUIDv7 lower bound', () => {
  it('is at or below every id minted at or after its time, and above ids minted before', () => {
    const time = Date.UTC(2026, 10, 1);
    const bound = uuidv7Floor(new Date(time));
    expect(v7({ msecs: time }) >= bound).toBe(true);
    expect(v7({ msecs: time + 1 }) > bound).toBe(true);
    expect(v7({ msecs: time - 1 }) < bound).toBe(true);
  });
});
