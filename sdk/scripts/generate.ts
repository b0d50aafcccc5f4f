/**
 * Generates the SDK's types and operation table from the server's OpenAPI document:
 * - src/generated/schema.ts: every path, operation and schema as TypeScript types (openapi-typescript);
 * - src/generated/operations.ts: each operation's method, path and whether it accepts an Idempotency-Key.
 * `--check` writes nothing and fails when a committed file differs (scripts/check-generated.sh runs it), so
 * the SDK cannot drift from the routes; re-run without it after any route or schema change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const documentPath = path.resolve(here, '../../server/openapi.json');
const outDir = path.resolve(here, '../src/generated');
const HEADER = '// Generated from server/openapi.json by `npm run generate -w sdk`. Do not edit.\n';

interface Operation {
  operationId?: string;
  'x-idempotent'?: boolean;
}
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

const document = JSON.parse(readFileSync(documentPath, 'utf8')) as { paths: Record<string, Partial<Record<string, Operation>>> };

const schema = HEADER + astToString(await openapiTS(document as never));

const rows: string[] = [];
for (const [route, operations] of Object.entries(document.paths)) {
  for (const method of METHODS) {
    const operation = operations[method];
    if (!operation?.operationId) continue;
    const idempotent = operation['x-idempotent'] === true;
    rows.push(`  ${operation.operationId}: { method: '${method.toUpperCase()}', path: '${route}'${idempotent ? ', idempotent: true' : ''} },`);
  }
}
const operations = `${HEADER}import type { operations } from './schema.ts';

export interface OperationInfo {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** The route accepts an Idempotency-Key: the SDK sends one (and may then retry the request). */
  idempotent?: true;
}

/** Every operation of the API by its operationId. */
export const OPERATIONS = {
${rows.join('\n')}
} as const satisfies Record<keyof operations, OperationInfo>;
`;

const files = { 'schema.ts': schema, 'operations.ts': operations };
const check = process.argv.includes('--check');
let stale = false;
for (const [name, content] of Object.entries(files)) {
  const target = path.join(outDir, name);
  if (check) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== content) {
      console.error(`sdk/src/generated/${name} is stale: run \`npm run generate -w sdk\``);
      stale = true;
    }
  } else {
    writeFileSync(target, content);
  }
}
if (stale) process.exit(1);
