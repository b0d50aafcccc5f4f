import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { Dialog } from '@shared/ui/Dialog';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, idempotent, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { useOrganization } from '../../session';
import { Checkbox, Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, CopyButton, formatDateTime } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

type Endpoint = ResponseOf<'/api/v1/webhooks', 'get'>['items'][number];
type Delivery = ResponseOf<'/api/v1/webhooks/{id}/deliveries', 'get'>['items'][number];
const DELIVERY_TONE: Record<string, string> = { succeeded: 'delivered', failed: 'pending', dead: 'failed', pending: 'queued' };

/** Create or change an endpoint: URL, description, the events it receives (or all), the legacy header. */
function EndpointDialog({ endpoint, onClose, onSecret }: { endpoint: Endpoint | null; onClose: () => void; onSecret: (secret: string) => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [all, setAll] = useState(endpoint ? endpoint.events.includes('*') : true);
  const [events, setEvents] = useState<Set<string>>(new Set(endpoint?.events.filter((e) => e !== '*') ?? []));
  const [legacy, setLegacy] = useState(endpoint?.legacy_signature ?? false);
  const catalogue = useQuery({ queryKey: keys.webhooks.eventTypes(organizationId), queryFn: () => unwrap(api.GET('/api/v1/webhooks/event-types')) });
  const save = useMutation({
    mutationFn: async () => {
      const body = { url: url.trim(), description, events: all ? ['*'] : [...events], legacy_signature: legacy };
      if (endpoint) return { secret: null, ...(await unwrap(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: endpoint.id } }, body }))) };
      return unwrap(api.POST('/api/v1/webhooks', { body, ...idempotent() }));
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.webhooks.all(organizationId) });
      if (saved.secret) onSecret(saved.secret);
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Dialog open title={endpoint ? 'Edit endpoint' : 'New webhook endpoint'} onClose={onClose} wide>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Field
          id="webhook-url"
          label="URL"
          required
          type="url"
          maxLength={2048}
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          error={errors.url}
          hint="A public https address. Internal addresses are refused."
          data-autofocus
        />
        <Field id="webhook-description" label="Description" maxLength={500} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
        <fieldset className="fieldset">
          <legend>Events</legend>
          <Checkbox id="webhook-all" label="Every event, including types added later" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
          {!all ? (
            catalogue.isPending ? (
              <Loading label="Loading event types…" />
            ) : catalogue.isError ? (
              <ErrorState error={catalogue.error} />
            ) : (
              <div className="scope-groups">
                {catalogue.data.items.map((t) => (
                  <Checkbox
                    key={t.type}
                    id={`event-${t.type}`}
                    label={t.type}
                    hint={t.description}
                    checked={events.has(t.type)}
                    onChange={(e) => {
                      const next = new Set(events);
                      if (e.currentTarget.checked) next.add(t.type);
                      else next.delete(t.type);
                      setEvents(next);
                    }}
                  />
                ))}
              </div>
            )
          ) : null}
          {errors.events ? <p className="sf-field-error">{errors.events}</p> : null}
        </fieldset>
        <Checkbox
          id="webhook-legacy"
          label="Also send X-SubscribeFlow-Signature (receivers written for the reference system)"
          checked={legacy}
          onChange={(e) => setLegacy(e.currentTarget.checked)}
        />
        <FormError message={save.isError && !errors.url && !errors.events ? describeError(save.error) : null} />
        <div className="sf-dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!all && events.size === 0}>
            {endpoint ? 'Save' : 'Create endpoint'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** An endpoint's delivery log with each attempt, retry and replay. */
function Deliveries({ endpoint, canWrite }: { endpoint: Endpoint; canWrite: boolean }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const list = useQuery({
    queryKey: keys.webhooks.deliveries(organizationId, endpoint.id, status),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/webhooks/{id}/deliveries', {
          params: { path: { id: endpoint.id }, query: { limit: 50, ...(status ? { status: status as Delivery['status'] } : {}) } },
        }),
      ),
    refetchInterval: 5000,
  });
  const detail = useQuery({
    queryKey: keys.webhooks.delivery(organizationId, open ?? ''),
    queryFn: () => unwrap(api.GET('/api/v1/webhooks/deliveries/{delivery_id}', { params: { path: { delivery_id: open! } } })),
    enabled: open !== null,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: keys.webhooks.all(organizationId) });
  const retry = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/webhooks/deliveries/{delivery_id}/retry', { params: { path: { delivery_id: id } } })),
    onSuccess: () => {
      refresh();
      toast.success('Sending again.');
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const replay = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/webhooks/{id}/replay', {
          params: { path: { id: endpoint.id } },
          body: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        }),
      ),
    onSuccess: (r) => {
      refresh();
      toast.success(`${r.deliveries} events queued again.`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  return (
    <section aria-label={`Deliveries to ${endpoint.url}`}>
      <div className="grid-2">
        <SelectField id={`status-${endpoint.id}`} label="Status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">All</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed, retry scheduled</option>
          <option value="dead">Dead</option>
          <option value="pending">Pending</option>
        </SelectField>
      </div>
      {canWrite ? (
        <form
          className="grid-2"
          onSubmit={(e) => {
            e.preventDefault();
            replay.mutate();
          }}
        >
          <Field id={`replay-from-${endpoint.id}`} label="Replay from" type="datetime-local" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          <Field id={`replay-to-${endpoint.id}`} label="to" type="datetime-local" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
          <Button type="submit" busy={replay.isPending} disabled={!from || !to}>
            Replay events
          </Button>
        </form>
      ) : null}
      {list.isPending ? (
        <Loading label="Loading deliveries…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <EmptyState title="No deliveries">Events this endpoint subscribes to appear here; send a test to try it.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="sf-visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <code>{d.event_type}</code>
                  </td>
                  <td>
                    <Badge status={DELIVERY_TONE[d.status] ?? d.status} label={d.status} />
                  </td>
                  <td>
                    {d.attempts}
                    {d.next_attempt_at && d.status === 'failed' ? `, next ${formatDateTime(d.next_attempt_at)}` : ''}
                  </td>
                  <td>
                    {d.last_status_code ?? d.last_error ?? '—'}
                    {d.last_duration_ms !== null ? ` (${d.last_duration_ms} ms)` : ''}
                  </td>
                  <td>{formatDateTime(d.created_at)}</td>
                  <td className="cell-actions">
                    <Button onClick={() => setOpen(d.id)}>Details</Button>
                    {canWrite ? <Button onClick={() => retry.mutate(d.id)}>Retry</Button> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog open={open !== null} title="Delivery" onClose={() => setOpen(null)} wide>
        {detail.isPending ? (
          <Loading label="Loading…" />
        ) : detail.isError ? (
          <ErrorState error={detail.error} />
        ) : (
          <div>
            <p>
              <code>{detail.data.event_type}</code> · {detail.data.event_id}
            </p>
            <pre className="code-block">{JSON.stringify(detail.data.payload, null, 2)}</pre>
            {detail.data.attempt_log.map((a) => (
              <div key={a.attempt}>
                <h3>
                  Attempt {a.attempt} · {formatDateTime(a.created_at)} · {a.status_code ?? a.error} · {a.duration_ms} ms
                </h3>
                <pre className="code-block">
                  {Object.entries(a.request_headers)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join('\n')}
                </pre>
                {a.response_snippet ? <pre className="code-block">{a.response_snippet}</pre> : null}
              </div>
            ))}
          </div>
        )}
      </Dialog>
    </section>
  );
}

export default function WebhooksPage() {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const canWrite = can('admin');
  const [editing, setEditing] = useState<Endpoint | 'new' | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<string | null>(null);
  const list = useQuery({
    queryKey: keys.webhooks.list(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/webhooks', { params: { query: { limit: 100 } } })),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: keys.webhooks.all(organizationId) });
  const onError = (error: unknown) => toast.error(describeError(error));
  const test = useMutation({
    mutationFn: (e: Endpoint) => unwrap(api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id: e.id } } })),
    onSuccess: (_r, e) => {
      refresh();
      setExpanded(e.id);
      toast.success('Test event queued.');
    },
    onError,
  });
  const rotate = useMutation({
    mutationFn: (e: Endpoint) => unwrap(api.POST('/api/v1/webhooks/{id}/rotate-secret', { params: { path: { id: e.id } } })),
    onSuccess: (r) => {
      refresh();
      setSecret(r.secret);
    },
    onError,
  });
  const toggle = useMutation({
    mutationFn: (e: Endpoint) => unwrap(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: e.id } }, body: { enabled: !e.enabled } })),
    onSuccess: refresh,
    onError,
  });
  const remove = useMutation({
    mutationFn: (e: Endpoint) => unwrap(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: e.id } } })),
    onSuccess: refresh,
    onError,
  });
  const items = list.data?.items ?? [];

  return (
    <Page title="Settings">
      <SettingsNav />
      <div className="page-header page-header--sub">
        <h2>Webhooks</h2>
        {canWrite ? (
          <Button variant="primary" onClick={() => setEditing('new')}>
            New endpoint
          </Button>
        ) : null}
      </div>
      {list.isPending ? (
        <Loading label="Loading endpoints…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No webhook endpoints">Endpoints receive signed events (new subscribers, opt-outs, bounces, …) as they happen.</EmptyState>
      ) : (
        items.map((e) => (
          <article key={e.id} className="card">
            <h3>
              <code>{e.url}</code> {e.enabled ? <Badge status="active" label="enabled" /> : <Badge status="suspended" label="disabled" />}
            </h3>
            {e.description ? <p>{e.description}</p> : null}
            {!e.enabled && e.disabled_reason ? (
              <p role="status">
                Disabled {formatDateTime(e.disabled_at)}: {e.disabled_reason}
              </p>
            ) : null}
            {e.failing_since && e.enabled ? <p role="status">Failing since {formatDateTime(e.failing_since)}</p> : null}
            <ul className="chips">
              {e.events.map((t) => (
                <li key={t} className="chip chip--mono">
                  {t === '*' ? 'every event' : t}
                </li>
              ))}
            </ul>
            <div className="cell-actions">
              <Button onClick={() => setExpanded(expanded === e.id ? null : e.id)} aria-expanded={expanded === e.id}>
                Deliveries
              </Button>
              {canWrite ? (
                <>
                  <Button onClick={() => test.mutate(e)} disabled={!e.enabled}>
                    Send test
                  </Button>
                  <Button onClick={() => setEditing(e)}>Edit</Button>
                  <Button onClick={() => toggle.mutate(e)}>{e.enabled ? 'Disable' : 'Enable'}</Button>
                  <Button
                    onClick={async () => {
                      if (
                        await confirm({
                          title: 'Rotate the signing secret?',
                          message: 'The new secret is shown once. The old one keeps signing beside it for 24 hours.',
                          confirmLabel: 'Rotate',
                        })
                      )
                        rotate.mutate(e);
                    }}
                  >
                    Rotate secret
                  </Button>
                  <button
                    type="button"
                    className="sf-button sf-button--danger button-small"
                    aria-label={`Delete ${e.url}`}
                    onClick={async () => {
                      if (
                        await confirm({
                          title: 'Delete this endpoint?',
                          message: 'It receives nothing more, and its delivery log is deleted.',
                          confirmLabel: 'Delete',
                          danger: true,
                        })
                      )
                        remove.mutate(e);
                    }}
                  >
                    Delete
                  </button>
                </>
              ) : null}
            </div>
            {expanded === e.id ? <Deliveries endpoint={e} canWrite={canWrite} /> : null}
          </article>
        ))
      )}
      {editing ? <EndpointDialog endpoint={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSecret={setSecret} /> : null}
      <Dialog
        open={secret !== null}
        title="Signing secret"
        onClose={() => setSecret(null)}
        description="Copy it now into your receiver's configuration. It is shown only this once."
        footer={
          <Button variant="primary" onClick={() => setSecret(null)}>
            I have copied it
          </Button>
        }
      >
        <div className="secret-row">
          <code className="secret" data-testid="webhook-secret">
            {secret}
          </code>
          {secret ? <CopyButton value={secret} label="Copy the signing secret" /> : null}
        </div>
      </Dialog>
    </Page>
  );
}
