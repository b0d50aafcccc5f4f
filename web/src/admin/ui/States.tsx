import type { ReactNode } from 'react';
import { Button } from '@shared/ui/Button';
import { ApiRequestError, describeError } from '../api';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state--loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorState({ error, onRetry, title = 'This could not be loaded' }: { error: unknown; onRetry?: () => void; title?: string }) {
  const forbidden = error instanceof ApiRequestError && error.status === 403;
  return (
    <div className="state state--error" role="alert">
      <p className="state-title">{forbidden ? 'Not available with your role' : title}</p>
      <p>{forbidden ? 'Ask an admin of this organization if you need access.' : describeError(error)}</p>
      {error instanceof ApiRequestError && error.requestId ? (
        <p className="muted small">
          Request id: <code>{error.requestId}</code>
        </p>
      ) : null}
      {onRetry && !forbidden ? <Button onClick={onRetry}>Try again</Button> : null}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state--empty">
      <p className="state-title">{title}</p>
      {children ? <div className="muted">{children}</div> : null}
      {action ? <div className="state-action">{action}</div> : null}
    </div>
  );
}

/** Renders the states of a query: loading, error (with retry), then the data. */
export function QueryView<T>({
  query,
  children,
  loadingLabel,
}: {
  query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  children: (data: T) => ReactNode;
  loadingLabel?: string;
}) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError || query.data === undefined) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}
