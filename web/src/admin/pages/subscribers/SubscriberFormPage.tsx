import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { useToast } from '@shared/ui/Toasts';
import { looksLikeEmail } from '@shared/api/problems';
import { api, ApiRequestError, describeError, fieldErrors, idempotent, unwrap, type Subscriber } from '../../api';
import { keys } from '../../keys';
import { navigate, useUnsavedChangesGuard } from '../../router';
import { useOrganization } from '../../session';
import { Checkbox, Field, FormError, SelectField, TextAreaField } from '../../ui/Fields';
import { Page } from '../../ui/Page';
import { ErrorState, Loading } from '../../ui/States';
import { useTags } from './SubscribersPage';

interface Draft {
  email: string;
  first_name: string;
  last_name: string;
  status: string;
  metadata: string;
  tags: string[];
}

const blank: Draft = { email: '', first_name: '', last_name: '', status: 'active', metadata: '{}', tags: [] };
const draftOf = (s: Subscriber): Draft => ({
  email: s.email, first_name: s.first_name ?? '', last_name: s.last_name ?? '', status: s.status,
  metadata: JSON.stringify(s.metadata, null, 2), tags: s.tags.map((t) => t.slug),
});
const orNull = (value: string) => (value.trim() === '' ? null : value.trim());

/** Field → message from the API's answer; nested metadata errors show on the metadata box, 409 on the email. */
function errorsOf(error: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [field, message] of Object.entries(fieldErrors(error))) {
    const top = field.split('.')[0]!;
    fields[top] ??= top === field ? message : `${field.slice(top.length + 1)}: ${message}`;
  }
  if (error instanceof ApiRequestError && error.status === 409 && !fields.email) fields.email = error.message;
  return fields;
}

