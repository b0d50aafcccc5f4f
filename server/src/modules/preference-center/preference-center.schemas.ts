import { Type, type Static, type TSchema } from 'typebox';
import { NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { SUBSCRIBER_STATUSES } from '../subscribers/index.ts';

/** Languages the preference center speaks; organizations pick a default and may override texts per locale. */
export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
export const LocaleSchema = StringEnum(LOCALES);

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const PreferenceToken = Type.String({ minLength: 16, maxLength: 2048, description: 'The signed link token from the preference-center URL' });
export const TokenQuery = Type.Object({ token: PreferenceToken }, { additionalProperties: false });

export const CreatePreferenceTokenBody = Type.Object(
  {
    expires_in: Type.Optional(Type.Integer({ minimum: 300, maximum: 90 * 86_400, description: 'Lifetime in seconds: 7 days when left out, at most 90 days' })),
  },
  { additionalProperties: false },
);

export const PreferenceTokenResponse = Type.Object({
  token: Type.String(),
  url: Type.String({ description: 'The preference-center page with the token' }),
  expires_at: Timestamp,
});

export const TEXT_LIMITS = { title: 200, intro: 2000, save: 200, unsubscribe_all: 100, consent: 1000 } as const;

const TextsOut = Type.Object({
  title: Type.Optional(Type.String()),
  intro: Type.Optional(Type.String()),
  save: Type.Optional(Type.String({ description: 'Said after a change is saved' })),
  unsubscribe_all: Type.Optional(Type.String({ description: 'Label of the unsubscribe-from-all button' })),
  consent: Type.Optional(Type.String({ description: 'The consent wording on the double-opt-in confirmation page' })),
});
const TextsByLocale = Type.Object({ en: Type.Optional(TextsOut), de: Type.Optional(TextsOut) });

const text = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));
const TextsIn = Type.Object(
  {
    title: text(TEXT_LIMITS.title),
    intro: text(TEXT_LIMITS.intro),
    save: text(TEXT_LIMITS.save),
    unsubscribe_all: text(TEXT_LIMITS.unsubscribe_all),
    consent: text(TEXT_LIMITS.consent),
  },
  { additionalProperties: false, description: 'null removes a text, so the default applies again' },
);

/** What a subscriber's browser may know about the organization: name, look and words. */
export const PublicOrganization = Type.Object({
  name: Type.String(),
  slug: Type.String(),
  locale: LocaleSchema,
  logo_url: Nullable(Type.String()),
  accent_color: Nullable(Type.String({ description: 'Hex colour, e.g. #1d4ed8' })),
  texts: TextsByLocale,
  postal_address: Nullable(Type.String({ description: "The organization's postal address, for the page's footer" })),
  privacy_url: Nullable(Type.String({ description: 'Privacy policy page, linked in the footer' })),
  imprint_url: Nullable(Type.String({ description: 'Imprint (legal notice) page, linked in the footer' })),
});

export const PreferenceTag = Type.Object({
  id: Uuid,
  name: Type.String(),
  display_name: Type.String(),
  description: Nullable(Type.String()),
  category: Nullable(Type.String()),
  translations: Type.Object(
    {
      en: Type.Optional(Type.Object({ name: Type.String(), description: Nullable(Type.String()) })),
      de: Type.Optional(Type.Object({ name: Type.String(), description: Nullable(Type.String()) })),
    },
    { description: "The topic's name and description per language; the page shows the subscriber's, else name and description" },
  ),
  is_subscribed: Type.Boolean(),
});

export const PreferenceCenterView = Type.Object({
  subscriber: Type.Object({ email: Type.String(), first_name: Nullable(Type.String()), status: StringEnum(SUBSCRIBER_STATUSES) }),
  organization: PublicOrganization,
  categories: Type.Array(Type.Object({ name: Type.String(), display_name: Type.String() }), {
    description: 'Categories of the public tags, in display order; tags without one come last',
  }),
  tags: Type.Array(PreferenceTag, { description: "Public tags, in the order the organization's admins set" }),
  can_manage_data: Type.Boolean({
    description:
      'Whether this link may export and erase the data: only links emailed on request (request-link) may; links from emails in general manage topics only',
  }),
  preview: Type.Boolean({
    description: "An admin's preview with a sample subscriber: nothing can be changed through it (every change answers 401)",
  }),
});
export type PreferenceCenterViewDto = Static<typeof PreferenceCenterView>;

/** Why someone leaves, when they say: a fixed list (no free text), kept in the consent history. */
export const UNSUBSCRIBE_REASONS = ['too_many', 'not_relevant', 'never_signed_up', 'other'] as const;
export type UnsubscribeReason = (typeof UNSUBSCRIBE_REASONS)[number];

export const TagParams = Type.Object({ tag_id: Uuid }, { additionalProperties: false });
export const SetTagBody = Type.Object(
  {
    subscribed: Type.Boolean(),
    reason: Type.Optional(
      StringEnum(UNSUBSCRIBE_REASONS, {
        description: 'Optional, when unsubscribing: why; stored in the consent history',
      }),
    ),
  },
  { additionalProperties: false },
);
export const SetTagResponse = Type.Object({ tag_id: Uuid, is_subscribed: Type.Boolean(), changed: Type.Boolean() });

