import type { TestContext } from '../support/context.ts';
import type { FakeResend } from '../support/fake-resend.ts';
import { createWorkerRuntime, type WorkerRuntimeOptions } from '../../src/jobs/worker.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { signPayload } from '../../src/modules/provider-events/signature.ts';

export const WEBHOOK_SECRET = `whsec_${Buffer.from('test-webhook-signing-secret-0123').toString('base64')}`;

/** What a real provider needs besides its credentials: public https links and senders on a real domain. */
export const PUBLIC_SETTINGS = {
  PUBLIC_API_URL: 'https://api.news.example.net',
  PREFERENCES_APP_URL: 'https://api.news.example.net/preferences',
  ADMIN_APP_URL: 'https://api.news.example.net/admin',
  EMAIL_DEFAULT_FROM: 'Subscribe Flow <no-reply@news.example.net>',
  AUTH_EMAIL_FROM: 'Subscribe Flow <login@news.example.net>',
} as const;

/** Configuration that sends through the real Resend SDK to the fake server. */
export function resendConfig(fake: FakeResend, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EMAIL_PROVIDER: 'resend',
    RESEND_API_KEY: 're_test_key',
    RESEND_BASE_URL: fake.url,
    RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...PUBLIC_SETTINGS,
    ...extra,
  };
}

/** A worker process's runtime, run in this process through the same factory as the entrypoint. */
export async function startWorker(ctx: TestContext, options: WorkerRuntimeOptions = {}) {
  const metrics = createMetrics('test-worker');
  const runtime = createWorkerRuntime(ctx.container, ctx.container.jobHandlers(metrics), metrics, { shutdownGraceMs: 2000, ...options });
  await runtime.start();
  return { runtime, metrics, close: () => runtime.close() };
}

/** Polls until `check` returns something truthy. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 25): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const mjml = (body: string) => `<mjml><mj-body><mj-section><mj-column><mj-text>${body}</mj-text></mj-column></mj-section></mj-body></mjml>`;

/** Headers of a genuine Resend (Svix) delivery of `body`. */
export function signedHeaders(body: string, id: string, timestampSeconds = Math.floor(Date.now() / 1000), secret = WEBHOOK_SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(timestampSeconds),
    'svix-signature': signPayload(secret, id, timestampSeconds, body),
  };
}

export async function messageRow(ctx: TestContext, id: string) {
  return ctx.container.db.selectFrom('email_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
