import { Type, type Static } from 'typebox';
import { Cursor, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { SegmentFilter as NamedSegmentFilter } from '../segments/index.ts';

// The segment filter schema without its $id: an automation holds it in more than one place (entry
// conditions, condition steps), and one schema may not define an id twice.
const { $id: _id, ...segmentFilter } = NamedSegmentFilter as unknown as Record<string, unknown>;
const SegmentFilter = Type.Unsafe<Static<typeof NamedSegmentFilter>>({
  ...segmentFilter,
  description: 'A segment filter: nested AND/OR groups over subscriber fields (as in segments)',
});

/** The events an automation starts on besides custom ones (any other name is a custom event's). */
export const BUILT_IN_TRIGGERS = ['subscriber.created', 'subscriber.confirmed', 'tag.subscribed', 'tag.unsubscribed'] as const;
export const REENTRY = ['never', 'after_completion', 'always'] as const;
export const RUN_STATUSES = ['active', 'completed', 'exited'] as const;
export const MIN_DELAY_SECONDS = 60;
export const MAX_DELAY_SECONDS = 365 * 86_400;
export const MAX_STEPS = 50;

const EventName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$', description: 'An event name: letters, digits, _ . : -' });
const Seconds = Type.Integer({ minimum: MIN_DELAY_SECONDS, maximum: MAX_DELAY_SECONDS, description: 'From 1 minute to 365 days, in seconds' });

export const Step = Type.Union(
  [
    Type.Object({ type: Type.Literal('send_email'), template_id: Uuid }, { additionalProperties: false, description: 'Sends a marketing template' }),
    Type.Object({ type: Type.Literal('delay'), seconds: Seconds }, { additionalProperties: false, description: 'Waits' }),
    Type.Object(
      {
        type: Type.Literal('wait_for_event'),
        event: EventName,
        timeout_seconds: Seconds,
        on_timeout: StringEnum(['continue', 'exit'] as const, { description: 'What happens when the event does not come in time' }),
      },
      { additionalProperties: false, description: 'Waits for an event of the subscriber (a custom event or a built-in one), at most timeout_seconds' },
    ),
    Type.Object(
      { type: Type.Literal('condition'), filter: SegmentFilter },
      { additionalProperties: false, description: 'Continues when the subscriber matches the filter now, else the run exits' },
    ),
    Type.Object({ type: Type.Literal('add_tag'), tag_id: Uuid }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('remove_tag'), tag_id: Uuid }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('exit') }, { additionalProperties: false }),
  ],
  { description: 'One step of an automation' },
);
export type Step = Static<typeof Step>;

const writable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  event: Type.String({
    minLength: 1,
    maxLength: 100,
    pattern: '^[A-Za-z0-9_.:-]+$',
    description: `What starts it: ${BUILT_IN_TRIGGERS.join(', ')}, or the name of a custom event (POST /events)`,
  }),
  tag_id: Type.Union([Uuid, Type.Null()], { description: 'tag.subscribed / tag.unsubscribed: only this tag (null: any tag)' }),
  template_id: Uuid,
  delay_seconds: Type.Integer({
    minimum: 0,
    maximum: MAX_DELAY_SECONDS,
    description: 'Single-step form: wait this long (0, or at least 60) before sending template_id',
  }),
  conditions: Type.Union([SegmentFilter, Type.Null()]),
  steps: Type.Array(Step, { minItems: 1, maxItems: MAX_STEPS }),
  reentry: StringEnum(REENTRY, {
    description: 'never (default): a subscriber enters once; after_completion: again once their run is over; always: on every event',
  }),
  is_active: Type.Boolean(),
};

export const CreateTriggerBody = Type.Object(
  {
    name: writable.name,
    event: writable.event,
    tag_id: Type.Optional(writable.tag_id),
    template_id: Type.Optional(writable.template_id),
    delay_seconds: Type.Optional(writable.delay_seconds),
    conditions: Type.Optional(writable.conditions),
    steps: Type.Optional(writable.steps),
    reentry: Type.Optional(writable.reentry),
    is_active: Type.Optional(writable.is_active),
  },
  { additionalProperties: false, description: 'Either template_id (with delay_seconds) as one step, or steps' },
);
export type CreateTriggerBody = Static<typeof CreateTriggerBody>;

export const UpdateTriggerBody = Type.Partial(CreateTriggerBody, { additionalProperties: false, minProperties: 1 });
export type UpdateTriggerBody = Static<typeof UpdateTriggerBody>;

export const Trigger = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    event: Type.String(),
    tag_id: Type.Union([Uuid, Type.Null()]),
    template_id: Type.Union([Uuid, Type.Null()], { description: 'The first email it sends' }),
    delay_seconds: Type.Integer({ description: 'The waiting before its first email' }),
    conditions: Type.Union([SegmentFilter, Type.Null()], { description: 'Checked when a subscriber enters' }),
    steps: Type.Array(Step),
    reentry: StringEnum(REENTRY),
    is_active: Type.Boolean(),
    version: Type.Integer({ description: 'Changing steps, event or conditions makes a new version; runs in flight stay on theirs' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Trigger', additionalProperties: false },
);

export const ListTriggersQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });
export const TriggerPage = Type.Object({ items: Type.Array(Trigger), next_cursor: NextCursor });

const Count = Type.Integer({ minimum: 0 });
export const StepCounts = Type.Object(
  {
    version: Type.Integer(),
    runs: Type.Object({ active: Count, completed: Count, exited: Count }, { additionalProperties: false }),
    steps: Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          type: Type.String(),
          entered: Count,
          waiting: Count,
          completed: Count,
          exited: Count,
          exit_reasons: Type.Record(Type.String(), Count),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const StepCountsQuery = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: the current version' })) },
  { additionalProperties: false },
);

export const RunTimeline = Type.Object({
  items: Type.Array(
    Type.Object(
      {
        id: Uuid,
        automation: Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer() }, { additionalProperties: false }),
        status: StringEnum(RUN_STATUSES),
        test: Type.Boolean({
          description: "Started by an sf_test_ API key: its emails went to the dev mailbox (step reason 'dev_mailbox'), not to the subscriber",
        }),
        exit_reason: Type.Union([Type.String(), Type.Null()]),
        next_step_at: NullableTimestamp,
        entered_at: Timestamp,
        finished_at: NullableTimestamp,
        steps: Type.Array(
          Type.Object(
            {
              index: Type.Integer(),
              type: Type.String(),
              status: StringEnum(['waiting', 'completed', 'exited'] as const),
              reason: Type.Union([Type.String(), Type.Null()]),
              email_message_id: Type.Union([Uuid, Type.Null()]),
              started_at: Timestamp,
              finished_at: NullableTimestamp,
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  next_cursor: NextCursor,
});

/** A custom event is small: its data is at most this many bytes of JSON. */
export const MAX_EVENT_DATA_BYTES = 8192;

export const CustomEventBody = Type.Object(
  {
    subscriber_id: Type.Optional(Uuid),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    name: EventName,
    data: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 50, description: `At most ${MAX_EVENT_DATA_BYTES} bytes as JSON` }),
    ),
    idempotency_key: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'A second event with the same key is recognized and starts nothing' }),
    ),
  },
  { additionalProperties: false, description: 'Names the subscriber by subscriber_id or email' },
);

export const CustomEventResult = Type.Object(
  {
    id: Uuid,
    duplicate: Type.Boolean({ description: 'True when the idempotency key was used before: nothing new happened' }),
  },
  { additionalProperties: false },
);
