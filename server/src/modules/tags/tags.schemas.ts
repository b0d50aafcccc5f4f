import { Type, type Static } from 'typebox';
import { Cursor, Limit, NextCursor, Timestamp, Uuid } from '../common.schemas.ts';

export const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';

const TranslationOut = Type.Object({ name: Type.String(), description: Type.Union([Type.String(), Type.Null()]) });

export const Tag = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    slug: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    category: Type.Union([Type.String(), Type.Null()]),
    is_public: Type.Boolean({ description: 'Public tags are shown in the preference center' }),
    position: Type.Integer({ description: 'Place in the preference center (lowest first); set with PUT /tags/order' }),
    translations: Type.Object(
      { en: Type.Optional(TranslationOut), de: Type.Optional(TranslationOut) },
      { description: "Name and description per language, shown in the preference center in the subscriber's language" },
    ),
    subscriber_count: Type.Integer({ description: 'Subscribers currently subscribed to this tag' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Tag' },
);
export type TagDto = Static<typeof Tag>;

const TagName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Description = Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]);
const Category = Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]);

/** One language's wording of a topic; the tag's own name and description are the default. */
const Translation = Type.Object({ name: TagName, description: Type.Optional(Description) }, { additionalProperties: false });
/**
 * Per-language names and descriptions, keyed by a locale the preference center speaks. Replaces the
 * stored translations as a whole; an empty object removes them.
 */
// The languages of the preference center (preference-center.schemas.ts, LOCALES); kept literal here so
// the tag schema does not import the preference center.
export const TranslationsSchema = Type.Object(
  { en: Type.Optional(Translation), de: Type.Optional(Translation) },
  { additionalProperties: false, description: 'Name and description per language, e.g. { "de": { "name": "Wochenbrief" } }' },
);
export type TranslationsInput = Static<typeof TranslationsSchema>;

export const CreateTagBody = Type.Object(
  {
    name: TagName,
    slug: Type.Optional(Type.String({ minLength: 1, maxLength: 80, pattern: SLUG_PATTERN })),
    description: Type.Optional(Description),
    category: Type.Optional(Category),
    is_public: Type.Optional(Type.Boolean()),
    translations: Type.Optional(TranslationsSchema),
  },
  { additionalProperties: false },
);
export type CreateTagInput = Static<typeof CreateTagBody>;

export const UpdateTagBody = Type.Object(
  {
    name: Type.Optional(TagName),
    slug: Type.Optional(Type.String({ minLength: 1, maxLength: 80, pattern: SLUG_PATTERN })),
    description: Type.Optional(Description),
    category: Type.Optional(Category),
    is_public: Type.Optional(Type.Boolean()),
    translations: Type.Optional(TranslationsSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateTagInput = Static<typeof UpdateTagBody>;

/** Tags in the order the preference center shows them; the listed tags get positions 0, 1, 2, … */
export const MAX_ORDERED_TAGS = 1000;
export const TagOrderBody = Type.Object(
  {
    tag_ids: Type.Array(Uuid, {
      minItems: 1,
      maxItems: MAX_ORDERED_TAGS,
      uniqueItems: true,
      description: 'Tag ids, first shown first. Categories follow the order of their first topic. Tags left out keep their position.',
    }),
  },
  { additionalProperties: false },
);
export const TagOrderResponse = Type.Object({ updated: Type.Integer({ description: 'How many tags got a new position' }) });

export const ListTagsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    category: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const TagPage = Type.Object({ items: Type.Array(Tag), next_cursor: NextCursor });
