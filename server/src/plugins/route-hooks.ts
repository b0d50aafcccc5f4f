import type { RouteOptions } from 'fastify';

type HookName = 'onRequest' | 'preHandler' | 'onSend' | 'onResponse';

/**
 * Adds a hook to one route from an `onRoute` hook, after the route's own. Plugins whose work concerns
 * only some routes (idempotent POSTs, audited mutations, authenticated routes) attach their hooks this
 * way, so every other request runs none of them.
 */
export function appendRouteHook(route: RouteOptions, name: HookName, hook: NonNullable<RouteOptions[HookName]>): void {
  const existing = route[name];
  const list = [...(existing ? (Array.isArray(existing) ? existing : [existing]) : []), ...(Array.isArray(hook) ? hook : [hook])];
  (route as unknown as Record<HookName, unknown>)[name] = list;
}
