import { Type, type Static } from 'typebox';
import { Cursor, Limit, NextCursor, Timestamp, Uuid } from '../common.schemas.ts';

export const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';

export const Tag = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    slug: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    category: Type.Union([Type.String(), Type.Null()]),
    is_public: Type.Boolean({ description: 'Public tags are shown in the preference center' }),
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

export const CreateTagBody = Type.Object(
  {
    name: TagName,
    slug: Type.Optional(Type.String({ minLength: 1, maxLength: 80, pattern: SLUG_PATTERN })),
    description: Type.Optional(Description),
    category: Type.Optional(Category),
    is_public: Type.Optional(Type.Boolean()),
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
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateTagInput = Static<typeof UpdateTagBody>;

export const ListTagsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    category: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const TagPage = Type.Object({ items: Type.Array(Tag), next_cursor: NextCursor });
