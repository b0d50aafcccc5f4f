import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { isEmail } from '../lib/email.ts';
import { unprocessable } from '../lib/errors.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Two validators: bodies are checked exactly as sent (no type coercion, unknown fields rejected), while
 * query strings and path parameters, which are always text on the wire, are coerced to their types.
 * Before either runs, every string the request carries is checked for control characters and invalid
 * Unicode (see `findUnsafeText`): PostgreSQL cannot store NUL or a lone surrogate, and no field of this
 * API has a use for the other control characters.
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

  // preValidation runs after the auth hooks (onRequest), so an anonymous caller still gets its 401 first.
  app.addHook('preValidation', (request, _reply, done) => {
    const parts = [
      { location: 'path', value: request.params, allowLineBreaks: false },
      { location: 'query', value: request.query, allowLineBreaks: false },
      // Raw bodies (provider webhooks, checked by signature) arrive as a Buffer or string and are left alone.
      {
        location: 'body',
        value: typeof request.body === 'object' && request.body !== null && !Buffer.isBuffer(request.body) ? request.body : undefined,
        allowLineBreaks: true,
      },
    ];
    for (const part of parts) {
      const field = findUnsafeText(part.value, part.allowLineBreaks);
      if (field !== undefined) {
        done(
          unprocessable('validation_error', 'The request is not valid', [
            {
              field: field || part.location,
              code: 'invalid_characters',
              message: 'must not contain control characters or invalid Unicode',
              location: part.location,
            },
          ]),
        );
        return;
      }
    }
    done();
  });
}

// C0 controls except tab, line feed and carriage return; DEL; the C1 range. Line breaks are refused too
// in paths and query strings. Matching control characters is the point of these two expressions.
/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f]/;
/* eslint-enable no-control-regex */

/** Whether a string holds a control character (see above) or a lone UTF-16 surrogate. */
export function isUnsafeText(text: string, allowLineBreaks = true): boolean {
  return (allowLineBreaks ? CONTROL : CONTROL_OR_BREAK).test(text) || !isWellFormed(text);
}

// String.prototype.isWellFormed (ES2024, Node 20+); typed here because the SDK's and the web apps'
// type checks, which read this file through their tests, target ES2023.
const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * The dotted path of the first string (value or object key) that `isUnsafeText` finds, '' for the value
 * itself, undefined when all are clean. Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function findUnsafeText(value: unknown, allowLineBreaks = true): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (isUnsafeText(current, allowLineBreaks)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: join(path, String(index)) }));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        if (isUnsafeText(key, false)) return join(path, key.replace(/[^\x20-\x7e]/g, '?'));
        stack.push({ value: item, path: join(path, key) });
      }
    }
  }
  return undefined;
}
