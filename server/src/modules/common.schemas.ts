import { Type } from 'typebox';

/** A string enum as a plain JSON-Schema `enum`, typed as the union of its values. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** Building blocks shared by every module's route schemas. */
export const Uuid = Type.String({ format: 'uuid', description: 'A UUIDv7 identifier' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
// Rows carry Date objects; the serializer writes them as ISO 8601 strings.
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Page size (at most 100)' });
export const Cursor = Type.String({ maxLength: 200, description: 'The next_cursor of the previous page' });
export const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor to get the next page; null on the last page' });

/**
 * One problem of a request: `field` (dotted path, e.g. subscribers.3.email), `code` (stable: required,
 * not_allowed, too_long, too_short, too_many, too_few, invalid_type, invalid_format, invalid_value,
 * invalid_characters, out_of_range, duplicate, an operation's own, or invalid), `message` (for people),
 * and for bounds and formats `bound` (a length or count) / `minimum` / `maximum` / `format`, so apps can word it themselves.
 * Inlined wherever ErrorResponse is, so kept without descriptions; the API reference documents it.
 */
export const ErrorDetailSchema = Type.Object({
  field: Type.Optional(Type.String()),
  code: Type.String(),
  message: Type.String(),
  bound: Type.Optional(Type.Number()),
  minimum: Type.Optional(Type.Number()),
  maximum: Type.Optional(Type.Number()),
  format: Type.Optional(Type.String()),
}, { additionalProperties: true });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Array(ErrorDetailSchema)),
      request_id: Type.String(),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error has this shape' },
);

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const authErrors = {
  401: ErrorResponse,
  403: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
} as const;

export const NoContent = Type.Null({ description: 'No content' });
