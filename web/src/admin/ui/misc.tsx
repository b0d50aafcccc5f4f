import { useEffect, useState } from 'react';
import { useToast } from '@shared/ui/Toasts';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const numbers = new Intl.NumberFormat();

export const formatDateTime = (value: string | null | undefined) => (value ? dateTime.format(new Date(value)) : '—');
export const formatDate = (value: string | null | undefined) => (value ? dateOnly.format(new Date(value)) : '—');
export const formatNumber = (value: number) => numbers.format(value);

const STATUS_TONE: Record<string, string> = {
  active: 'good', verified: 'good', accepted: 'good', delivered: 'good', sent: 'good',
  pending: 'warn', sending: 'warn', delivery_delayed: 'warn', not_started: 'warn', partially_verified: 'warn', temporary_failure: 'warn', queued: 'warn',
  unsubscribed: 'neutral', archived: 'neutral', revoked: 'neutral', expired: 'neutral',
  bounced: 'bad', complained: 'bad', failed: 'bad', partially_failed: 'bad', suspended: 'bad',
};

/** A status as text in a coloured pill; the text carries the meaning, the colour only repeats it. */
/** An enum value as a person reads it: "complained" → "Complained", "not_sent" → "Not sent". */
export const labelOf = (value: string): string => {
  const words = value.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export function Badge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge--${STATUS_TONE[status] ?? 'neutral'}`}>{label ?? status.replace(/_/g, ' ')}</span>;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Copies a value and says so; the label names what is copied for screen readers. */
export function CopyButton({ value, label, children = 'Copy' }: { value: string; label: string; children?: string }) {
  const toast = useToast();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className="sf-button sf-button--secondary button-small"
      aria-label={label}
      onClick={async () => {
        if (await copyText(value)) setCopied(true);
        else toast.error('Copying failed: select the text and copy it yourself.');
      }}
    >
      {copied ? 'Copied' : children}
    </button>
  );
}

/** A value that follows `value` after it stops changing for `delayMs`. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/** Runs `work` over `items` with at most `limit` at a time; resolves to how many succeeded and failed. */
export async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
        ok += 1;
      } catch {
        failed += 1;
      }
    }
  });
  await Promise.all(runners);
  return { ok, failed };
}
