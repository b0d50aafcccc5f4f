import { Type, type Static } from 'typebox';
import { ListFilterFields, SortFields } from './list-query.ts';
import { Cursor, ErrorDetailSchema, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';

import { LOCALE_MAX_LENGTH, LOCALE_PATTERN } from '../../lib/locale.ts';
import { SUBSCRIBER_STATUSES } from './statuses.ts';
export { SUBSCRIBER_STATUSES, type SubscriberStatus } from './statuses.ts';

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
const PersonName = Type.Union([Type.String({ maxLength: 100 }), Type.Null()]);
const Metadata = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 50,
  description: 'Free-form JSON object (at most 50 keys, 16 KB serialized)',
});
const Locale = Type.Union(
  [
    Type.String({
      maxLength: LOCALE_MAX_LENGTH,
      pattern: LOCALE_PATTERN,
      description: 'Language tag such as "de", "de-AT" or "pt-BR" (stored as de-AT); the footer and segments use it',
    }),
    Type.Null(),
  ],
  { description: "The subscriber's language and region; null: the organization's" },
);
const TagRef = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'A tag slug or name; unknown names are created' });
const Source = Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9_.:-]+$' });
const ConsentReason = Type.String({
  minLength: 1,
  maxLength: 500,
  pattern: '\\S',
  description:
    'Required to make a subscriber active again (from pending, unsubscribed, bounced or complained): why the person agreed, kept in the consent history',
});

export const SubscriberTag = Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() });

export const Subscriber = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    status: StringEnum(SUBSCRIBER_STATUSES),
    first_name: PersonName,
    last_name: PersonName,
    locale: Type.Union([Type.String(), Type.Null()], { description: 'Language tag such as "de-AT"; null: the organization\'s' }),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    source: Type.String(),
    tags: Type.Array(SubscriberTag, { description: 'Tags the subscriber is currently subscribed to' }),
    confirmed_at: NullableTimestamp,
    unsubscribed_at: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Subscriber' },
);
export type SubscriberDto = Static<typeof Subscriber>;

export const CreateSubscriberBody = Type.Object(
  {
    email: Email,
    first_name: Type.Optional(PersonName),
    last_name: Type.Optional(PersonName),
    locale: Type.Optional(Locale),
    metadata: Type.Optional(Metadata),
    tags: Type.Optional(Type.Array(TagRef, { maxItems: 50 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pending')], { default: 'active' })),
    source: Type.Optional(Source),
  },
  { additionalProperties: false },
);
export type CreateSubscriberInput = Static<typeof CreateSubscriberBody>;

export const UpdateSubscriberBody = Type.Object(
  {
    email: Type.Optional(Email),
    first_name: Type.Optional(PersonName),
    last_name: Type.Optional(PersonName),
    locale: Type.Optional(Locale),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
        maxProperties: 50,
        description:
          'Replaces the whole metadata object (send {} to clear it; keys left out are removed). The batch upsert merges instead: its keys are added to or overwrite the stored ones. To change one key here, read the subscriber and send the full object.',
      }),
    ),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('unsubscribed')])),
    consent_reason: Type.Optional(ConsentReason),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSubscriberInput = Static<typeof UpdateSubscriberBody>;

export const ListSubscribersQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Type.String({ maxLength: 1500, description: 'The next_cursor of the previous page (of the same sort)' })),
    ...ListFilterFields,
    ...SortFields,
    include_total: Type.Optional(
      Type.Boolean({
        description:
          'Also answer `total`: how many subscribers match the filters (all pages). Exact up to 100,000 (1,000 with a search term `q`), an estimate above (then `total_exact` is false).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListSubscribersQueryInput = Static<typeof ListSubscribersQuery>;

export const SubscriberPage = Type.Object({
  items: Type.Array(Subscriber),
  next_cursor: NextCursor,
  total: Type.Optional(Type.Integer({ minimum: 0, description: 'Subscribers matching the filters, on every page together (only with include_total=true)' })),
  total_exact: Type.Optional(Type.Boolean({ description: 'False when `total` is an estimate (more than 100,000 matches, or 1,000 with a search term)' })),
});

export const ByEmailQuery = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false });

export const AddTagsBody = Type.Object({ tags: Type.Array(TagRef, { minItems: 1, maxItems: 50 }) }, { additionalProperties: false });

export const HistoryEntry = Type.Object({
  id: Uuid,
  action: Type.String({ description: 'created, status_changed, email_changed, tag_subscribed, tag_unsubscribed, …' }),
  tag: Type.Union([SubscriberTag, Type.Null()]),
  source: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
});
export const HistoryPage = Type.Object({ items: Type.Array(HistoryEntry), next_cursor: NextCursor });
export const PageQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });

export const Note = Type.Object({
  id: Uuid,
  body: Type.String(),
  author: Type.Object({ type: Type.Union([Type.Literal('user'), Type.Literal('api_key')]), id: Type.Union([Uuid, Type.Null()]) }),
  created_at: Timestamp,
});
export const NotePage = Type.Object({ items: Type.Array(Note), next_cursor: NextCursor });
export const CreateNoteBody = Type.Object({ body: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }) }, { additionalProperties: false });

/** A batch item is validated on its own so one bad item does not fail the others. */
export const BatchItem = Type.Object(
  {
    email: Email,
    first_name: Type.Optional(PersonName),
    last_name: Type.Optional(PersonName),
    locale: Type.Optional(Locale),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
        maxProperties: 50,
        description:
          "Merged into an existing subscriber's metadata: these keys are added or overwritten, the others kept (PATCH /subscribers/{id} replaces the whole object instead).",
      }),
    ),
    tags: Type.Optional(Type.Array(TagRef, { maxItems: 50 })),
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('pending'), Type.Literal('unsubscribed')], {
        description:
          'For a new subscriber, its status (default active). An existing one becomes active again only with a consent_reason, and a bounced or complained one keeps its status (the item fails)',
      }),
    ),
    consent_reason: Type.Optional(ConsentReason),
  },
  { additionalProperties: false },
);
export type BatchItemInput = Static<typeof BatchItem>;

export const BatchBody = Type.Object(
  {
    subscribers: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000 }),
    source: Type.Optional(Source),
  },
  { additionalProperties: false },
);

/**
 * The batch body as documented: the request is validated with BatchBody (items checked one by one by
 * the service, so one bad item fails alone), while the OpenAPI document and the generated clients show
 * what each item must be.
 */
export const BatchBodyDocumented = Type.Object(
  {
    subscribers: Type.Array(BatchItem, {
      minItems: 1,
      maxItems: 1000,
      description: 'Each item is validated on its own; invalid items fail alone with their reasons in the results',
    }),
    source: Type.Optional(Source),
  },
  { additionalProperties: false },
);

export const BatchResult = Type.Object({
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('failed')]),
      id: Type.Optional(Uuid),
      email: Type.Optional(Type.String()),
      error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(ErrorDetailSchema)) })),
    }),
  ),
  created: Type.Integer(),
  updated: Type.Integer(),
  failed: Type.Integer(),
});
