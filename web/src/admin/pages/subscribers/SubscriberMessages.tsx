import { useInfiniteQuery } from '@tanstack/react-query';
import { Button } from '@shared/ui/Button';
import { api, unwrap, type SubscriberEmail } from '../../api';
import { keys } from '../../keys';
import { useOrganization } from '../../session';
import { Badge, formatDateTime } from '../../ui/misc';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

/** The latest thing that happened to a message, for the "Last event" column. */
function lastEvent(m: SubscriberEmail): { label: string; at: string | null } {
  const events: [string, string | null][] = [
    ['Complained', m.complained_at],
    ['Bounced', m.bounced_at],
    ['Failed', m.failed_at],
    ['Clicked', m.clicked_at],
    ['Opened', m.opened_at],
    ['Delivered', m.delivered_at],
    ['Sent', m.sent_at],
  ];
  const latest = events.filter(([, at]) => at).sort((a, b) => Date.parse(b[1]!) - Date.parse(a[1]!))[0];
  return latest ? { label: latest[0], at: latest[1] } : { label: '—', at: null };
}

/** The emails sent to one subscriber, newest first, a page of 20 at a time. */
export function SubscriberMessages({ subscriberId, email }: { subscriberId: string; email: string }) {
  const { organizationId } = useOrganization();
  const messages = useInfiniteQuery({
    queryKey: keys.subscribers.emails(organizationId, subscriberId),
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/api/v1/subscribers/{id}/emails', { params: { path: { id: subscriberId }, query: { limit: 20, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  if (messages.isPending) return <Loading label="Loading messages…" />;
  if (messages.isError) return <ErrorState title="The messages could not be loaded" error={messages.error} onRetry={() => void messages.refetch()} />;
  const items = messages.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <EmptyState title="No messages sent">Emails sent to this subscriber through the API or campaigns appear here.</EmptyState>;
  return (
    <>
      <div className="table-wrap">
        <table className="data-table">
          <caption className="sf-visually-hidden">Messages sent to this subscriber, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Template</th>
              <th scope="col">Status</th>
              <th scope="col">Queued</th>
              <th scope="col">Last event</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => {
              const last = lastEvent(m);
              return (
                <tr key={m.id}>
                  <td>
                    {m.subject}
                    {/* The address changes with the profile; say so when the message went elsewhere. */}
                    {m.to_address.toLowerCase() !== email.toLowerCase() ? <span className="muted small"> (to {m.to_address})</span> : null}
                  </td>
                  <td>{m.template ? m.template.name : <span className="muted">—</span>}</td>
                  <td>
                    <Badge status={m.status} />
                    {m.error ? <span className="muted small"> {m.error.message || m.error.code}</span> : null}
                  </td>
                  <td>
                    <time dateTime={m.created_at}>{formatDateTime(m.created_at)}</time>
                  </td>
                  <td>
                    {last.label}{' '}
                    {last.at ? (
                      <time dateTime={last.at} className="muted small">
                        {formatDateTime(last.at)}
                      </time>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {messages.hasNextPage ? (
        <Button busy={messages.isFetchingNextPage} onClick={() => void messages.fetchNextPage()}>
          Load older messages
        </Button>
      ) : null}
    </>
  );
}
