import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { isEmail } from '../lib/email.ts';
import type { ErrorDetail } from '../lib/errors.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Two validators: bodies are checked exactly as sent (no type coercion, unknown fields rejected), while
 * query strings and path parameters, which are always text on the wire, are coerced to their types.
 */
export function registerValidation(app: FastifyInstance): void {
  const common = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
  const bodyAjv = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const textAjv = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  for (const ajv of [bodyAjv, textAjv]) {
    ajv.addFormat('email', { type: 'string', validate: isEmail });
  }
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : textAjv;
    return ajv.compile(schema as FastifySchema & object);
  });
}

/** Turns Ajv errors into `details` entries that name the offending field. */
export function validationDetails(errors: ErrorObject[], location: string): ErrorDetail[] {
  // A nullable field fails every branch of its anyOf; the first branch's message says enough.
  const byField = new Map<string, ErrorDetail>();
  for (const detail of errors.filter((e) => e.keyword !== 'anyOf').map((error) => {
    const segments = error.instancePath.split('/').filter(Boolean);
    const params = error.params as { missingProperty?: string; additionalProperty?: string };
    if (params.missingProperty) segments.push(params.missingProperty);
    if (params.additionalProperty) segments.push(params.additionalProperty);
    const field = segments.join('.') || location;
    const message = params.additionalProperty ? 'is not a known field' : (error.message ?? 'is invalid');
    return { field, message, location };
  })) {
    if (!byField.has(detail.field!)) byField.set(detail.field!, detail);
  }
  return [...byField.values()];
}
