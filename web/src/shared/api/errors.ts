import type { ApiError } from './client';

/** The stable error code of a failed call, or "network_error" when the request never got an answer. */
export function errorCode(error: unknown): string {
  const body = error as Partial<ApiError> | undefined;
  return typeof body?.error?.code === 'string' ? body.error.code : 'network_error';
}

/** A detail's extra field (e.g. the organization an expired link belongs to), when the API sent one. */
export function errorDetail(error: unknown, key: string): string | undefined {
  const details = (error as Partial<ApiError> | undefined)?.error?.details as Record<string, unknown>[] | undefined;
  const value = details?.find((d) => typeof d[key] === 'string')?.[key];
  return typeof value === 'string' ? value : undefined;
}
