import { Type } from 'typebox';
import { StringEnum, Timestamp, Uuid } from '../common.schemas.ts';

export const ROLES = ['owner', 'admin', 'viewer'] as const;
export const RoleSchema = StringEnum(ROLES, { description: 'owner: everything, including billing and deletion; admin: everything else; viewer: read only' });

export const EmailField = Type.String({ format: 'email', maxLength: 254 });
export const TokenBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const User = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    is_platform_admin: Type.Boolean(),
  },
  { $id: 'User' },
);

export const OrganizationSummary = Type.Object({
  id: Uuid,
  name: Type.String(),
  slug: Type.String(),
  status: Type.String({ enum: ['active', 'suspended'] }),
});

export const Membership = Type.Object({ organization: OrganizationSummary, role: RoleSchema });

export const SessionInfo = Type.Object(
  {
    id: Uuid,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    expires_at: Timestamp,
    ip: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: 'The session this request was made with' }),
  },
  { $id: 'Session' },
);

export const Me = Type.Object(
  {
    user: User,
    memberships: Type.Array(Membership),
    current_organization: Type.Union([Type.Object({ ...OrganizationSummary.properties, role: RoleSchema }), Type.Null()], {
      description: 'The organization X-Organization-Id names, or the only one; null when neither applies',
    }),
    session: Type.Object({ id: Uuid, expires_at: Timestamp }),
    features: Type.Object(
      {
        billing: Type.Boolean({ description: 'Whether this installation sells plans through Stripe (the billing page and routes exist)' }),
      },
      { description: 'What this installation offers, so the dashboard shows only what exists' },
    ),
  },
  { $id: 'Me' },
);

export const SignedIn = Type.Object({
  user: User,
  session: Type.Object({ id: Uuid, expires_at: Timestamp }),
});

export const MagicLinkAccepted = Type.Object({
  message: Type.String(),
  dev_mailbox: Type.Boolean({ description: "True when no email provider is configured: the link is in the dev mailbox and the API's log, not in an inbox" }),
});
export const SessionPage = Type.Object({ items: Type.Array(SessionInfo), next_cursor: Type.Null() });
