import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { Switch } from '@shared/ui/Switch';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, idempotent, unwrap, type Subscriber } from '../../api';
import { keys } from '../../keys';
import { Link, navigate } from '../../router';
import { useOrganization } from '../../session';
import { FormError, TextAreaField } from '../../ui/Fields';
import { Badge, copyText, formatDateTime } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { EmptyState, ErrorState, Loading, QueryView } from '../../ui/States';
import { describeEvent } from './events';
import { SubscriberAutomations } from './SubscriberAutomations';
import { SubscriberMessages } from './SubscriberMessages';
import { useTags } from './SubscribersPage';

type PageOf<T> = { items: T[]; next_cursor: string | null };

/** Every page of a cursor-paginated list, up to `max` items (a GDPR export should be complete, within reason). */
async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<PageOf<T>>, max = 10_000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < max);
  return items;
}

function download(filename: string, data: unknown) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function TagSwitches({ subscriber }: { subscriber: Subscriber }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const tags = useTags(organizationId);
  // The switch moves at once; it settles on the server's answer (and flips back if the change failed).
  const [optimistic, setOptimistic] = useState<Record<string, boolean>>({});
  const change = useMutation({
    mutationFn: ({ slug, on }: { slug: string; on: boolean }) => on
      ? unwrap(api.POST('/api/v1/subscribers/{id}/tags', { params: { path: { id: subscriber.id } }, body: { tags: [slug] } }))
      : unwrap(api.DELETE('/api/v1/subscribers/{id}/tags/{slug}', { params: { path: { id: subscriber.id, slug } } })),
    onSuccess: (saved, { on }) => {
      queryClient.setQueryData(keys.subscribers.detail(organizationId, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.subscribers.events(organizationId, saved.id) });
      void queryClient.invalidateQueries({ queryKey: keys.subscribers.lists(organizationId) });
      void queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) });
      toast.success(on ? 'Subscribed to the tag.' : 'Unsubscribed from the tag.');
    },
    onError: (error) => toast.error(describeError(error)),
    onSettled: (_data, _error, { slug }) => setOptimistic(({ [slug]: _settled, ...rest }) => rest),
  });
  const has = new Set(subscriber.tags.map((t) => t.slug));
  if (!can('admin')) {
    return subscriber.tags.length ? <ul className="chips">{subscriber.tags.map((t) => <li key={t.id} className="chip">{t.name}</li>)}</ul> : <p className="muted">No tags.</p>;
  }
  if (tags.isPending) return <Loading label="Loading tags…" />;
  if (tags.isError) return <ErrorState error={tags.error} onRetry={() => void tags.refetch()} />;
  if (tags.data.items.length === 0) return <EmptyState title="No tags yet" action={<Link to="/tags">Create a tag</Link>} />;
  return (
    <div>
      {tags.data.items.map((t) => (
        <Switch key={t.id} id={`switch-${t.id}`} label={t.name} description={t.description}
          checked={optimistic[t.slug] ?? has.has(t.slug)}
          disabled={change.isPending} onChange={(on) => { setOptimistic((o) => ({ ...o, [t.slug]: on })); change.mutate({ slug: t.slug, on }); }} />
      ))}
    </div>
  );
}

