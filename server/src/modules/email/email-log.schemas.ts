import { Type } from 'typebox';
import { Cursor, Limit, NextCursor, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { MESSAGE_STATUSES } from './email.repository.ts';
import { deliveryTimes } from './email.schemas.ts';

const Category = StringEnum(['transactional', 'marketing'] as const);

export const EmailLogQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    status: Type.Optional(StringEnum(MESSAGE_STATUSES)),
    category: Type.Optional(Category),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: "The recipient's address or its beginning, any case" })),
    template_id: Type.Optional(Uuid),
    campaign_id: Type.Optional(Uuid),
    subscriber_id: Type.Optional(Uuid),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Only messages queued at or after this time' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Only messages queued before this time' })),
  },
  { additionalProperties: false },
);

/** A message in the organization's log: who it went to, what happened to it. Never the body. */
export const EmailLogEntry = Type.Object(
  {
    id: Uuid,
    status: StringEnum(MESSAGE_STATUSES),
    category: Category,
    to_address: Type.String(),
    from_address: Type.String(),
    subject: Type.String(),
    template: Type.Union([Type.Object({ id: Uuid, slug: Type.String(), name: Type.String() }), Type.Null()], {
      description: 'Null when the message had no template or its template was deleted',
    }),
    subscriber_id: Type.Union([Uuid, Type.Null()]),
    campaign_id: Type.Union([Uuid, Type.Null()]),
    esp_message_id: Type.Union([Type.String(), Type.Null()], { description: "The provider's message id, once it accepted the email" }),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    open_count: Type.Integer(),
    click_count: Type.Integer(),
    ...deliveryTimes,
  },
  { $id: 'EmailLogEntry' },
);

export const EmailLogPage = Type.Object({ items: Type.Array(EmailLogEntry), next_cursor: NextCursor }, { $id: 'EmailLogPage' });

export const EmailContent = Type.Object(
  {
    id: Uuid,
    headers: Type.Record(Type.String(), Type.String(), { description: 'The headers we set on the message (the provider adds its own)' }),
    html: Type.String(),
    text: Type.String(),
    events: Type.Array(
      Type.Object({
        type: Type.String({ description: "The provider's event, e.g. email.delivered, email.bounced" }),
        provider: Type.String(),
        received_at: Timestamp,
      }),
    ),
  },
  { $id: 'EmailContent' },
);
