import { Type } from 'typebox';
import { Cursor, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { CAMPAIGN_STATUSES, RECIPIENT_STATUSES } from './campaigns.repository.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const TagRef = Type.String({ minLength: 1, maxLength: 100, description: 'A tag id or slug' });

export const TagFilter = Type.Object(
  {
    include_tags: Type.Array(TagRef, { minItems: 1, maxItems: 50 }),
    exclude_tags: Type.Optional(Type.Array(TagRef, { maxItems: 50 })),
    match: Type.Optional(StringEnum(['any', 'all'] as const, { description: 'any (default): subscribed to one of the tags; all: to every one' })),
  },
  { $id: 'CampaignTagFilter', additionalProperties: false },
);

export const AB_METRICS = ['human_unique_clicks', 'human_unique_opens'] as const;
export const AB_WINNER_MODES = ['auto', 'manual'] as const;

/** One variant of an A/B test: what it changes from the campaign (absent: the campaign's own). */
export const AbVariant = Type.Object(
  {
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: "This variant's subject (Liquid)" })),
    from_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    template_id: Type.Optional(Uuid),
    preheader: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { $id: 'CampaignAbVariant', additionalProperties: false },
);

export const AbTest = Type.Object(
  {
    variants: Type.Array(AbVariant, { minItems: 2, maxItems: 4, description: '2 to 4 variants; each must differ from the others' }),
    test_share: Type.Integer({ minimum: 5, maximum: 50, description: 'Percent of the audience that gets the test (split evenly across the variants)' }),
    metric: StringEnum(AB_METRICS, { description: 'What decides the winner: unique human clicks or opens (machine opens and clicks never count)' }),
    wait_hours: Type.Integer({ minimum: 1, maximum: 72, description: 'Hours after sending starts when the winner is chosen' }),
    winner: StringEnum(AB_WINNER_MODES, { description: 'auto: chosen by the metric after wait_hours and sent to the rest; manual: an admin chooses' }),
  },
  { $id: 'CampaignAbTest', additionalProperties: false },
);

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  template_id: Nullable(Uuid),
  tag_filter: Type.Union([TagFilter, Type.Null()]),
  segment_id: Nullable(Uuid),
  subject: Nullable(Type.String({ minLength: 1, maxLength: 500, description: "Replaces the template's subject (Liquid)" })),
  preheader: Nullable(Type.String({ maxLength: 500 })),
  from_name: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  reply_to: Nullable(Type.String({ format: 'email', maxLength: 254 })),
  tracking: Type.Boolean({ description: 'Open and click tracking (default true; also needs tracking on in the organization settings)' }),
  ab_test: Type.Union([AbTest, Type.Null()], { description: 'An A/B test of 2 to 4 variants (null: none)' }),
};

export const CreateCampaignBody = Type.Object(
  {
    name: fields.name,
    template_id: Type.Optional(fields.template_id),
    tag_filter: Type.Optional(fields.tag_filter),
    segment_id: Type.Optional(fields.segment_id),
    subject: Type.Optional(fields.subject),
    preheader: Type.Optional(fields.preheader),
    from_name: Type.Optional(fields.from_name),
    reply_to: Type.Optional(fields.reply_to),
    tracking: Type.Optional(fields.tracking),
    ab_test: Type.Optional(fields.ab_test),
  },
  { additionalProperties: false },
);

export const UpdateCampaignBody = Type.Partial(CreateCampaignBody, { additionalProperties: false, minProperties: 1 });

