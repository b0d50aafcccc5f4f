import { parentPort } from 'node:worker_threads';
import type Mjml from 'mjml';

/**
 * Compiles MJML in a worker thread (see mjml-compiler.ts): a large template takes hundreds of
 * milliseconds of CPU, which must not stall the API's event loop. MJML and its components (about 90 MB)
 * are loaded here only, once. Includes are ignored: a template must not read files of the server.
 */
type Mjml2Html = typeof Mjml;
const mjml2html = ((await import('mjml')) as unknown as { default: Mjml2Html }).default;

parentPort!.on('message', async ({ id, source }: { id: number; source: string }) => {
  try {
    // No web fonts: MJML's default adds a Google Fonts stylesheet, which tells Google each reader's address
    // whenever an email is opened. Email clients fall back to the font stack anyway.
    const { html } = await mjml2html(source, { validationLevel: 'strict', ignoreIncludes: true, keepComments: false, fonts: {} });
    parentPort!.postMessage({ id, ok: true, html });
  } catch (error) {
    const problems = ((error as { errors?: { line?: number; message: string }[] }).errors ?? [])
      .slice(0, 20)
      .map((p) => ({ line: p.line ?? null, message: String(p.message) }));
    parentPort!.postMessage({ id, ok: false, message: (error as Error).message || 'could not be parsed', problems });
  }
});
