import { Type } from 'typebox';
import { Cursor, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { DOMAIN_REGIONS, DOMAIN_STATUSES, FROM_NAME_PATTERN } from '../email/index.ts';

const Hostname = Type.String({
  minLength: 4,
  maxLength: 253,
  pattern: '^(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$',
  description: 'A domain or subdomain you control, e.g. mail.example.com',
});

export const DnsRecord = Type.Object({
  record: Type.String({ description: 'What the record is for: Verification, SPF, DKIM, …' }),
  type: Type.String({ description: 'DNS type: TXT, MX, CNAME' }),
  name: Type.String({ description: 'Host name, relative to the domain' }),
  value: Type.String(),
  ttl: Type.String(),
  priority: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.String(),
});

export const Domain = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    region: Type.String(),
    status: StringEnum(DOMAIN_STATUSES),
    records: Type.Array(DnsRecord, { description: 'Publish these at your DNS provider, then ask for verification' }),
    last_checked_at: NullableTimestamp,
    verified_at: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'SendingDomain' },
);

export const CreateDomainBody = Type.Object(
  {
    name: Hostname,
    region: Type.Optional(StringEnum(DOMAIN_REGIONS, { default: 'us-east-1', description: 'Where the provider sends from' })),
  },
  { additionalProperties: false },
);

export const ListDomainsQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });
export const DomainPage = Type.Object({ items: Type.Array(Domain), next_cursor: NextCursor });

export const EmailSettings = Type.Object({
  from_name: Type.Union([Type.String(), Type.Null()], { description: 'Display name of the sender; the organization name when null' }),
  from_email: Type.Union([Type.String(), Type.Null()], {
    description:
      "Sender address; must be on a verified sending domain, or, when the provider cannot verify domains (dev, SMTP), on the domain of the platform's default sender",
  }),
  effective_from: Type.String({ description: 'The From header organization mail currently gets' }),
  send_domain: Type.Union([Type.String(), Type.Null()], { description: 'The verified domain mail is sent from, if any' }),
  domain_verified: Type.Boolean(),
});

export const UpdateEmailSettingsBody = Type.Object(
  {
    from_name: Type.Optional(
      Type.Union([
        Type.String({
          minLength: 1,
          maxLength: 100,
          pattern: FROM_NAME_PATTERN,
          description: 'No quotes, angle brackets, @ or backslashes: a display name cannot show an address',
        }),
        Type.Null(),
      ]),
    ),
    from_email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
