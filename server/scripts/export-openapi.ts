// Writes server/openapi.json: the OpenAPI document of the current routes, for the web apps' typed
// client and the docs site's API reference. Builds the app through the composition root without
// listening; nothing connects to PostgreSQL or Redis for this (connections are opened lazily and
// closed unused). `--check` compares instead of writing and exits 1 when the file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'openapi.json');
// Fixed values, so the document does not depend on the machine it is generated on.
const config = loadConfig({
  TOKEN_SECRET: 'openapi-export-openapi-export-openapi-export',
  LOG_LEVEL: 'silent',
  PUBLIC_API_URL: 'https://api.example.com',
  REDIS_URL: 'redis://127.0.0.1:1',
  DATABASE_URL: 'postgres://127.0.0.1:1/none',
  // Billing routes exist only when Stripe keys are set; placeholders (never used) put them in the document.
  STRIPE_SECRET_KEY: 'sk_openapi_export_placeholder',
  STRIPE_WEBHOOK_SECRET: 'whsec_openapiexportplaceholder',
});
const container = createContainer(config, { processName: 'openapi' });
container.redis.disconnect();
const app = await buildApp(container);
await app.ready();
const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();
await container.close();

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== document) {
    console.error('server/openapi.json is stale: run `npm run openapi -w server`');
    process.exit(1);
  }
} else {
  await writeFile(target, document);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
process.exit(0);
