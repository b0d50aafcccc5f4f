import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Config } from '../../config/index.ts';
import { badRequest, unprocessable } from '../../lib/errors.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams } from '../common.schemas.ts';
import { ExportQuery, Import, ImportList, ImportOptions, ListImportsQuery, type ImportOptionsInput } from './imports.schemas.ts';
import type { Author, ImportService } from './imports.service.ts';

const optionsCheck = Compile(ImportOptions);

const UploadBody = Type.Object(
  {
    options: Type.Optional(
      Type.String({
        description: 'JSON of the import options (mapping, metadata_types, tags, update_existing, dry_run, delimiter, encoding); must come before the file',
      }),
    ),
    file: Type.String({ format: 'binary', description: 'The CSV file' }),
  },
  { description: 'multipart/form-data' },
);

const CsvFile = Type.String({ description: 'CSV: row, column, reason' });

export const importRoutes: FastifyPluginAsyncTypebox<{ config: Pick<Config, 'IMPORT_MAX_BYTES'>; imports: ImportService }> = async (
  app,
  { config, imports },
) => {
  // Multipart only in this plugin: the file part is a stream written to disk as it arrives.
  await app.register(multipart, {
    limits: { fileSize: config.IMPORT_MAX_BYTES, files: 1, fields: 2, fieldSize: 64 * 1024, parts: 3 },
    throwFileSizeLimit: false,
  });
  const org = (request: FastifyRequest) => requireAuth(request).organizationId;
  const author = (request: FastifyRequest): Author => {
    const auth = requireAuth(request);
    return auth.kind === 'api_key' ? { type: 'api_key', id: auth.apiKeyId } : { type: 'user', id: auth.userId };
  };

  // The response schemas of the two downloads describe the body for the docs; the body itself is a stream.
  app.post(
    '/subscribers/imports',
    {
      schema: {
        tags: ['imports'],
        operationId: 'createImport',
        summary: 'Upload a CSV file to import (or dry-run) in the background',
        description:
          'multipart/form-data with an optional `options` field (JSON) followed by the `file` part. The file is streamed to disk, its header read to detect delimiter, encoding and columns (422 when no column holds the email), and the import queued: watch it with GET /subscribers/imports/{id}.',
        consumes: ['multipart/form-data'],
        response: { 202: Import, 400: ErrorResponse, 402: ErrorResponse, 413: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'imports:write' }, documentedBody: UploadBody },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw badRequest('multipart_expected', 'Send the file as multipart/form-data');
      let options: ImportOptionsInput = {};
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          if (part.fieldname !== 'options') continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(String(part.value));
          } catch {
            throw unprocessable('validation_error', 'options must be JSON', [{ field: 'options', message: 'is not JSON' }]);
          }
          if (!optionsCheck.Check(parsed)) {
            throw unprocessable(
              'validation_error',
              'The options are not valid',
              [...optionsCheck.Errors(parsed)].slice(0, 10).map((e) => ({ field: `options${e.instancePath.replaceAll('/', '.')}`, message: e.message })),
            );
          }
          options = parsed as ImportOptionsInput;
          continue;
        }
        if (part.fieldname !== 'file') {
          part.file.resume();
          continue;
        }
        const created = await imports.upload(org(request), author(request), options, {
          name: part.filename || 'import.csv',
          stream: part.file,
          truncated: () => part.file.truncated,
        });
        return reply.code(202).send(created);
      }
      throw unprocessable('validation_error', 'The upload has no file part', [{ field: 'file', message: 'is required' }]);
    },
  );

  app.get(
    '/subscribers/imports',
    {
      schema: {
        tags: ['imports'],
        operationId: 'listImports',
        summary: 'List imports, newest first, with who started them',
        querystring: ListImportsQuery,
        response: { 200: ImportList, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'imports:read' } },
    },
    async (request) => imports.list(org(request), request.query),
  );

  app.get(
    '/subscribers/imports/:id',
    {
      schema: {
        tags: ['imports'],
        operationId: 'getImport',
        summary: 'Progress and report of an import',
        description:
          'status, phase, rows processed of the total, rows per second and ETA while it runs; created, updated, unchanged, failed and skipped (by reason) once done. A dry run reports what the import would do and the first 20 rows as mapped.',
        params: IdParams,
        response: { 200: Import, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'imports:read' } },
    },
    async (request) => imports.get(org(request), request.params.id),
  );

  app.get(
    '/subscribers/imports/:id/errors.csv',
    {
      schema: {
        tags: ['imports'],
        operationId: 'getImportErrors',
        summary: 'The rows that were not imported: row number, column and reason',
        description: 'Reasons are codes (invalid_email, duplicate_in_file, wrong_column_count, control_characters, …); the file holds no values from the rows.',
        params: IdParams,
        produces: ['text/csv'],
        response: { 200: CsvFile, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'imports:read' } },
    },
    async (request, reply) => {
      const stream = await imports.errorsCsv(org(request), request.params.id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${request.params.id}-errors.csv"`)
        .send(stream as unknown as string);
    },
  );

  app.post(
    '/subscribers/imports/:id/start',
    {
      schema: {
        tags: ['imports'],
        operationId: 'startImport',
        summary: 'Run a completed dry run for real, on the same file',
        params: IdParams,
        response: { 202: Import, 402: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'imports:write' } },
    },
    async (request, reply) => reply.code(202).send(await imports.start(org(request), request.params.id)),
  );

  app.delete(
    '/subscribers/imports/:id',
    {
      schema: {
        tags: ['imports'],
        operationId: 'cancelImport',
        summary: 'Cancel a queued or running import',
        description: 'The worker stops within a second; nothing of a cancelled import is applied. 409 when it already ended.',
        params: IdParams,
        response: { 200: Import, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'imports:write' } },
    },
    async (request) => imports.cancel(org(request), request.params.id),
  );

  app.get(
    '/subscribers/export',
    {
      schema: {
        tags: ['imports'],
        operationId: 'exportSubscribers',
        summary: 'Download subscribers as CSV or NDJSON, streamed',
        description:
          'With exactly the filters of the subscriber list (status, tag, tags_any, tags_all, tags_none, source, created_after, created_before, q; the same meaning) and a saved segment (`segment_id`; 404 when it is not the organization\'s; 503 `filter_timeout` when listing the matching subscribers takes longer than 30 seconds). Columns: id, email, first_name, last_name, status, source, tags (subscribed topic slugs joined by ";"), metadata (JSON, or one column per key named in `metadata`), created_at, updated_at.',
        querystring: ExportQuery,
        produces: ['text/csv', 'application/x-ndjson'],
        response: { 200: Type.String({ description: 'The subscribers' }), 404: ErrorResponse, 503: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'csv';
      const { format: _format, segment_id: segmentId, metadata, ...filter } = request.query;
      const stream = await imports.exportStream(org(request), {
        format,
        filter,
        segmentId,
        metadataKeys: metadata ? [...new Set(metadata.split(','))] : [],
      });
      const date = new Date().toISOString().slice(0, 10);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="subscribers-${date}.${format}"`)
        .send(stream as unknown as string);
    },
  );
};
