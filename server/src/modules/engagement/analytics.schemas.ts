import { Type } from 'typebox';
import { StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { INTERVALS, ORG_METRICS } from './analytics.repository.ts';

const Count = Type.Integer({ minimum: 0 });
const Counts = Type.Object({ total: Count, unique: Count }, { additionalProperties: false });
const HumanMachine = Type.Object(
  { human: Counts, machine: Counts },
  { additionalProperties: false, description: 'Human and machine (proxies, scanners) counted apart' },
);
const Rate = Type.Number({ minimum: 0, description: 'A fraction: 0.02 is 2 %' });

export const CampaignAnalytics = Type.Object(
  {
    campaign_id: Uuid,
    tracking: Type.Boolean(),
    sent: Count,
    delivered: Count,
    bounced: Count,
    complained: Count,
    unsubscribed: Type.Integer({ minimum: 0, description: "Subscribers who unsubscribed through this campaign's link" }),
    opens: HumanMachine,
    clicks: HumanMachine,
    rates: Type.Object(
      {
        open_rate: Type.Number({ description: 'Human unique opens / delivered' }),
        click_rate: Type.Number({ description: 'Human unique clicks / delivered' }),
        bounce_rate: Rate,
        complaint_rate: Rate,
        unsubscribe_rate: Rate,
      },
      { additionalProperties: false },
    ),
    warnings: Type.Array(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false }), {
      description: 'Bounce rate above 2 %, complaint rate above 0.1 %',
    }),
    links: Type.Array(Type.Object({ url: Type.String(), human: Counts, machine: Counts }, { additionalProperties: false }), {
      description: 'Clicks per link, most human clicks first (at most 100)',
    }),
    series: Type.Array(
      Type.Object(
        {
          at: Timestamp,
          interval: StringEnum(['hour', 'day'] as const),
          opens: HumanMachine,
          clicks: HumanMachine,
        },
        { additionalProperties: false },
      ),
      { description: 'By hour for the first 48 hours after sending started, then by day' },
    ),
  },
  { $id: 'CampaignAnalytics', additionalProperties: false },
);

export const TimeseriesQuery = Type.Object(
  {
    metric: StringEnum(ORG_METRICS),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Start (inclusive); 30 days before `to` when absent' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'End (exclusive); now when absent' })),
    interval: Type.Optional(StringEnum(INTERVALS, { description: 'Bucket size (default day); at most 2,000 points' })),
  },
  { additionalProperties: false },
);

export const Timeseries = Type.Object(
  {
    metric: StringEnum(ORG_METRICS),
    interval: StringEnum(INTERVALS),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    points: Type.Array(
      Type.Object(
        {
          at: Timestamp,
          value: Type.Number({ description: 'For opens and clicks: human ones' }),
          machine: Type.Optional(Type.Number({ description: 'Opens and clicks only: the machine ones' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { $id: 'Timeseries', additionalProperties: false },
);

export const ResendBody = Type.Object(
  {
    to: StringEnum(['non_openers', 'non_clickers'] as const, { description: 'Who gets the new campaign (human opens and clicks decide)' }),
  },
  { additionalProperties: false },
);
