import { createWriteStream, openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });

// Upload a CSV (a Blob, a web stream or a Node stream): first a dry run, to see what it would do.
const dryRun = await sf.imports.create(await openAsBlob('crm-export.csv'), {
  dry_run: true,
  tags: ['newsletter'],
  mapping: { Company: 'metadata.company' },
});
let report = await sf.imports.get(dryRun.id);
while (report.status === 'queued' || report.status === 'running') {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  report = await sf.imports.get(dryRun.id);
}
console.log(`would create ${report.created}, update ${report.updated}; ${report.failed} invalid rows`);
if (report.failed > 0) {
  // Row numbers, columns and reasons (no values from the file), streamed.
  console.log(await new Response(await sf.imports.errors(dryRun.id)).text());
}
await sf.imports.start(dryRun.id); // the same file, for real

// Export every active subscriber to a file, streamed: memory stays flat however large the list.
const csv = await sf.subscribers.export({ status: 'active', format: 'csv' });
await pipeline(Readable.fromWeb(csv as NodeReadableStream<Uint8Array>), createWriteStream('subscribers.csv'));
