import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { api, unwrap, type EmailLogEntry } from '../../api';
import { keys } from '../../keys';
import { Link, setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Badge, formatDateTime, useDebounced } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';
import { EmailsNav } from './EmailsNav';

export const MESSAGE_STATUS_LABELS: Record<EmailLogEntry['status'], string> = {
  queued: 'Queued',
  sending: 'Sending',
  sent: 'Sent',
  delivery_delayed: 'Delayed',
  delivered: 'Delivered',
  bounced: 'Bounced',
  complained: 'Marked as spam',
  failed: 'Failed',
  suppressed: 'Not sent (suppressed)',
};

/** Every email of the organization, newest first: find one by address, narrow by status or kind. */
export default function EmailsPage() {
  const { organizationId } = useOrganization();
  const { search } = useLocation();
  const to = search.get('to') ?? '';
  const status = (search.get('status') ?? '') as EmailLogEntry['status'] | '';
  const category = (search.get('category') ?? '') as EmailLogEntry['category'] | '';
  const [text, setText] = useState(to);
  const typed = useDebounced(text.trim(), 400);
  useEffect(() => {
    if (typed !== to) setSearch({ to: typed || undefined });
  }, [typed, to]);
  const filters = { to: to || undefined, status: status || undefined, category: category || undefined };
  const log = useInfiniteQuery({
    queryKey: keys.emails.list(organizationId, filters),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/emails', { params: { query: { limit: 50, cursor: pageParam, ...filters } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = Boolean(to || status || category);

  return (
    <Page title="Emails" description="Every message sent: transactional, system and campaign mail.">
      <EmailsNav />
      <form className="filters" role="search" aria-label="Filter the email log" onSubmit={(e) => e.preventDefault()}>
        <div className="sf-field">
          <label htmlFor="email-to" className="sf-field-label">
            Recipient
          </label>
          <input
            id="email-to"
            className="sf-input"
            type="search"
            placeholder="Address or its beginning"
            value={text}
            maxLength={254}
            onChange={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <div className="sf-field">
          <label htmlFor="email-status" className="sf-field-label">
            Status
          </label>
          <select id="email-status" className="sf-input" value={status} onChange={(e) => setSearch({ status: e.currentTarget.value })}>
            <option value="">Any status</option>
            {Object.entries(MESSAGE_STATUS_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="sf-field">
          <label htmlFor="email-category" className="sf-field-label">
            Kind
          </label>
          <select id="email-category" className="sf-input" value={category} onChange={(e) => setSearch({ category: e.currentTarget.value })}>
            <option value="">Any kind</option>
            <option value="transactional">Transactional</option>
            <option value="marketing">Marketing</option>
          </select>
        </div>
      </form>
      {log.isPending ? (
        <Loading label="Loading the email log…" />
      ) : log.isError ? (
        <ErrorState error={log.error} onRetry={() => void log.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title={filtered ? 'No email matches these filters' : 'No email sent yet'}>
          {filtered ? 'Try another address or status.' : 'Messages sent through the API, the preference center or campaigns appear here.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table cards-on-phone">
            <caption className="sf-visually-hidden">Emails, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Recipient</th>
                <th scope="col">Subject</th>
                <th scope="col">Status</th>
                <th scope="col">Queued</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id}>
                  <td data-label="Recipient">
                    <Link to={`/emails/${m.id}`}>{m.to_address}</Link>
                  </td>
                  <td data-label="Subject">
                    {m.subject}
                    {m.template ? <span className="muted small"> · {m.template.name}</span> : null}
                  </td>
                  <td data-label="Status">
                    <Badge status={m.status} label={MESSAGE_STATUS_LABELS[m.status]} />
                    {m.error ? <span className="muted small"> {m.error.message || m.error.code}</span> : null}
                  </td>
                  <td data-label="Queued">
                    <time dateTime={m.created_at}>{formatDateTime(m.created_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {log.hasNextPage ? (
            <Button busy={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
              Load older emails
            </Button>
          ) : null}
        </div>
      )}
    </Page>
  );
}