export const Campaign = Type.Object(
  {
    id: Uuid,
    ...fields,
    status: StringEnum(CAMPAIGN_STATUSES),
    scheduled_at: NullableTimestamp,
    started_at: NullableTimestamp,
    completed_at: NullableTimestamp,
    cancelled_at: NullableTimestamp,
    resumes_at: Type.Union([Timestamp, Type.Null()], { description: "While sending waits for the organization's sending window: when it goes on" }),
    targeted_count: Type.Integer({ description: 'Recipients frozen when sending started' }),
    last_error: Type.Union([Type.String(), Type.Null()], { description: 'Why the campaign failed or paused itself' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Campaign', additionalProperties: false },
);

export const ListCampaignsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    status: Type.Optional(StringEnum(CAMPAIGN_STATUSES)),
  },
  { additionalProperties: false },
);

export const CampaignPage = Type.Object({ items: Type.Array(Campaign), next_cursor: NextCursor });

export const SendBody = Type.Object(
  {
    scheduled_at: Type.Optional(Type.String({ format: 'date-time', description: 'When to start; now when absent. A past time is a 422.' })),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });
export const RecipientCount = Type.Object(
  {
    count: Count,
    excluded: Type.Object(
      {
        unsubscribed_from_topic: Count,
        unsubscribed: Count,
        bounced: Count,
        complained: Count,
        suppressed: Count,
        pending_confirmation: Count,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const progressCounts = {
  queued: Count,
  sending: Count,
  sent: Count,
  failed: Count,
  skipped: Count,
  cancelled: Count,
  held: Type.Integer({ minimum: 0, description: 'A/B test: recipients waiting for the winner' }),
};
export const Progress = Type.Object(
  {
    status: StringEnum(CAMPAIGN_STATUSES),
    targeted: Count,
    ...progressCounts,
    last_error: Type.Union([Type.String(), Type.Null()]),
    resumes_at: Type.Union([Timestamp, Type.Null()], { description: 'While sending waits for the sending window: when it goes on' }),
  },
  {
    additionalProperties: false,
    description: 'Every recipient is in exactly one of queued, sending, sent, failed, skipped, cancelled, held: they add up to targeted',
  },
);

export const Stats = Type.Object(
  {
    targeted: Count,
    ...progressCounts,
    delivered: Count,
    bounced: Count,
    complained: Count,
    opened: Count,
    clicked: Count,
    unsubscribed: Type.Integer({ minimum: 0, description: "Subscribers who unsubscribed through this campaign's link" }),
    skipped_by_reason: Type.Record(Type.String(), Count),
  },
  { additionalProperties: false },
);

export const RecipientsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    status: Type.Optional(StringEnum(RECIPIENT_STATUSES)),
  },
  { additionalProperties: false },
);

export const RecipientPage = Type.Object({
  items: Type.Array(
    Type.Object(
      {
        subscriber_id: Uuid,
        email: Type.Union([Type.String(), Type.Null()]),
        status: StringEnum(RECIPIENT_STATUSES),
        reason: Type.Union([Type.String(), Type.Null()]),
        email_message_id: Type.Union([Uuid, Type.Null()]),
        message_status: Type.Union([Type.String(), Type.Null()]),
        updated_at: Timestamp,
      },
      { additionalProperties: false },
    ),
  ),
  next_cursor: NextCursor,
});

export const RetryResult = Type.Object({ requeued: Count, campaign: Campaign }, { additionalProperties: false });

export const TestBody = Type.Object(
  {
    emails: Type.Array(Type.String({ format: 'email', maxLength: 254 }), { minItems: 1, maxItems: 5, description: 'At most five addresses' }),
  },
  { additionalProperties: false },
);
export const TestResult = Type.Object({ sent: Count }, { additionalProperties: false });

export const AB_STATES = ['not_started', 'testing', 'waiting', 'decided'] as const;
const Rate = Type.Number({ minimum: 0, maximum: 1 });
export const AbTestResults = Type.Object(
  {
    state: StringEnum(AB_STATES, {
      description: 'not_started: sending has not started; testing: the variants are being sent; waiting: sent, the rest waits for the winner; decided',
    }),
    metric: StringEnum(AB_METRICS),
    winner_mode: StringEnum(AB_WINNER_MODES),
    decide_at: Type.Union([Timestamp, Type.Null()], { description: 'When the winner is chosen automatically (winner auto), or when the test ends (manual)' }),
    winner: Type.Union([Type.Integer({ minimum: 0, maximum: 3 }), Type.Null()], { description: "The winning variant's index" }),
    winner_chosen_at: NullableTimestamp,
    winner_chosen_by: Type.Union([StringEnum(AB_WINNER_MODES), Type.Null()]),
    leader: Type.Union([Type.Integer({ minimum: 0, maximum: 3 }), Type.Null()], {
      description: 'The variant the metric favours now (ties: the lowest index); null before anything was sent',
    }),
    variants: Type.Array(
      Type.Object(
        {
          variant: Type.Integer({ minimum: 0, maximum: 3 }),
          subject: Type.Union([Type.String(), Type.Null()]),
          from_name: Type.Union([Type.String(), Type.Null()]),
          template_id: Type.Union([Uuid, Type.Null()]),
          preheader: Type.Union([Type.String(), Type.Null()]),
          recipients: Count,
          sent: Count,
          delivered: Count,
          human_unique_opens: Count,
          machine_unique_opens: Count,
          human_unique_clicks: Count,
          machine_unique_clicks: Count,
          human_open_rate: Rate,
          human_click_rate: Rate,
        },
        { additionalProperties: false },
      ),
    ),
    rest: Type.Object(
      {
        recipients: Type.Integer({ minimum: 0, description: 'Recipients outside the test: they get the winner' }),
        held: Type.Integer({ minimum: 0, description: 'Of them, still waiting for the winner' }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'CampaignAbTestResults', additionalProperties: false, description: 'Rates are human unique opens or clicks per email sent in the variant' },
);

export const ChooseWinnerBody = Type.Object(
  { variant: Type.Integer({ minimum: 0, maximum: 3, description: "The winning variant's index (0-based)" }) },
  { additionalProperties: false },
);
