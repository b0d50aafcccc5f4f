import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * Every event type the outbox carries, with the JSON Schema of its payload. Webhook deliveries send
 * `{ id, type, created_at, data }` with the payload as `data`; the docs list the types and schemas from
 * here. Payloads are written in TypeScript (`insertEvents`) and, on the hottest paths, in SQL
 * (subscriber creation, email sends); a test checks rows written both ways against these schemas.
 * A payload never holds a secret or a message body; it names the subscriber by id and address, as the
 * reference system's webhooks do.
 */
const Id = Type.String({ format: 'uuid' });
const NullableId = Type.Union([Id, Type.Null()]);
const Source = Type.String({ description: 'What made the change: api, admin, preference_center, import, one_click, provider, …' });
const SubscriberRef = Type.Object({ id: Id, email: Type.String() }, { additionalProperties: false });
const TagRef = Type.Object({ id: Id, name: Type.String(), slug: Type.String() }, { additionalProperties: false });

const SubscriberCreated = Type.Object(
  {
    subscriber: Type.Object(
      {
        id: Id,
        email: Type.String(),
        status: Type.String(),
        first_name: Type.Union([Type.String(), Type.Null()]),
        last_name: Type.Union([Type.String(), Type.Null()]),
        tags: Type.Array(Type.String(), { description: 'Slugs of the topics subscribed at creation' }),
      },
      { additionalProperties: false },
    ),
    source: Source,
    test: Type.Optional(Type.Boolean({ description: 'Present (true) when an sf_test_ API key created the subscriber' })),
  },
  { additionalProperties: false },
);

const SubscriberUpdated = Type.Object(
  {
    subscriber: Type.Object({ id: Id, email: Type.String(), status: Type.Optional(Type.String()) }, { additionalProperties: false }),
    changed_fields: Type.Array(Type.String()),
    status: Type.Optional(Type.String({ description: 'The new status, when the status changed' })),
    source: Source,
  },
  { additionalProperties: false },
);

const SubscriberDeleted = Type.Object({ subscriber: SubscriberRef, source: Source }, { additionalProperties: false });

const SubscriberUnsubscribed = Type.Object(
  {
    subscriber: SubscriberRef,
    source: Source,
    campaign_id: Type.Optional(NullableId),
  },
  { additionalProperties: false },
);

const NoteAdded = Type.Object({ subscriber: SubscriberRef, note: Type.Object({ id: Id }, { additionalProperties: false }) }, { additionalProperties: false });

const TagChange = Type.Object(
  {
    subscriber: SubscriberRef,
    tag: TagRef,
    source: Source,
    test: Type.Optional(Type.Boolean({ description: 'Present (true) when an sf_test_ API key (or an automation test run) made the change' })),
  },
  { additionalProperties: false },
);

const EmailEvent = Type.Object(
  {
    email_send_id: Id,
    esp_message_id: Type.Union([Type.String(), Type.Null()]),
    email: Type.String(),
    subscriber_id: NullableId,
    template_id: NullableId,
    campaign_id: NullableId,
    hard: Type.Optional(Type.Boolean({ description: 'Bounces only: a permanent failure' })),
    reason: Type.Optional(Type.String({ description: 'Bounces and failures: why' })),
  },
  { additionalProperties: false },
);

const WebhookTest = Type.Object(
  {
    webhook_id: Id,
    message: Type.String(),
  },
  { additionalProperties: false },
);

const ImportCompleted = Type.Object(
  {
    import: Type.Object(
      {
        id: Id,
        total: Type.Integer({ description: 'Data rows in the file' }),
        created: Type.Integer(),
        updated: Type.Integer(),
        unchanged: Type.Integer(),
        failed: Type.Integer({ description: 'Rows not imported because they are invalid' }),
        skipped: Type.Record(Type.String(), Type.Integer(), { description: 'Rows skipped, by reason: duplicate_in_file, exists, suppressed' }),
      },
      { additionalProperties: false },
    ),
    source: Source,
  },
  { additionalProperties: false },
);

const CampaignRef = Type.Object({ id: Id, name: Type.String() }, { additionalProperties: false });

const CampaignStarted = Type.Object(
  {
    campaign: CampaignRef,
    targeted: Type.Integer({ description: 'Recipients in the audience frozen when sending started' }),
  },
  { additionalProperties: false },
);

const CampaignCompleted = Type.Object(
  {
    campaign: CampaignRef,
    targeted: Type.Integer(),
    sent: Type.Integer({ description: 'Recipients whose email the provider accepted' }),
    failed: Type.Integer({ description: 'Recipients whose email could not be sent (POST /campaigns/{id}/retry sends them again)' }),
    skipped: Type.Integer({ description: 'Recipients who left, bounced or were suppressed after the audience was frozen' }),
  },
  { additionalProperties: false },
);

const CampaignFailed = Type.Object(
  {
    campaign: CampaignRef,
    error: Type.Object(
      { code: Type.String(), message: Type.String() },
      { additionalProperties: false, description: 'Why the campaign stopped, e.g. template_not_found or postal_address_missing' },
    ),
  },
  { additionalProperties: false },
);