function Timeline({ subscriberId }: { subscriberId: string }) {
  const { organizationId } = useOrganization();
  const events = useInfiniteQuery({
    queryKey: keys.subscribers.events(organizationId, subscriberId),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/subscribers/{id}/events', { params: { path: { id: subscriberId }, query: { limit: 20, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  if (events.isPending) return <Loading label="Loading consent history…" />;
  if (events.isError) return <ErrorState error={events.error} onRetry={() => void events.refetch()} />;
  const items = events.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <EmptyState title="No consent events" />;
  return (
    <>
      <ol className="timeline">
        {items.map((e) => (
          <li key={e.id}>
            <p className="timeline-title">{describeEvent(e)}</p>
            <p className="muted small">
              <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time> · source {e.source}{e.ip ? ` · IP ${e.ip}` : ''}
            </p>
          </li>
        ))}
      </ol>
      {events.hasNextPage ? <Button busy={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>Load older events</Button> : null}
    </>
  );
}

function Notes({ subscriberId }: { subscriberId: string }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [body, setBody] = useState('');
  const notes = useQuery({
    queryKey: keys.subscribers.notes(organizationId, subscriberId),
    queryFn: () => unwrap(api.GET('/api/v1/subscribers/{id}/notes', { params: { path: { id: subscriberId }, query: { limit: 100 } } })),
  });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/subscribers/{id}/notes', { params: { path: { id: subscriberId } }, body: { body: body.trim() }, ...idempotent() })),
    onSuccess: () => {
      setBody('');
      toast.success('Note added.');
      void queryClient.invalidateQueries({ queryKey: keys.subscribers.notes(organizationId, subscriberId) });
    },
  });
  const errors = fieldErrors(add.error);
  return (
    <>
      {can('admin') ? (
        <form noValidate onSubmit={(e) => { e.preventDefault(); if (body.trim()) add.mutate(); }}>
          <TextAreaField id="note" label="Add a note" rows={3} maxLength={5000} value={body} onChange={(e) => setBody(e.currentTarget.value)} error={errors.body} hint="Visible to your team only." />
          <FormError message={add.isError && !errors.body ? describeError(add.error) : null} />
          <Button type="submit" busy={add.isPending}>Add note</Button>
        </form>
      ) : null}
      <QueryView query={notes}>
        {(data) => data.items.length === 0 ? <p className="muted">No notes yet.</p> : (
          <ul className="notes">
            {data.items.map((n) => (
              <li key={n.id}><p className="note-body">{n.body}</p><p className="muted small">{formatDateTime(n.created_at)} · by {n.author.type === 'api_key' ? 'an API key' : 'a team member'}</p></li>
            ))}
          </ul>
        )}
      </QueryView>
    </>
  );
}

export default function SubscriberDetailPage({ params }: { params: Record<string, string> }) {
  const id = params.id!;
  const { organizationId, organization, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const subscriber = useQuery({
    queryKey: keys.subscribers.detail(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/subscribers/{id}', { params: { path: { id } } })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/subscribers/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: keys.subscribers.detail(organizationId, id) });
      void queryClient.invalidateQueries({ queryKey: keys.subscribers.all(organizationId) });
      void queryClient.invalidateQueries({ queryKey: keys.overview(organizationId) });
      toast.success('Subscriber erased.');
      navigate('/subscribers');
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const link = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/subscribers/{id}/preference-token', { params: { path: { id } }, body: {} })),
    onSuccess: async (result) => {
      if (await copyText(result.url)) toast.success('Preference link copied. It works for this subscriber only.');
      else toast.error(`Copying failed; the link is ${result.url}`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const exportData = useMutation({
    mutationFn: async (current: Subscriber) => {
      const path = { id: current.id };
      const [events, notes, messages] = await Promise.all([
        allPages((cursor) => unwrap(api.GET('/api/v1/subscribers/{id}/events', { params: { path, query: { limit: 100, cursor } } }))),
        allPages((cursor) => unwrap(api.GET('/api/v1/subscribers/{id}/notes', { params: { path, query: { limit: 100, cursor } } }))),
        allPages((cursor) => unwrap(api.GET('/api/v1/subscribers/{id}/emails', { params: { path, query: { limit: 100, cursor } } }))),
      ]);
      download(`subscriber-${current.id}.json`, { exported_at: new Date().toISOString(), organization: organization.slug, subscriber: current, consent_history: events, notes, messages });
    },
    onSuccess: () => toast.success('Export downloaded.'),
    onError: (error) => toast.error(describeError(error)),
  });

  if (subscriber.isPending) return <Page title="Subscriber" back={{ to: '/subscribers', label: 'Subscribers' }}><Loading /></Page>;
  if (subscriber.isError) return <Page title="Subscriber" back={{ to: '/subscribers', label: 'Subscribers' }}><ErrorState error={subscriber.error} onRetry={() => void subscriber.refetch()} /></Page>;
  const s = subscriber.data;
  const name = [s.first_name, s.last_name].filter(Boolean).join(' ');

  return (
    <Page
      title={s.email}
      description={<><Badge status={s.status} /> {name ? <span>{name}</span> : null}</>}
      back={{ to: '/subscribers', label: 'Subscribers' }}
      actions={can('admin') ? (
        <>
          <Link className="sf-button sf-button--secondary" to={`/subscribers/${s.id}/edit`}>Edit</Link>
          <Button busy={link.isPending} onClick={() => link.mutate()}>Copy preference link</Button>
          <Button busy={exportData.isPending} onClick={() => exportData.mutate(s)}>Export data</Button>
          <Button variant="danger" busy={remove.isPending} onClick={async () => {
            if (await confirm({ title: `Delete ${s.email}?`, message: 'The profile, tags, consent history and notes are erased for good (GDPR erasure). This cannot be undone.', confirmLabel: 'Delete for good', danger: true })) remove.mutate();
          }}>Delete</Button>
        </>
      ) : null}
    >
      <div className="grid-2">
        <Section title="Profile">
          <dl className="facts">
            <dt>Status</dt><dd><Badge status={s.status} /></dd>
            <dt>Source</dt><dd>{s.source}</dd>
            <dt>Created</dt><dd>{formatDateTime(s.created_at)}</dd>
            <dt>Confirmed</dt><dd>{formatDateTime(s.confirmed_at)}</dd>
            <dt>Unsubscribed</dt><dd>{formatDateTime(s.unsubscribed_at)}</dd>
            <dt>Updated</dt><dd>{formatDateTime(s.updated_at)}</dd>
          </dl>
          <h3>Metadata</h3>
          {Object.keys(s.metadata).length ? <pre className="code-block">{JSON.stringify(s.metadata, null, 2)}</pre> : <p className="muted">No metadata.</p>}
        </Section>
        <Section title="Tags"><TagSwitches subscriber={s} /></Section>
      </div>
      <div className="grid-2">
        <Section title="Consent history"><Timeline subscriberId={s.id} /></Section>
        <Section title="Notes"><Notes subscriberId={s.id} /></Section>
      </div>
      <Section title="Messages sent" id="messages"><SubscriberMessages subscriberId={s.id} email={s.email} /></Section>
      <Section title="Automations" id="automations"><SubscriberAutomations subscriberId={s.id} /></Section>
    </Page>
  );
}
