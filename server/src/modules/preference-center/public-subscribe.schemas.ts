import { Type } from 'typebox';
import { StringEnum } from '../common.schemas.ts';
import { MAX_CONFIRM_TAGS } from './links.ts';
import { LocaleSchema, PreferenceToken, PublicOrganization } from './preference-center.schemas.ts';
import { SUBSCRIBER_STATUSES } from '../subscribers/index.ts';

export const OrgSlugParams = Type.Object({ org_slug: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9-]+$' }) }, { additionalProperties: false });

export const SubscribeBody = Type.Object(
  {
    email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }),
    first_name: Type.Optional(Type.String({ maxLength: 100 })),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 80, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' }), {
        maxItems: MAX_CONFIRM_TAGS,
        description: 'Slugs of public topics',
      }),
    ),
    locale: Type.Optional(LocaleSchema),
    consent_text: Type.Optional(Type.String({ maxLength: 2000, description: 'The consent wording the form showed; kept with the consent record' })),
    website: Type.Optional(Type.String({ maxLength: 500, description: 'Honeypot: keep this field hidden and empty. A filled one is accepted and ignored.' })),
  },
  { additionalProperties: false },
);

export const SubscribeResponse = Type.Object({
  status: Type.Literal('accepted'),
  confirmation_required: Type.Boolean({ description: 'The organization uses double opt-in: the person must click the link in the email' }),
  message: Type.String(),
});

export const ConfirmationQuery = Type.Object({ token: PreferenceToken }, { additionalProperties: false });

export const ConfirmationInfo = Type.Object({
  organization: PublicOrganization,
  email: Type.String(),
  status: StringEnum(SUBSCRIBER_STATUSES),
  topics: Type.Array(Type.String(), { description: 'Names of the topics being confirmed' }),
  consent: Type.Object(
    { en: Type.String(), de: Type.String() },
    { description: 'The consent wording per locale; the page shows one and the confirmation records it' },
  ),
});

export const ConfirmBody = Type.Object({ token: PreferenceToken, locale: Type.Optional(LocaleSchema) }, { additionalProperties: false });
export const ConfirmResponse = Type.Object({
  status: Type.Literal('active'),
  preferences_url: Type.String({ description: 'A fresh preference-center link for the confirmed subscriber' }),
});
