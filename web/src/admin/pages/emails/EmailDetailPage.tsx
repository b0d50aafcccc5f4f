import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link } from '../../router';
import { useOrganization } from '../../session';
import { Badge, formatDateTime } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { ErrorState, Loading } from '../../ui/States';
import { MESSAGE_STATUS_LABELS } from './EmailsPage';

const TIMES = [
  ['Queued', 'created_at'],
  ['Sent', 'sent_at'],
  ['Delivered', 'delivered_at'],
  ['Opened', 'opened_at'],
  ['Clicked', 'clicked_at'],
  ['Bounced', 'bounced_at'],
  ['Marked as spam', 'complained_at'],
  ['Failed', 'failed_at'],
] as const;

/** One email: what happened to it, the headers we set, the message as rendered, and the provider's events. */
export default function EmailDetailPage({ params }: { params: Record<string, string> }) {
  const id = params.id!;
  const { organizationId } = useOrganization();
  const message = useQuery({
    queryKey: keys.emails.detail(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/emails/{id}', { params: { path: { id } } })),
  });
  const content = useQuery({
    queryKey: keys.emails.content(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/emails/{id}/content', { params: { path: { id } } })),
  });
  const back = { to: '/emails', label: 'Email log' };
  if (message.isPending)
    return (
      <Page title="Email" back={back}>
        <Loading label="Loading the email…" />
      </Page>
    );
  if (message.isError)
    return (
      <Page title="Email" back={back}>
        <ErrorState error={message.error} onRetry={() => void message.refetch()} />
      </Page>
    );
  const m = message.data;

  return (
    <Page
      title={m.subject || '(no subject)'}
      back={back}
      description={
        <>
          To {m.subscriber_id ? <Link to={`/subscribers/${m.subscriber_id}`}>{m.to_address}</Link> : m.to_address}, from {m.from_address}
        </>
      }
    >
      <Section title="Delivery">
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <Badge status={m.status} label={MESSAGE_STATUS_LABELS[m.status]} />
            {m.error ? <span className="muted small"> {m.error.message || m.error.code}</span> : null}
          </dd>
          <dt>Kind</dt>
          <dd>{m.category === 'marketing' ? 'Marketing' : 'Transactional'}</dd>
          {TIMES.filter(([, field]) => m[field]).map(([label, field]) => (
            <div key={field} className="facts-row">
              <dt>{label}</dt>
              <dd>
                <time dateTime={m[field]!}>{formatDateTime(m[field])}</time>
              </dd>
            </div>
          ))}
          <dt>Attempts</dt>
          <dd>{m.attempts}</dd>
          <dt>Provider</dt>
          <dd>
            {m.provider ?? '—'}
            {m.esp_message_id ? <code className="muted small"> {m.esp_message_id}</code> : null}
          </dd>
        </dl>
      </Section>
      {content.isPending ? (
        <Loading label="Loading the message…" />
      ) : content.isError ? (
        <ErrorState title="The message could not be loaded" error={content.error} onRetry={() => void content.refetch()} />
      ) : (
        <>
          <Section title="Provider events">
            {content.data.events.length === 0 ? (
              <p className="muted">No event from the provider yet.</p>
            ) : (
              <ol className="timeline">
                {content.data.events.map((e, index) => (
                  <li key={index}>
                    <code>{e.type}</code>{' '}
                    <time dateTime={e.received_at} className="muted small">
                      {formatDateTime(e.received_at)}
                    </time>
                  </li>
                ))}
              </ol>
            )}
          </Section>
          <Section title="Headers">
            <dl className="facts headers">
              {Object.entries(content.data.headers).map(([name, value]) => (
                <div key={name} className="facts-row">
                  <dt>{name}</dt>
                  <dd>
                    <code>{value}</code>
                  </dd>
                </div>
              ))}
            </dl>
          </Section>
          <Section title="Message">
            {/* Email HTML is someone else's markup: a sandboxed frame without scripts or same-origin access. */}
            <iframe title="The message as sent" className="preview-frame" sandbox="" srcDoc={content.data.html} />
            <details>
              <summary>Plain-text part</summary>
              <pre className="email-text">{content.data.text}</pre>
            </details>
          </Section>
        </>
      )}
    </Page>
  );
}
