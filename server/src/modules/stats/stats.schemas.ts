import { Type } from 'typebox';
import { Timestamp, Uuid } from '../common.schemas.ts';
import { SUBSCRIBER_STATUSES } from '../subscribers/index.ts';

const Count = Type.Integer({ minimum: 0 });
const Day = Type.String({ format: 'date', description: 'A UTC calendar day, YYYY-MM-DD' });

export const Overview = Type.Object(
  {
    subscribers: Type.Object({
      total: Count,
      by_status: Type.Object(Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, Count])) as Record<(typeof SUBSCRIBER_STATUSES)[number], typeof Count>),
    }),
    emails: Type.Object({
      plan: Type.String(),
      sent_this_month: Count,
      monthly_limit: Type.Union([Count, Type.Null()], { description: "The plan's monthly sending limit; null when unlimited" }),
      period_start: Day,
    }),
    latest_consent_events: Type.Array(
      Type.Object({
        id: Uuid,
        action: Type.String({ description: 'created, confirmed, status_changed, tag_subscribed, tag_unsubscribed, …' }),
        source: Type.String(),
        subscriber: Type.Object({ id: Uuid, email: Type.Union([Type.String(), Type.Null()]) }),
        tag: Type.Union([Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() }), Type.Null()]),
        details: Type.Record(Type.String(), Type.Unknown()),
        created_at: Timestamp,
      }),
    ),
  },
  { $id: 'StatsOverview' },
);

export const GrowthQuery = Type.Object(
  {
    days: Type.Optional(Type.Integer({ minimum: 7, maximum: 365, default: 30, description: 'How many days back, today included' })),
  },
  { additionalProperties: false },
);

export const Growth = Type.Object(
  {
    days: Count,
    points: Type.Array(
      Type.Object({
        date: Day,
        subscribed: Type.Integer({ minimum: 0, description: 'Subscribers created that day' }),
        unsubscribed: Type.Integer({ minimum: 0, description: 'Subscribers who unsubscribed that day (and still are)' }),
        total: Type.Integer({ minimum: 0, description: 'Subscribers at the end of the day' }),
      }),
    ),
  },
  { $id: 'SubscriberGrowth' },
);
