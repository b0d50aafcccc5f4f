import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, ApiRequestError, describeError, fieldErrors, idempotent, unwrap, type Segment } from '../../api';
import { keys } from '../../keys';
import { navigate, useUnsavedChangesGuard } from '../../router';
import { ConditionBuilder } from '../../segments/ConditionBuilder';
import { emptyFilter, filterProblems, newCondition, serverProblems, toApiFilter, type SegmentFilter } from '../../segments/filter';
import { useBuilderOptions, useFilterCount } from '../../segments/hooks';
import { useOrganization } from '../../session';
import { Field, FormError, TextAreaField } from '../../ui/Fields';
import { Badge, formatDateTime, formatNumber } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { EmptyState, ErrorState, Loading, QueryView } from '../../ui/States';

/** The live count of what the builder holds now. */
export function LiveCount({ count }: { count: ReturnType<typeof useFilterCount> }) {
  const { query, pending, complete } = count;
  return (
    <p className="live-count" role="status" aria-live="polite">
      {!complete ? (
        <span className="muted">Complete the conditions to see how many subscribers match.</span>
      ) : pending || query.isPending ? (
        <span className="muted">Counting…</span>
      ) : query.isError ? (
        <span className="sf-field-error">{describeError(query.error)}</span>
      ) : (
        <>
          <strong>{formatNumber(query.data.count)}</strong> {query.data.count === 1 ? 'subscriber matches' : 'subscribers match'} now.
        </>
      )}
    </p>
  );
}

function Members({ id }: { id: string }) {
  const { organizationId } = useOrganization();
  const members = useQuery({
    queryKey: keys.segments.members(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/segments/{id}/members', { params: { path: { id } } })),
  });
  return (
    <QueryView query={members} loadingLabel="Loading members…">
      {(page) =>
        page.items.length === 0 ? (
          <EmptyState title="Nobody matches yet" />
        ) : (
          <div className="table-wrap">
            <table className="data-table">
              <caption className="sf-visually-hidden">The newest subscribers in the segment</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Status</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((m) => (
                  <tr key={m.id}>
                    <td>{m.email}</td>
                    <td>
                      <Badge status={m.status} />
                    </td>
                    <td>{formatDateTime(m.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </QueryView>
  );
}

function Editor({ segment }: { segment: Segment | null }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const canWrite = can('admin');
  const options = useBuilderOptions();
  const initial: SegmentFilter = segment?.filter ?? { ...emptyFilter(), conditions: [newCondition()] };
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [filter, setFilter] = useState<SegmentFilter>(initial);
  const [showProblems, setShowProblems] = useState(false);
  const count = useFilterCount(filter);
  const local = filterProblems(filter);
  const dirty = name !== (segment?.name ?? '') || description !== (segment?.description ?? '') || JSON.stringify(filter) !== JSON.stringify(initial);
  useUnsavedChangesGuard(dirty && canWrite);

  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), description: description.trim() || null, filter: toApiFilter(filter) };
      return segment
        ? unwrap(api.PATCH('/api/v1/segments/{id}', { params: { path: { id: segment.id } }, body }))
        : unwrap(api.POST('/api/v1/segments', { body, ...idempotent() }));
    },
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: keys.segments.all(organizationId) });
      toast.success('Segment saved.');
      setShowProblems(false);
      if (!segment) navigate(`/segments/${saved.id}`, { force: true, replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/segments/{id}', { params: { path: { id: segment!.id } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.segments.all(organizationId) });
      toast.success('Segment deleted.');
      navigate('/segments', { force: true });
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const errors = fieldErrors(save.error);
  const fromServer = save.error instanceof ApiRequestError ? serverProblems(save.error.details) : {};
  const problems = { ...count.problems, ...fromServer, ...(showProblems ? local : {}) };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (Object.keys(local).length > 0 || !name.trim()) {
      setShowProblems(true);
      return;
    }
    save.mutate();
  };
  async function askDelete() {
    if (
      await confirm({
        title: `Delete "${segment!.name}"?`,
        message: 'Campaigns already sent keep their recipients; a draft that uses it needs another audience.',
        confirmLabel: 'Delete segment',
        danger: true,
      })
    )
      remove.mutate();
  }
  return (
    <Page
      title={segment ? segment.name : 'New segment'}
      back={{ to: '/segments', label: 'Segments' }}
      actions={
        segment && canWrite ? (
          <Button variant="danger" busy={remove.isPending} onClick={() => void askDelete()}>
            Delete
          </Button>
        ) : null
      }
    >
      <form noValidate onSubmit={submit}>
        <Section title="Segment">
          <Field
            id="segment-name"
            label="Name"
            required
            maxLength={200}
            value={name}
            disabled={!canWrite}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.name ?? (showProblems && !name.trim() ? 'Fill this in.' : null)}
          />
          <TextAreaField
            id="segment-description"
            label="Description (optional)"
            maxLength={1000}
            rows={2}
            value={description}
            disabled={!canWrite}
            onChange={(e) => setDescription(e.currentTarget.value)}
          />
        </Section>
        <Section title="Conditions">
          <LiveCount count={count} />
          <ConditionBuilder label="Subscribers who match" value={filter} onChange={setFilter} options={options} problems={problems} disabled={!canWrite} />
          <FormError
            message={
              save.isError && !errors.name
                ? describeError(save.error)
                : showProblems && Object.keys(local).length > 0
                  ? 'Some conditions need your attention.'
                  : null
            }
          />
          {canWrite ? (
            <div className="form-actions">
              <Button type="submit" variant="primary" busy={save.isPending}>
                {segment ? 'Save changes' : 'Create segment'}
              </Button>
            </div>
          ) : null}
        </Section>
      </form>
      {segment ? (
        <Section title="Newest members">
          <p className="muted small">The first 50 subscribers the saved conditions match, newest first.</p>
          <Members id={segment.id} />
        </Section>
      ) : null}
    </Page>
  );
}

export default function SegmentEditorPage({ params }: { params: Record<string, string> }) {
  const id = params.id;
  const { organizationId } = useOrganization();
  const segment = useQuery({
    queryKey: keys.segments.detail(organizationId, id ?? 'new'),
    queryFn: () => unwrap(api.GET('/api/v1/segments/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
  });
  if (!id) return <Editor segment={null} />;
  if (segment.isPending) return <Loading label="Loading the segment…" />;
  if (segment.isError) return <ErrorState error={segment.error} onRetry={() => void segment.refetch()} />;
  // A saved change reloads the segment: the editor starts again from what is stored.
  return <Editor key={segment.data.updated_at} segment={segment.data} />;
}
