import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { api, ApiRequestError, unwrap } from '../api';
import { keys } from '../keys';
import { setSearch, useLocation } from '../router';
import { useOrganization } from '../session';
import { formatDateTime, useDebounced } from '../ui/misc';
import { Page } from '../ui/Page';
import { EmptyState, ErrorState, Loading } from '../ui/States';

/** What would have been sent when no email provider is configured: the list, and one message at a time. */
export default function MailboxPage() {
  const { organizationId, can } = useOrganization();
  const { search } = useLocation();
  const to = search.get('to') ?? '';
  const [text, setText] = useState(to);
  const debounced = useDebounced(text.trim(), 400);
  useEffect(() => {
    if (debounced !== to) setSearch({ to: debounced || undefined });
  }, [debounced, to]);
  const [openId, setOpenId] = useState<string | null>(null);
  const messages = useInfiniteQuery({
    queryKey: keys.mailbox(organizationId, to),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/dev/mailbox', { params: { query: { limit: 25, cursor: pageParam, to: to || undefined } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: can('admin'),
  });
  if (!can('admin'))
    return (
      <Page title="Dev mailbox">
        <ErrorState error={new ApiRequestError(403, undefined)} />
      </Page>
    );
  const items = messages.data?.pages.flatMap((p) => p.items) ?? [];
  const open = items.find((m) => m.id === openId) ?? items[0];

  return (
    <Page
      title="Dev mailbox"
      description="Email stays here while no provider (Resend or SMTP) is configured."
      actions={<Button onClick={() => void messages.refetch()}>Refresh</Button>}
    >
      <div className="filters">
        <div className="sf-field">
          <label htmlFor="mailbox-to" className="sf-field-label">
            Recipient
          </label>
          <input
            id="mailbox-to"
            type="search"
            className="sf-input"
            placeholder="someone@example.com"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
          />
        </div>
      </div>
      {messages.isPending ? (
        <Loading label="Loading messages…" />
      ) : messages.isError ? (
        <ErrorState error={messages.error} onRetry={() => void messages.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="The mailbox is empty">Messages your organization sends appear here.</EmptyState>
      ) : (
        <div className="mailbox">
          <div>
            <ul className="message-list" aria-label="Messages">
              {items.map((m) => (
                <li key={m.id}>
                  <button type="button" className="message-item" aria-current={open?.id === m.id ? 'true' : undefined} onClick={() => setOpenId(m.id)}>
                    <span className="message-subject">{m.subject}</span>
                    <span className="muted small">
                      To {m.to} · {formatDateTime(m.created_at)}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
            {messages.hasNextPage ? (
              <Button busy={messages.isFetchingNextPage} onClick={() => void messages.fetchNextPage()}>
                Load older messages
              </Button>
            ) : null}
          </div>
          {open ? (
            <article className="message-view card" aria-labelledby="message-subject">
              <h2 id="message-subject">{open.subject}</h2>
              <dl className="facts">
                <dt>From</dt>
                <dd>{open.from}</dd>
                <dt>To</dt>
                <dd>{open.to}</dd>
                <dt>Date</dt>
                <dd>{formatDateTime(open.created_at)}</dd>
              </dl>
              {/* An empty sandbox: the message can neither run scripts nor navigate this page. */}
              <iframe
                title={`Message: ${open.subject}`}
                sandbox=""
                srcDoc={open.html || `<pre>${open.text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)}</pre>`}
                className="preview-frame"
              />
              {Object.keys(open.headers).length ? (
                <details>
                  <summary>Headers ({Object.keys(open.headers).length})</summary>
                  <dl className="facts">
                    {Object.entries(open.headers).map(([name, value]) => [
                      <dt key={`${name}-name`}>{name}</dt>,
                      <dd key={`${name}-value`} className="break">
                        {value}
                      </dd>,
                    ])}
                  </dl>
                </details>
              ) : null}
              {open.links.length ? (
                <details>
                  <summary>Links in this message ({open.links.length})</summary>
                  <ul className="plain-list">
                    {open.links.map((l) => (
                      <li key={l}>
                        <a href={l} target="_blank" rel="noreferrer noopener">
                          {l}
                        </a>
                      </li>
                    ))}
                  </ul>
                </details>
              ) : null}
            </article>
          ) : null}
        </div>
      )}
    </Page>
  );
}
