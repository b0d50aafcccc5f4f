/**
 * The one error type of the application. `code` is stable and machine-readable, `status` is the HTTP
 * status, `message` is safe to show to the caller, and `cause` (never rendered) keeps the internal reason.
 */
export interface ErrorDetail {
  /** The dotted path of the field, e.g. `subscribers.3.email`. */
  field?: string;
  /**
   * A stable machine word: `required`, `not_allowed`, `too_long`, `too_short`, `too_many`, `too_few`,
   * `invalid_type`, `invalid_format`, `invalid_value`, `invalid_characters`, `out_of_range`, `duplicate`,
   * or a module's own (e.g. `unknown_topic`). Rendered as `invalid` when a detail does not set one.
   */
  code?: string;
  message: string;
  [key: string]: unknown;
}

/** A detail that names its code, as every detail in a response does. */
export type CodedErrorDetail = ErrorDetail & { code: string };

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, code: string, message: string, options: { details?: ErrorDetail[]; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export const notFound = (resource: string): AppError => new AppError(404, `${resource}_not_found`, `${resource.replace(/_/g, ' ')} not found`);

export const conflict = (code: string, message: string, details?: ErrorDetail[]): AppError => new AppError(409, code, message, { details });

export const badRequest = (code: string, message: string, details?: ErrorDetail[]): AppError => new AppError(400, code, message, { details });

export const unprocessable = (code: string, message: string, details?: ErrorDetail[]): AppError => new AppError(422, code, message, { details });

export const unauthorized = (code: string, message: string): AppError => new AppError(401, code, message);

export const forbidden = (code: string, message: string): AppError => new AppError(403, code, message);