function SubscriberForm({ initial, subscriber }: { initial: Draft; subscriber?: Subscriber }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const tags = useTags(organizationId);
  const [draft, setDraft] = useState(initial);
  const [metadataError, setMetadataError] = useState<string | null>(null);
  const [emailError, setEmailError] = useState<string | null>(null);
  const set = (field: keyof Draft) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });

  const save = useMutation({
    mutationFn: async (metadata: Record<string, unknown>) => {
      const common = { email: draft.email.trim(), first_name: orNull(draft.first_name), last_name: orNull(draft.last_name), metadata };
      if (!subscriber) {
        return unwrap(api.POST('/api/v1/subscribers', {
          body: { ...common, status: draft.status as 'active' | 'pending', tags: draft.tags, source: 'admin' }, ...idempotent(),
        }));
      }
      const changedStatus = draft.status !== subscriber.status ? { status: draft.status as 'active' | 'unsubscribed' } : {};
      return unwrap(api.PATCH('/api/v1/subscribers/{id}', { params: { path: { id: subscriber.id } }, body: { ...common, ...changedStatus } }));
    },
    onSuccess: async (saved) => {
      queryClient.setQueryData(keys.subscribers.detail(organizationId, saved.id), saved);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.subscribers.all(organizationId) }),
        queryClient.invalidateQueries({ queryKey: keys.overview(organizationId) }),
        queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) }),
      ]);
      toast.success(subscriber ? 'Subscriber saved.' : `${saved.email} added.`);
      navigate(`/subscribers/${saved.id}`, { force: true });
    },
  });
  useUnsavedChangesGuard(!save.isSuccess && JSON.stringify(draft) !== JSON.stringify(initial));
  const errors = errorsOf(save.error);
  const formError = save.isError && Object.keys(errors).length === 0 ? describeError(save.error) : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    // The obvious is checked here, before a round trip: an address that cannot be one.
    if (!looksLikeEmail(draft.email)) {
      setEmailError(draft.email.trim() ? 'Enter an email address, like name@example.com.' : 'Fill in the email address.');
      document.getElementById('email')?.focus();
      return;
    }
    setEmailError(null);
    let metadata: unknown;
    try {
      metadata = JSON.parse(draft.metadata || '{}');
    } catch {
      setMetadataError('Metadata must be valid JSON, e.g. {"plan": "pro"}.');
      return;
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      setMetadataError('Metadata must be a JSON object, e.g. {"plan": "pro"}.');
      return;
    }
    setMetadataError(null);
    save.mutate(metadata as Record<string, unknown>);
  }

  const statusOptions = subscriber
    ? (['active', 'unsubscribed'].includes(subscriber.status) ? ['active', 'unsubscribed'] : [subscriber.status, 'active', 'unsubscribed'])
    : ['active', 'pending'];

  return (
    <form className="form card" noValidate onSubmit={submit}>
      <Field id="email" label="Email address" type="email" required autoComplete="off" value={draft.email} onChange={set('email')} error={emailError ?? errors.email} />
      <div className="grid-2">
        <Field id="first-name" label="First name" value={draft.first_name} onChange={set('first_name')} error={errors.first_name} maxLength={100} />
        <Field id="last-name" label="Last name" value={draft.last_name} onChange={set('last_name')} error={errors.last_name} maxLength={100} />
      </div>
      <SelectField id="status" label="Status" value={draft.status} onChange={set('status')} error={errors.status}
        hint={subscriber ? 'Bounced and complained addresses can be set back to active only deliberately.' : 'Pending subscribers get no marketing email until they confirm.'}>
        {statusOptions.map((s) => <option key={s} value={s} disabled={subscriber && !['active', 'unsubscribed'].includes(s)}>{s.charAt(0).toUpperCase() + s.slice(1)}</option>)}
      </SelectField>
      {!subscriber ? (
        <fieldset className="fieldset">
          <legend>Tags</legend>
          {tags.isPending ? <Loading label="Loading tags…" /> : tags.data?.items.length ? (
            <div className="checkbox-grid">
              {tags.data.items.map((t) => (
                <Checkbox key={t.id} id={`tag-${t.id}`} label={t.name} checked={draft.tags.includes(t.slug)}
                  onChange={(e) => { const on = e.currentTarget.checked; setDraft({ ...draft, tags: on ? [...draft.tags, t.slug] : draft.tags.filter((x) => x !== t.slug) }); }} />
              ))}
            </div>
          ) : <p className="muted">No tags yet.</p>}
          {errors.tags ? <p className="sf-field-error">{errors.tags}</p> : null}
        </fieldset>
      ) : null}
      <TextAreaField id="metadata" label="Metadata (JSON)" rows={5} spellCheck={false} className="sf-input textarea mono" value={draft.metadata} onChange={set('metadata')}
        error={metadataError ?? errors.metadata} hint="Up to 50 keys of your own data, e.g. plan or signup page." />
      <FormError message={formError} />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending}>{subscriber ? 'Save changes' : 'Add subscriber'}</Button>
        <Button onClick={() => navigate(subscriber ? `/subscribers/${subscriber.id}` : '/subscribers')}>Cancel</Button>
      </div>
    </form>
  );
}

export default function SubscriberFormPage({ params }: { params: Record<string, string> }) {
  const { organizationId, can } = useOrganization();
  const id = params.id;
  const existing = useQuery({
    queryKey: keys.subscribers.detail(organizationId, id ?? 'new'),
    queryFn: () => unwrap(api.GET('/api/v1/subscribers/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
  });
  const back = id ? { to: `/subscribers/${id}`, label: 'Subscriber' } : { to: '/subscribers', label: 'Subscribers' };
  if (!can('admin')) return <Page title="Subscribers" back={back}><ErrorState error={new ApiRequestError(403, undefined)} /></Page>;
  if (!id) return <Page title="Add subscriber" back={back}><SubscriberForm initial={blank} /></Page>;
  return (
    <Page title="Edit subscriber" back={back}>
      {existing.isPending ? <Loading /> : existing.isError ? <ErrorState error={existing.error} onRetry={() => void existing.refetch()} /> : <SubscriberForm initial={draftOf(existing.data)} subscriber={existing.data} />}
    </Page>
  );
}
