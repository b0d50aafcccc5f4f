import { Type } from 'typebox';
import { Cursor, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { MESSAGE_STATUSES } from './email.repository.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** When a message was queued and what happened to it after: the same fields wherever messages are shown. */
export const deliveryTimes = {
  created_at: Timestamp,
  sent_at: NullableTimestamp,
  delivered_at: NullableTimestamp,
  opened_at: NullableTimestamp,
  clicked_at: NullableTimestamp,
  bounced_at: NullableTimestamp,
  complained_at: NullableTimestamp,
  failed_at: NullableTimestamp,
};

export const SendEmailBody = Type.Object({
  template_slug: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  template_id: Type.Optional(Uuid),
  to: Type.Union([Uuid, Type.String({ format: 'email', maxLength: 254 })], { description: 'An email address or a subscriber id' }),
  variables: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 100, description: 'Template variables (at most 100 keys, 64 KB as JSON)' })),
  idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'The same key never sends twice; the Idempotency-Key header works too' })),
}, { additionalProperties: false });

export const SendEmailResult = Type.Object({ id: Uuid, status: StringEnum(MESSAGE_STATUSES) });

export const TemplateTestBody = Type.Object({
  variables: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 100, description: 'Sample variables (at most 100 keys, 64 KB as JSON)' })),
}, { additionalProperties: false });
export const TemplateTestResult = Type.Object({ id: Uuid, to: Type.String({ description: 'Your own address, where the test goes' }) });

export const EmailMessage = Type.Object({
  id: Uuid,
  status: StringEnum(MESSAGE_STATUSES),
  category: StringEnum(['transactional', 'marketing'] as const),
  to_address: Type.String(),
  from_address: Type.String(),
  subject: Type.String(),
  template_id: Nullable(Uuid),
  subscriber_id: Nullable(Uuid),
  campaign_id: Nullable(Uuid),
  provider: Nullable(Type.String()),
  esp_message_id: Type.Union([Type.String(), Type.Null()], { description: 'The provider\'s message id, once it accepted the email' }),
  attempts: Type.Integer(),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  open_count: Type.Integer(),
  click_count: Type.Integer(),
  ...deliveryTimes,
}, { $id: 'EmailMessage' });

export const SubscriberEmailsQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });

/** A message in a subscriber's list: what was sent and what happened to it. Never the body. */
export const SubscriberEmail = Type.Object({
  id: Uuid,
  template: Type.Union([Type.Object({ id: Uuid, slug: Type.String(), name: Type.String() }), Type.Null()], { description: 'Null when the message had no template or its template was deleted' }),
  category: StringEnum(['transactional', 'marketing'] as const),
  to_address: Type.String({ description: 'The address it went to, which may differ from the subscriber\'s current one' }),
  subject: Type.String(),
  status: StringEnum(MESSAGE_STATUSES),
  esp_message_id: Type.Union([Type.String(), Type.Null()], { description: 'The provider\'s message id, once it accepted the email' }),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  ...deliveryTimes,
}, { $id: 'SubscriberEmail' });
export const SubscriberEmailPage = Type.Object({ items: Type.Array(SubscriberEmail), next_cursor: NextCursor });
