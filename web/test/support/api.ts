import { vi } from 'vitest';

export interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string>;
}

type Answer = { status: number; body?: unknown } | ((call: Call) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>);

let routes = new Map<string, Answer[]>();
export const calls: Call[] = [];

/**
 * Queues answers for `METHOD /path` (query strings ignored). The last answer repeats; an unexpected
 * call fails the test with its route, so a component cannot reach an endpoint unnoticed.
 */
export function answer(route: string, ...answers: Answer[]): void {
  routes.set(route, [...(routes.get(route) ?? []), ...answers]);
}

export function resetApi(): void {
  routes = new Map();
  calls.length = 0;
}

export const apiError = (status: number, code: string, details?: unknown[]) => ({
  status,
  body: { error: { code, message: code, request_id: 'req', ...(details ? { details } : {}) } },
});

export function stubFetch(): void {
  vi.stubGlobal('fetch', async (input: Request | string, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = await request.text();
    const call: Call = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text ? JSON.parse(text) : undefined,
      headers: Object.fromEntries(request.headers),
    };
    calls.push(call);
    const queue = routes.get(`${call.method} ${call.path}`);
    if (!queue || queue.length === 0) throw new Error(`unexpected API call ${call.method} ${call.path}`);
    const next = queue.length > 1 ? queue.shift()! : queue[0]!;
    const { status, body } = typeof next === 'function' ? await next(call) : next;
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
  });
}
