import { createApiClient, type ApiError, type paths } from '@shared/api/client';
import { describeFieldProblem, describeRequestProblem, fieldSentences, type FieldProblem } from '@shared/api/problems';

const ORGANIZATION_KEY = 'sf.admin.organization';

/** The organization the dashboard acts in, remembered per browser; sent as X-Organization-Id. */
export const organizationStore = {
  get: (): string | null => {
    try {
      return window.localStorage.getItem(ORGANIZATION_KEY);
    } catch {
      return null;
    }
  },
  set: (id: string | null): void => {
    try {
      if (id) window.localStorage.setItem(ORGANIZATION_KEY, id);
      else window.localStorage.removeItem(ORGANIZATION_KEY);
    } catch {
      // Private browsing without storage: the choice lasts until reload.
    }
  },
};

/** The API as the dashboard uses it: same origin in single-box mode, VITE_API_URL when deployed apart. */
export const api = createApiClient({ baseUrl: import.meta.env.VITE_API_URL ?? '', organizationId: organizationStore.get });

/** A failed API call: the error body's code, message and field details, and the HTTP status. */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldProblem[];
  readonly requestId: string | null;

  constructor(status: number, body: Partial<ApiError> | undefined) {
    super(body?.error?.message ?? `The request failed (HTTP ${status})`);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = body?.error?.code ?? 'http_error';
    this.details = (body?.error?.details ?? []) as FieldProblem[];
    this.requestId = body?.error?.request_id ?? null;
  }
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/** Resolves to the response body of a successful call, or throws an ApiRequestError. */
export async function unwrap<D>(call: Promise<Result<D>>): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) throw new ApiRequestError(response.status, error as Partial<ApiError> | undefined);
  return data as D;
}

/**
 * Field name → sentence, from a 422's details (e.g. "email", "texts.en.title"): the dashboard's own
 * words for each problem code, never the API's or a validator's wording.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiRequestError)) return {};
  return fieldSentences(error.details, 'en');
}

/** One field problem in the dashboard's words (for lists of problems, e.g. a failed preview). */
export const describeProblem = (detail: FieldProblem): string => describeFieldProblem(detail, 'en');

/** A sentence for a toast or an error panel. */
export function describeError(error: unknown): string {
  if (error instanceof ApiRequestError) {
    // A validation error that names no field of the form still says which field and what is wrong.
    if (error.code === 'validation_error' && error.details.length > 0) {
      const first = error.details[0]!;
      return `${first.field ? `${humanField(first.field)}: ` : ''}${describeFieldProblem(first, 'en')}`;
    }
    return describeRequestProblem(error.code, 'en') ?? error.message;
  }
  if (error instanceof TypeError) return 'The server could not be reached. Check your connection and try again.';
  return error instanceof Error ? error.message : 'Something went wrong.';
}

/** "texts.en.title" → "Texts › en › title", "first_name" → "First name". */
function humanField(field: string): string {
  return field
    .split('.')
    .map((part, index) => {
      const words = part.replace(/_/g, ' ');
      return index === 0 ? words.charAt(0).toUpperCase() + words.slice(1) : words;
    })
    .join(' › ');
}

/** A fresh Idempotency-Key for a create or send, so a double click or a retry never creates twice. */
export const idempotent = () => ({ headers: { 'Idempotency-Key': crypto.randomUUID() } });

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body a path and method answer with on success. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? JsonOf<R[Extract<keyof R, 200 | 201>]>
  : never;

export type Me = ResponseOf<'/api/v1/auth/me', 'get'>;
export type Role = Me['memberships'][number]['role'];
export type Subscriber = ResponseOf<'/api/v1/subscribers/{id}', 'get'>;
export type SubscriberStatus = Subscriber['status'];
export type Tag = ResponseOf<'/api/v1/tags/{id}', 'get'>;
export type EmailLogEntry = ResponseOf<'/api/v1/emails', 'get'>['items'][number];
export type Suppression = ResponseOf<'/api/v1/suppressions', 'get'>['items'][number];
export type SubscriberEmail = ResponseOf<'/api/v1/subscribers/{id}/emails', 'get'>['items'][number];
export type Template = ResponseOf<'/api/v1/templates/{id}', 'get'>;
export type Segment = ResponseOf<'/api/v1/segments/{id}', 'get'>;
export type Automation = ResponseOf<'/api/v1/triggers/{id}', 'get'>;
export type AutomationStep = Automation['steps'][number];
export type ApiKey = ResponseOf<'/api/v1/api-keys', 'get'>['items'][number];
export type Scope = ApiKey['scopes'][number];
export type Domain = ResponseOf<'/api/v1/settings/domains/{id}', 'get'>;
export type Overview = ResponseOf<'/api/v1/stats/overview', 'get'>;
export type Growth = ResponseOf<'/api/v1/stats/growth', 'get'>;

export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = ['active', 'pending', 'unsubscribed', 'bounced', 'complained'];
