import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { api, ApiRequestError, unwrap } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { formatDateTime, useDebounced } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

/** Who changed what: filter by member or by action (e.g. subscriber.delete). */
export default function AuditLogPage() {
  const { organizationId, can } = useOrganization();
  const { search } = useLocation();
  const action = search.get('action') ?? '';
  const actor = search.get('actor') ?? '';
  const [text, setText] = useState(action);
  const typed = useDebounced(text.trim(), 400);
  useEffect(() => {
    if (typed !== action && (typed === '' || /^[a-z0-9_.:-]+$/.test(typed))) setSearch({ action: typed || undefined });
  }, [typed, action]);
  const members = useQuery({
    queryKey: keys.members(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/members', { params: { query: { limit: 100 } } })),
    enabled: can('admin'),
  });
  const filters = { action: action || undefined, actor_id: actor || undefined };
  const log = useInfiniteQuery({
    queryKey: keys.audit(organizationId, filters),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/audit-logs', { params: { query: { limit: 50, cursor: pageParam, ...filters } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: can('admin'),
  });
  if (!can('admin'))
    return (
      <Page title="Settings">
        <SettingsNav />
        <ErrorState error={new ApiRequestError(403, undefined)} />
      </Page>
    );
  const who = new Map((members.data?.items ?? []).map((m) => [m.user.id, m.user.email]));
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <Page title="Settings">
      <SettingsNav />
      <h2>Audit log</h2>
      <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div className="sf-field">
          <label htmlFor="audit-action" className="sf-field-label">
            Action
          </label>
          <input id="audit-action" className="sf-input" placeholder="e.g. subscriber.delete" value={text} onChange={(e) => setText(e.currentTarget.value)} />
        </div>
        <div className="sf-field">
          <label htmlFor="audit-actor" className="sf-field-label">
            Member
          </label>
          <select id="audit-actor" className="sf-input" value={actor} onChange={(e) => setSearch({ actor: e.currentTarget.value })}>
            <option value="">Anyone</option>
            {members.data?.items.map((m) => (
              <option key={m.user.id} value={m.user.id}>
                {m.user.email}
              </option>
            ))}
          </select>
        </div>
      </form>
      {log.isPending ? (
        <Loading label="Loading the audit log…" />
      ) : log.isError ? (
        <ErrorState error={log.error} onRetry={() => void log.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title={action || actor ? 'Nothing matches these filters' : 'Nothing recorded yet'} />
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Audit log entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>{formatDateTime(e.created_at)}</td>
                  <td>{e.actor.type === 'user' ? (who.get(e.actor.id ?? '') ?? 'A former member') : e.actor.type === 'api_key' ? 'API key' : 'System'}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>
                    {e.target_type ? (
                      <>
                        {e.target_type} <code className="muted small">{e.target_id ? `…${e.target_id.slice(-8)}` : ''}</code>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {log.hasNextPage ? (
            <Button busy={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
              Load older entries
            </Button>
          ) : null}
        </div>
      )}
    </Page>
  );
}