const SubscriberConfirmed = Type.Object({ subscriber: SubscriberRef, source: Source }, { additionalProperties: false });

const CustomEvent = Type.Object(
  {
    subscriber: SubscriberRef,
    name: Type.String({ description: 'The event name the application gave' }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'What the application sent with it' }),
    custom_event_id: Id,
    test: Type.Optional(Type.Boolean({ description: 'Present (true) when an sf_test_ API key reported the event' })),
  },
  { additionalProperties: false },
);

const AutomationRun = Type.Object(
  {
    subscriber: Type.Object({ id: Id }, { additionalProperties: false }),
    automation: Type.Object({ id: Id, version: Type.Integer() }, { additionalProperties: false }),
    run_id: Id,
  },
  { additionalProperties: false },
);

interface EventDefinition {
  description: string;
  payload: TSchema;
}

const define = <const T extends Record<string, EventDefinition>>(catalogue: T) => catalogue;

export const EVENT_CATALOGUE = define({
  'subscriber.created': { description: 'A subscriber was added (API, dashboard, website form, import).', payload: SubscriberCreated },
  'subscriber.updated': { description: 'Fields or the status of a subscriber changed.', payload: SubscriberUpdated },
  'subscriber.deleted': { description: 'A subscriber was erased (GDPR deletion); only this event remains.', payload: SubscriberDeleted },
  'subscriber.unsubscribed': { description: 'A subscriber unsubscribed from all marketing email.', payload: SubscriberUnsubscribed },
  'subscriber.confirmed': { description: 'A subscriber confirmed their address (double opt-in done) and is active.', payload: SubscriberConfirmed },
  'subscriber.note_added': { description: 'A note was added to a subscriber.', payload: NoteAdded },
  'tag.subscribed': { description: 'A subscriber subscribed to a topic (tag).', payload: TagChange },
  'tag.unsubscribed': { description: 'A subscriber unsubscribed from a topic (tag).', payload: TagChange },
  'custom_event.received': {
    description: 'An application reported an event of a subscriber (POST /events); automations can start on it.',
    payload: CustomEvent,
  },
  'automation.entered': { description: 'A subscriber entered an automation (one run of its current version).', payload: AutomationRun },
  'automation.completed': { description: 'A subscriber went through every step of an automation.', payload: AutomationRun },
  'import.completed': { description: 'A CSV import finished; one event for the whole file, not one per row.', payload: ImportCompleted },
  'email.sent': { description: 'The provider accepted an email.', payload: EmailEvent },
  'email.delivered': { description: 'The receiving server accepted an email.', payload: EmailEvent },
  'email.delivery_delayed': { description: 'Delivery of an email is delayed; the provider keeps trying.', payload: EmailEvent },
  'email.opened': { description: 'An email was opened (as reported by the provider).', payload: EmailEvent },
  'email.clicked': { description: 'A link in an email was clicked (as reported by the provider).', payload: EmailEvent },
  'email.bounced': { description: 'An email bounced; `hard` bounces suppress the address.', payload: EmailEvent },
  'email.complained': { description: 'The recipient marked an email as spam; the address is suppressed.', payload: EmailEvent },
  'email.failed': { description: 'An email could not be sent.', payload: EmailEvent },
  'campaign.started': { description: 'A campaign started sending: its audience is frozen.', payload: CampaignStarted },
  'campaign.completed': {
    description: 'Every recipient of a campaign has an outcome (again after a retry of its failed recipients).',
    payload: CampaignCompleted,
  },
  'campaign.failed': { description: 'A campaign stopped before it was sent, e.g. because its template was deleted.', payload: CampaignFailed },
  'webhook.test': { description: 'Sent to one endpoint by its test button (POST /webhooks/{id}/test), never from the outbox.', payload: WebhookTest },
});

export type EventType = keyof typeof EVENT_CATALOGUE;
export type EventPayload<T extends EventType> = Static<(typeof EVENT_CATALOGUE)[T]['payload']>;

/** One outbox row to write: its type, the id of what it is about, and a payload matching the type's schema. */
export type OutboxEvent = { [T in EventType]: { type: T; subjectId: string | null; payload: EventPayload<T> } }[EventType];

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

export const isEventType = (value: string): value is EventType => Object.hasOwn(EVENT_CATALOGUE, value);

const checkers = new Map(EVENT_TYPES.map((type) => [type, Compile(EVENT_CATALOGUE[type].payload)]));

/** Whether a stored payload matches its type's schema (the tests check every row written). */
export function isValidEventPayload(type: string, payload: unknown): boolean {
  return isEventType(type) && checkers.get(type)!.Check(payload);
}

/** The catalogue as plain JSON Schema, for the docs and the webhook endpoints' event picker. */
export function eventCatalogueJson(): { type: EventType; description: string; payload: unknown }[] {
  return EVENT_TYPES.map((type) => ({
    type,
    description: EVENT_CATALOGUE[type].description,
    payload: JSON.parse(JSON.stringify(EVENT_CATALOGUE[type].payload)),
  }));
}
