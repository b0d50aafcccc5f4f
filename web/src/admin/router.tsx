import { useEffect, useRef, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * A small history-based router: the dashboard needs path matching, links and query parameters, and
 * nothing else a router library brings (loaders, nested layouts, transitions). Paths inside the app
 * are written without the base ("/subscribers"); the base (/admin/ when the API serves the app, / on a
 * static host) comes from Vite's BASE_URL.
 */
const BASE = import.meta.env.BASE_URL.replace(/\/+$/, '');
const CHANGE = 'sf:navigate';

export interface Location {
  path: string;
  search: URLSearchParams;
}

let cached: { key: string; value: Location } | null = null;

function read(): Location {
  const key = `${window.location.pathname}${window.location.search}`;
  if (cached?.key === key) return cached.value;
  const pathname = window.location.pathname;
  const inside = BASE && pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const value = { path: inside.replace(/\/+$/, '') || '/', search: new URLSearchParams(window.location.search) };
  cached = { key, value };
  return value;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

export const href = (to: string): string => `${BASE}${to.startsWith('/') ? to : `/${to}`}`;

/** Pages with unsaved edits: each answers whether leaving now would lose something. */
const guards = new Set<{ dirty: () => boolean; message: string }>();
const LEAVE = 'You have unsaved changes. Leave this page and lose them?';

/** Whether the person agrees to leave, when a page holds unsaved edits (asked once). */
function mayLeave(): boolean {
  const dirty = [...guards].find((guard) => guard.dirty());
  return !dirty || window.confirm(dirty.message);
}

/**
 * Warns before unsaved edits are lost: on a link or navigation inside the app, the browser's back button,
 * and closing or reloading the tab. `navigate(to, { force: true })` leaves without asking (after a save).
 */
export function useUnsavedChangesGuard(dirty: boolean, message = LEAVE): void {
  const current = useRef(dirty);
  current.current = dirty;
  useEffect(() => {
    const guard = { dirty: () => current.current, message };
    guards.add(guard);
    const beforeUnload = (event: BeforeUnloadEvent) => {
      if (!current.current) return;
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', beforeUnload);
    return () => {
      guards.delete(guard);
      window.removeEventListener('beforeunload', beforeUnload);
    };
  }, [message]);
  useEffect(() => {
    // Back and forward have already moved when popstate fires: staying means going back to this page.
    const here = `${window.location.pathname}${window.location.search}`;
    const onPop = () => {
      if (!current.current) return;
      if (!window.confirm(message)) window.history.pushState(null, '', here);
      else current.current = false;
      window.dispatchEvent(new Event(CHANGE));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [message]);
}

export function navigate(to: string, options: { replace?: boolean; force?: boolean } = {}): void {
  if (!options.force && !mayLeave()) return;
  const url = href(to);
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
}

export function useLocation(): Location {
  return useSyncExternalStore(subscribe, read, read);
}

/** Changes query parameters of the current page (undefined or '' removes one); replaces the history entry. */
export function setSearch(changes: Record<string, string | undefined>): void {
  const { path, search } = read();
  const next = new URLSearchParams(search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.delete(name);
    else next.set(name, value);
  }
  const query = next.toString();
  navigate(`${path}${query ? `?${query}` : ''}`, { replace: true });
}

/** Matches "/subscribers/:id" against a path; the parameters, or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const segment = want[i]!;
    const actual = have[i]!;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(actual);
    else if (segment !== actual) return null;
  }
  return params;
}

/** An anchor that navigates inside the app; modified clicks (new tab, …) keep the browser's behaviour. */
export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={href(to)} onClick={handle} {...rest} />;
}
