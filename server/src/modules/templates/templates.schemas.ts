import { Type, type Static } from 'typebox';
import { Cursor, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';

export const TEMPLATE_CATEGORIES = ['transactional', 'marketing'] as const;
export const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';
export const MJML_MAX_LENGTH = 256 * 1024;
export const VARIABLES_SCHEMA_MAX_BYTES = 16 * 1024;

const Slug = Type.String({ minLength: 1, maxLength: 80, pattern: SLUG_PATTERN });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Subject = Type.String({ minLength: 1, maxLength: 998, pattern: '\\S', description: 'Liquid; rendered as plain text' });
const Mjml = Type.String({
  minLength: 1,
  maxLength: MJML_MAX_LENGTH,
  description: 'An <mjml> document; Liquid variables and tags inside text, attributes and <mj-raw>',
});
const VariablesSchema = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 100,
  description: 'A JSON Schema the variables of each send must match, e.g. {"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}',
});
const Category = StringEnum(TEMPLATE_CATEGORIES, {
  description: 'Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers',
});

export const Template = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    slug: Type.String(),
    category: Category,
    subject: Type.String(),
    mjml_content: Type.String(),
    variables_schema: Type.Record(Type.String(), Type.Unknown()),
    status: StringEnum(['active', 'archived'] as const),
    archived_at: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    warnings: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Deliverability problems found when the template was saved (for example an email that is only images); it is saved anyway',
      }),
    ),
  },
  { $id: 'Template' },
);
export type TemplateDto = Static<typeof Template>;

export const CreateTemplateBody = Type.Object(
  {
    name: Name,
    slug: Type.Optional(Slug),
    category: Type.Optional(Type.Union([Type.Literal('transactional'), Type.Literal('marketing')], { default: 'transactional' })),
    subject: Subject,
    mjml_content: Mjml,
    variables_schema: Type.Optional(VariablesSchema),
  },
  { additionalProperties: false },
);
export type CreateTemplateInput = Static<typeof CreateTemplateBody>;

export const UpdateTemplateBody = Type.Object(
  {
    name: Type.Optional(Name),
    slug: Type.Optional(Slug),
    category: Type.Optional(Category),
    subject: Type.Optional(Subject),
    mjml_content: Type.Optional(Mjml),
    variables_schema: Type.Optional(VariablesSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateTemplateInput = Static<typeof UpdateTemplateBody>;

export const ListTemplatesQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    category: Type.Optional(Category),
    status: Type.Optional(StringEnum(['active', 'archived'] as const, { default: 'active' })),
  },
  { additionalProperties: false },
);

export const TemplatePage = Type.Object({ items: Type.Array(Template), next_cursor: NextCursor });

export const PreviewBody = Type.Object(
  {
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 100 })),
    subscriber_id: Type.Optional(Uuid),
    // Unsaved edits: rendered in place of the stored fields, checked as saving checks them, never stored.
    subject: Type.Optional(Subject),
    mjml_content: Type.Optional(Mjml),
    category: Type.Optional(Category),
  },
  { additionalProperties: false },
);
export type PreviewInput = Static<typeof PreviewBody>;
export type TemplateDraft = Pick<PreviewInput, 'subject' | 'mjml_content' | 'category'>;

export const Preview = Type.Object({ subject: Type.String(), html: Type.String(), text: Type.String() });