export const UnsubscribeAllQuery = Type.Object(
  {
    token: PreferenceToken,
    reason: Type.Optional(
      StringEnum(UNSUBSCRIBE_REASONS, { description: 'Optional: why (too many emails, not relevant, never signed up, other); stored in the consent history' }),
    ),
  },
  { additionalProperties: false },
);

export const UnsubscribeAllResponse = Type.Object({
  status: StringEnum(SUBSCRIBER_STATUSES),
  unsubscribed_tags: Type.Integer(),
  undo_token: Type.String({ description: 'Send to unsubscribe-all/undo to take this back' }),
  undo_expires_at: Timestamp,
});
export const UndoBody = Type.Object({ undo_token: Type.String({ minLength: 16, maxLength: 2048 }) }, { additionalProperties: false });
export const UndoResponse = Type.Object({ status: StringEnum(SUBSCRIBER_STATUSES), resubscribed_tags: Type.Integer() });

export const ResubscribeBody = Type.Object({ locale: Type.Optional(LocaleSchema) }, { additionalProperties: false });
export const ResubscribeResponse = Type.Object({ status: StringEnum(['confirmation_sent', 'already_active'] as const) });

const ExportTag = Type.Object({
  name: Type.String(),
  slug: Type.String(),
  status: Type.String(),
  source: Type.String(),
  subscribed_at: NullableTimestamp,
  unsubscribed_at: NullableTimestamp,
});
const ExportHistory = Type.Object({
  action: Type.String(),
  tag: Nullable(Type.Object({ name: Type.String(), slug: Type.String() })),
  source: Type.String(),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
});
export const ExportResponse = Type.Object({
  exported_at: Timestamp,
  organization: Type.Object({ name: Type.String() }),
  subscriber: Type.Object({
    id: Uuid,
    email: Type.String(),
    status: Type.String(),
    first_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    source: Type.String(),
    confirmed_at: NullableTimestamp,
    unsubscribed_at: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  tags: Type.Array(ExportTag),
  consent_history: Type.Array(ExportHistory),
  notes: Type.Array(Type.Object({ body: Type.String(), created_at: Timestamp })),
  messages: Type.Array(
    Type.Object({
      id: Uuid,
      category: Type.String(),
      from_address: Type.String(),
      to_address: Type.String(),
      subject: Type.String(),
      text: Type.String(),
      status: Type.String(),
      created_at: Timestamp,
      sent_at: NullableTimestamp,
      delivered_at: NullableTimestamp,
      opened_at: NullableTimestamp,
      clicked_at: NullableTimestamp,
      bounced_at: NullableTimestamp,
      complained_at: NullableTimestamp,
    }),
    { description: 'Emails sent to the subscriber, newest first' },
  ),
});

const OrganizationSlug = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9-]+$' });
export const RequestLinkBody = Type.Object(
  {
    email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }),
    organization: OrganizationSlug,
    locale: Type.Optional(LocaleSchema),
  },
  { additionalProperties: false },
);
export const AcceptedResponse = Type.Object({ status: Type.Literal('accepted'), message: Type.String() });

const Origin = Type.String({ maxLength: 200, pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$', description: 'scheme://host[:port], no path' });

export const SettingsResponse = Type.Object({
  texts: TextsByLocale,
  logo_url: Nullable(Type.String()),
  accent_color: Nullable(Type.String()),
  double_opt_in: Type.Boolean({ description: 'Website-form sign-ups must confirm by email before they are active' }),
  embed_origins: Type.Array(Type.String(), { description: 'Origins allowed to show the preference center in an iframe' }),
  form_origins: Type.Array(Type.String(), { description: 'Origins allowed to post the public subscribe form from a browser' }),
  locale: LocaleSchema,
});

export const PreviewResponse = Type.Object({
  url: Type.String({ description: 'The preference center with a sample subscriber; read-only' }),
  unsubscribe_url: Type.String({ description: 'The same, opened on the unsubscribe card of an email naming the first topic' }),
  expires_at: Timestamp,
});

export const SettingsPatchBody = Type.Object(
  {
    texts: Type.Optional(Type.Object({ en: Type.Optional(TextsIn), de: Type.Optional(TextsIn) }, { additionalProperties: false })),
    logo_url: Type.Optional(Nullable(Type.String({ maxLength: 2048, pattern: '^https://[^\\s"\'<>]+$', description: 'An https URL' }))),
    accent_color: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' }))),
    double_opt_in: Type.Optional(Type.Boolean()),
    embed_origins: Type.Optional(Type.Array(Origin, { maxItems: 20 })),
    form_origins: Type.Optional(Type.Array(Origin, { maxItems: 20 })),
    locale: Type.Optional(LocaleSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SettingsPatchInput = Static<typeof SettingsPatchBody>;
