import { useIsMutating, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, idempotent, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { navigate } from '../../router';
import { useOrganization } from '../../session';
import { Badge, formatDateTime, formatNumber, labelOf } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { ErrorState, Loading, QueryView } from '../../ui/States';
import { looksLikeEmail } from '@shared/api/problems';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { AudienceEditor, audienceMutationKey } from './AudienceEditor';
import { CampaignEngagement } from './CampaignEngagement';
import { AbTestEditor, AbTestResults } from './AbTest';

type Progress = ResponseOf<'/api/v1/campaigns/{id}/progress', 'get'>;
type Action = 'pause' | 'resume' | 'cancel' | 'retry' | 'duplicate';
const STATES = ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'held'] as const;
const LIVE = new Set(['scheduled', 'sending', 'paused']);

/** Sent of total, the rate over the last samples and the time left at that rate. */
function ProgressBar({ progress }: { progress: Progress }) {
  const samples = useRef<{ at: number; done: number }[]>([]);
  const done = progress.sent + progress.failed + progress.skipped + progress.cancelled;
  const now = Date.now();
  if (samples.current.at(-1)?.done !== done) samples.current = [...samples.current.filter((s) => now - s.at < 30_000), { at: now, done }];
  const first = samples.current[0]!;
  const rate = now > first.at + 1000 ? ((done - first.done) * 1000) / (now - first.at) : 0;
  const left = progress.targeted - done;
  const percent = progress.targeted > 0 ? Math.round((done / progress.targeted) * 100) : 0;
  return (
    <div>
      <progress max={Math.max(progress.targeted, 1)} value={done} aria-label="Campaign progress" style={{ width: '100%' }} />
      <p>
        {formatNumber(progress.sent)} sent of {formatNumber(progress.targeted)} ({percent} %)
        {rate > 0 && left > 0 ? ` · ${formatNumber(Math.round(rate))}/s · about ${formatNumber(Math.ceil(left / rate))} s left` : ''}
      </p>
      <ul className="inline-list">
        {STATES.map((state) => (
          <li key={state}>
            <Badge status={state} /> {formatNumber(progress[state])}
          </li>
        ))}
      </ul>
      {progress.last_error ? (
        <p className="sf-form-error" role="alert">
          {progress.last_error}
        </p>
      ) : null}
      {progress.resumes_at ? <p role="status">Outside the organization's sending window: sending resumes at {formatDateTime(progress.resumes_at)}.</p> : null}
    </div>
  );
}

/** Sends the campaign's email to up to five addresses, rendered for a sample subscriber; no stats change. */
function TestSend({ id }: { id: string }) {
  const toast = useToast();
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const send = useMutation({
    mutationFn: (emails: string[]) => unwrap(api.POST('/api/v1/campaigns/{id}/test', { params: { path: { id } }, body: { emails }, ...idempotent() })),
    onSuccess: (result) => {
      setProblem(null);
      toast.success(`Test email sent to ${formatNumber(result.sent)} ${result.sent === 1 ? 'address' : 'addresses'}.`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const emails = [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
    if (emails.length === 0) return setProblem('Enter at least one address.');
    if (emails.length > 5) return setProblem('Enter at most five addresses.');
    const wrong = emails.find((e) => !looksLikeEmail(e));
    if (wrong) return setProblem(`"${wrong}" is not an email address.`);
    setProblem(null);
    send.mutate(emails);
  };
  return (
    <form noValidate onSubmit={submit} className="inline-fields">
      <Field
        id="test-emails"
        label="Send a test to"
        hint="Up to five addresses, separated by commas. Rendered for a sample subscriber; the campaign's numbers do not change."
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        error={problem}
      />
      <Button type="submit" busy={send.isPending}>
        Send test
      </Button>
      <FormError message={send.isError ? describeError(send.error) : null} />
    </form>
  );
}

export default function CampaignDetailPage({ params }: { params: Record<string, string> }) {
  const id = params.id!;
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const [recipientStatus, setRecipientStatus] = useState('');
  const campaign = useQuery({
    queryKey: keys.campaigns.detail(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}', { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data && LIVE.has(query.state.data.status) ? 2000 : false),
  });
  const status = campaign.data?.status;
  const isDraft = status === 'draft';
  const audience = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, id), 'audience'],
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}/recipient-count', { params: { path: { id } } })),
    enabled: isDraft,
  });
  const progress = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, id), 'progress'],
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}/progress', { params: { path: { id } } })),
    enabled: Boolean(status) && !isDraft,
    refetchInterval: status && LIVE.has(status) ? 1000 : false,
  });
  const stats = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, id), 'stats'],
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}/stats', { params: { path: { id } } })),
    enabled: status === 'sent' || status === 'cancelled' || status === 'failed',
  });
  const analytics = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, id), 'analytics'],
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}/analytics', { params: { path: { id } } })),
    enabled: Boolean(status) && !isDraft,
    refetchInterval: status && LIVE.has(status) ? 10_000 : false,
  });
  const resend = useMutation({
    mutationFn: (to: 'non_openers' | 'non_clickers') =>
      unwrap(api.POST('/api/v1/campaigns/{id}/resend', { params: { path: { id } }, body: { to }, ...idempotent() })),
    onSuccess: async (created) => {
      await refresh();
      toast.success('A draft for them is ready: check it, then send it.');
      navigate(`/campaigns/${created.id}`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const recipients = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, id), 'recipients', recipientStatus],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/campaigns/{id}/recipients', {
          params: { path: { id }, query: { limit: 100, ...(recipientStatus ? { status: recipientStatus as (typeof STATES)[number] } : {}) } },
        }),
      ),
    enabled: Boolean(status) && !isDraft,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.campaigns.all(organizationId) });
  const send = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/campaigns/{id}/send', { params: { path: { id } }, body: {}, ...idempotent() })),
    onSuccess: async () => {
      await refresh();
      toast.success('The campaign is on its way.');
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const act = useMutation({
    mutationFn: async (action: Action) => {
      const path = { params: { path: { id } } };
      if (action === 'retry') return unwrap(api.POST('/api/v1/campaigns/{id}/retry', path)).then((r) => r.campaign);
      return unwrap(api.POST(`/api/v1/campaigns/{id}/${action}`, path));
    },
    onSuccess: async (result, action) => {
      await refresh();
      if (action === 'duplicate') navigate(`/campaigns/${result.id}`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const canWrite = can('admin');
  const savingAudience = useIsMutating({ mutationKey: audienceMutationKey(id) }) > 0;

  async function askSend() {
    const count = audience.data?.count ?? 0;
    const ok = await confirm({
      title: `Send to ${formatNumber(count)} subscribers?`,
      message: 'Each of them gets this email once. You can pause or cancel while it sends.',
      confirmLabel: `Send to ${formatNumber(count)}`,
    });
    if (ok) send.mutate();
  }
  async function askCancel() {
    if (
      await confirm({
        title: 'Cancel this campaign?',
        message: 'Subscribers not reached yet will not get it. This cannot be undone.',
        confirmLabel: 'Cancel campaign',
        danger: true,
      })
    )
      act.mutate('cancel');
  }

  if (campaign.isPending) return <Loading label="Loading the campaign…" />;
  if (campaign.isError) return <ErrorState error={campaign.error} onRetry={() => void campaign.refetch()} />;
  const c = campaign.data;
  const actions = canWrite ? (
    <>
      {isDraft ? (
        <Button variant="primary" busy={send.isPending || savingAudience} disabled={!audience.data || audience.isFetching} onClick={() => void askSend()}>
          Send now
        </Button>
      ) : null}
      {status === 'sending' ? (
        <Button busy={act.isPending} onClick={() => act.mutate('pause')}>
          Pause
        </Button>
      ) : null}
      {status === 'paused' ? (
        <Button variant="primary" busy={act.isPending} onClick={() => act.mutate('resume')}>
          Resume
        </Button>
      ) : null}
      {status === 'sent' || status === 'failed' ? (
        <Button busy={act.isPending} onClick={() => act.mutate('retry')}>
          Retry failed
        </Button>
      ) : null}
      {status && LIVE.has(status) ? (
        <Button variant="danger" onClick={() => void askCancel()}>
          Cancel
        </Button>
      ) : null}
      <Button onClick={() => act.mutate('duplicate')}>Duplicate</Button>
      {status === 'sent' ? (
        <Button busy={resend.isPending} onClick={() => resend.mutate('non_openers')}>
          Resend to non-openers
        </Button>
      ) : null}
      {status === 'sent' ? (
        <Button busy={resend.isPending} onClick={() => resend.mutate('non_clickers')}>
          Resend to non-clickers
        </Button>
      ) : null}
    </>
  ) : null;
  return (
    <Page title={c.name} description={<Badge status={c.status} />} back={{ to: '/campaigns', label: 'Campaigns' }} actions={actions}>
      {isDraft ? (
        <>
          <Section title="Audience">
            <AudienceEditor campaign={c} disabled={!canWrite} />
          </Section>
          <Section title="A/B test">
            <AbTestEditor campaign={c} disabled={!canWrite} />
          </Section>
          {canWrite ? (
            <Section title="Test email">
              <TestSend id={id} />
            </Section>
          ) : null}
        </>
      ) : (
        <Section title="Progress">
          <QueryView query={progress} loadingLabel="Loading progress…">
            {(p) => <ProgressBar progress={p} />}
          </QueryView>
          <p className="muted small">
            Started {formatDateTime(c.started_at as string | null)} · completed {formatDateTime(c.completed_at as string | null)}
          </p>
        </Section>
      )}
      {!isDraft && c.ab_test ? (
        <Section title="A/B test">
          <AbTestResults campaignId={id} live={Boolean(status && LIVE.has(status))} canWrite={canWrite} />
        </Section>
      ) : null}
      {stats.data ? (
        <Section title="Results">
          <ul className="inline-list">
            {(['delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed'] as const).map((k) => (
              <li key={k}>
                {k}: <strong>{formatNumber(stats.data[k])}</strong>
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
      {!isDraft ? (
        <Section title="Opens and clicks">
          <QueryView query={analytics} loadingLabel="Loading opens and clicks…">
            {(a) => <CampaignEngagement analytics={a} />}
          </QueryView>
        </Section>
      ) : null}
      {!isDraft ? (
        <Section title="Recipients">
          <SelectField id="recipient-status" label="Status" value={recipientStatus} onChange={(e) => setRecipientStatus(e.currentTarget.value)}>
            <option value="">All</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {labelOf(s)}
              </option>
            ))}
          </SelectField>
          <QueryView query={recipients} loadingLabel="Loading recipients…">
            {(page) => (
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Status</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((r) => (
                    <tr key={r.subscriber_id}>
                      <td>{r.email ?? '—'}</td>
                      <td>
                        <Badge status={r.status} />
                      </td>
                      <td>{r.reason ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </QueryView>
        </Section>
      ) : null}
    </Page>
  );
}
