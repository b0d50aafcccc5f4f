import { useInfiniteQuery } from '@tanstack/react-query';
import { Button } from '@shared/ui/Button';
import { api, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link } from '../../router';
import { useOrganization } from '../../session';
import { Badge, formatDateTime } from '../../ui/misc';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

/** The subscriber's automation runs, newest first, each with its steps and where it stands. */
export function SubscriberAutomations({ subscriberId }: { subscriberId: string }) {
  const { organizationId } = useOrganization();
  const runs = useInfiniteQuery({
    queryKey: keys.automations.runs(organizationId, subscriberId),
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/api/v1/subscribers/{id}/automation-runs', { params: { path: { id: subscriberId }, query: { limit: 20, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  if (runs.isPending) return <Loading label="Loading automations…" />;
  if (runs.isError) return <ErrorState error={runs.error} onRetry={() => void runs.refetch()} />;
  const items = runs.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <EmptyState title="In no automation" />;
  return (
    <>
      <ol className="timeline">
        {items.map((run) => (
          <li key={run.id}>
            <p className="timeline-title">
              <Link to={`/automations/${run.automation.id}`}>{run.automation.name}</Link> (version {run.automation.version}){' '}
              <Badge status={run.status === 'exited' ? 'unsubscribed' : run.status === 'completed' ? 'sent' : 'active'} label={run.status} />
              {run.test ? (
                <>
                  {' '}
                  <Badge status="test" label="test" />
                </>
              ) : null}
            </p>
            {run.test ? (
              <p className="small">
                Started with a test API key: its emails went to the <Link to="/mailbox">dev mailbox</Link>, not to the subscriber.
              </p>
            ) : null}
            <p className="muted small">
              entered <time dateTime={run.entered_at as string}>{formatDateTime(run.entered_at as string)}</time>
              {run.exit_reason ? ` · exited: ${run.exit_reason.replace(/_/g, ' ')}` : ''}
              {run.next_step_at ? ` · next step ${formatDateTime(run.next_step_at as string)}` : ''}
            </p>
            <ul className="inline-list small">
              {run.steps.map((step) => (
                <li key={step.index}>
                  {step.index + 1}. {step.type.replace(/_/g, ' ')}: {step.status}
                  {step.reason === 'dev_mailbox' ? ' (in the dev mailbox)' : step.reason ? ` (${step.reason.replace(/_/g, ' ')})` : ''}
                  {step.email_message_id ? (
                    <>
                      {' '}
                      · <Link to={`/emails/${step.email_message_id}`}>email</Link>
                    </>
                  ) : null}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {runs.hasNextPage ? (
        <Button busy={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()}>
          Load older runs
        </Button>
      ) : null}
    </>
  );
}
