import { Type } from 'typebox';
import { RoleSchema } from '../auth/index.ts';
import { Cursor, Limit, NextCursor, Timestamp, Uuid } from '../common.schemas.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

// No line breaks or control characters: names and addresses end up in email headers and footers.
// At least one visible character and none of them a control character (`\S` alone let one through).
export const OrganizationName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$',
});
export const OrganizationSlug = Type.String({
  minLength: 1,
  maxLength: 48,
  pattern: '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$',
  description: 'Lower-case letters, digits and dashes',
});

// Links shown to subscribers: https only, no spaces, quotes or angle brackets.
const HttpsUrl = Type.String({ maxLength: 2048, pattern: '^https://[^\\s"\'<>]+$', description: 'An https URL' });

const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'Local time, HH:MM (24-hour clock)' });

export const SendingWindowSchema = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
      minItems: 1,
      maxItems: 7,
      uniqueItems: true,
      description: 'ISO weekdays: 1 = Monday … 7 = Sunday',
    }),
    start: LocalTime,
    end: LocalTime,
  },
  {
    additionalProperties: false,
    $id: 'SendingWindow',
    description:
      "Days and local hours (in the organization's time zone) when campaigns and automation mail go out; outside them sending waits. The end is exclusive and after the start.",
  },
);

export const Organization = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    slug: Type.String(),
    status: Type.String({ enum: ['active', 'suspended'] }),
    locale: Type.String({ description: "Language of the organization's email footers and public pages" }),
    timezone: Type.String({ description: 'IANA time zone the organization schedules in and its sending window is read in' }),
    sending_window: Type.Union([SendingWindowSchema, Type.Null()], { description: 'When bulk mail may go out; null: any time' }),
    postal_address: Nullable(Type.String({ description: 'Shown in the footer of marketing emails (required by anti-spam law)' })),
    email_from_name: Nullable(Type.String()),
    email_from_address: Nullable(Type.String()),
    email_reply_to: Nullable(Type.String({ description: "Reply-To of the organization's email, when replies should not go to the sender" })),
    privacy_url: Nullable(Type.String({ description: "The organization's privacy policy, linked in the preference center's footer" })),
    imprint_url: Nullable(Type.String({ description: "The organization's imprint (legal notice), linked in the preference center's footer" })),
    tracking_enabled: Type.Boolean({
      description: 'Open and click tracking of campaigns (each campaign can turn it off); transactional email is never tracked',
    }),
    tracking_privacy: Type.Boolean({ description: 'Privacy mode: opens and clicks are counted only in aggregates, never per subscriber' }),
    resend_contact_sync: Type.Boolean({
      description: 'Subscribers and their public topics are mirrored to Resend Contacts and Topics; unsubscribes there are honoured here',
    }),
    plan: Type.String(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Organization' },
);

export const CreatedOrganization = Type.Object({ ...Organization.properties, role: RoleSchema });

export const MyOrganization = Type.Object({
  id: Uuid,
  name: Type.String(),
  slug: Type.String(),
  status: Type.String(),
  role: RoleSchema,
  created_at: Timestamp,
});
export const MyOrganizationPage = Type.Object({ items: Type.Array(MyOrganization), next_cursor: NextCursor });

export const CreateOrganizationBody = Type.Object(
  {
    name: OrganizationName,
    slug: Type.Optional(OrganizationSlug),
  },
  { additionalProperties: false },
);

export const UpdateOrganizationBody = Type.Object(
  {
    name: Type.Optional(OrganizationName),
    slug: Type.Optional(OrganizationSlug),
    locale: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$', maxLength: 6, description: 'e.g. en, de, de-CH' })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$', description: 'IANA time zone, e.g. Europe/Berlin' })),
    sending_window: Type.Optional(Type.Union([SendingWindowSchema, Type.Null()])),
    postal_address: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
    email_from_name: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 100,
          pattern: '^[^\\u0000-\\u001f\\u007f"<>@\\\\]+$',
          description: 'No quotes, angle brackets, @ or backslashes: a display name cannot show an address',
        }),
      ),
    ),
    email_from_address: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    email_reply_to: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    privacy_url: Type.Optional(Nullable(HttpsUrl)),
    imprint_url: Type.Optional(Nullable(HttpsUrl)),
    tracking_enabled: Type.Optional(Type.Boolean({ description: 'Open and click tracking of campaigns' })),
    tracking_privacy: Type.Optional(Type.Boolean({ description: 'Count opens and clicks only in aggregates, never per subscriber' })),
    resend_contact_sync: Type.Optional(
      Type.Boolean({ description: 'Mirror subscribers and public topics to Resend Contacts (needs RESEND_API_KEY; one organization per Resend account)' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DeleteOrganizationBody = Type.Object(
  {
    confirm_slug: Type.String({ minLength: 1, maxLength: 48, description: "The organization's slug, typed again to confirm" }),
  },
  { additionalProperties: false },
);

export const PageQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });
