import createClient from 'openapi-fetch';
import type { paths } from '@subscribe-flow/sdk';

export type { paths } from '@subscribe-flow/sdk';

/**
 * The typed API client both apps use. Its types are the SDK's, generated from the server's OpenAPI
 * document (`npm run generate -w sdk`), never written by hand: one copy for the SDK and both apps. Browser calls carry the session cookie and the
 * custom header the API requires of cookie-authenticated mutations (CSRF defence).
 */
export function createApiClient(options: { baseUrl?: string; organizationId?: () => string | null } = {}) {
  const client = createClient<paths>({ baseUrl: options.baseUrl ?? '', credentials: 'include' });
  client.use({
    onRequest({ request }) {
      request.headers.set('X-Requested-With', 'subscribe-flow');
      const organizationId = options.organizationId?.();
      if (organizationId) request.headers.set('X-Organization-Id', organizationId);
      return request;
    },
  });
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** The error body every failing API call returns. */
export interface ApiError {
  error: { code: string; message: string; details?: { field?: string; message: string }[]; request_id: string };
}
