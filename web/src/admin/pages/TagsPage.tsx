import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { Dialog } from '@shared/ui/Dialog';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, idempotent, unwrap, type Tag } from '../api';
import { keys } from '../keys';
import { Link } from '../router';
import { useOrganization } from '../session';
import { Checkbox, Field, FormError, TextAreaField } from '../ui/Fields';
import { formatNumber } from '../ui/misc';
import { Page } from '../ui/Page';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { TopicOrderDialog } from './TopicOrderDialog';

interface Draft {
  name: string;
  slug: string;
  description: string;
  category: string;
  is_public: boolean;
  /** The German name and description shown in the preference center; empty: the ones above. */
  name_de: string;
  description_de: string;
}
const orNull = (value: string) => (value.trim() === '' ? null : value.trim());

function TagDialog({ tag, onClose }: { tag: Tag | null; onClose: () => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<Draft>({
    name: tag?.name ?? '',
    slug: tag?.slug ?? '',
    description: tag?.description ?? '',
    category: tag?.category ?? '',
    is_public: tag?.is_public ?? true,
    name_de: tag?.translations.de?.name ?? '',
    description_de: tag?.translations.de?.description ?? '',
  });
  const [germanError, setGermanError] = useState<string | undefined>();
  const save = useMutation({
    mutationFn: () => {
      // Other languages set through the API stay as they are; German is edited here.
      const { de: _de, ...others } = tag?.translations ?? {};
      const translations = draft.name_de.trim() ? { ...others, de: { name: draft.name_de.trim(), description: orNull(draft.description_de) } } : others;
      const body = {
        name: draft.name.trim(),
        description: orNull(draft.description),
        category: orNull(draft.category),
        is_public: draft.is_public,
        translations,
      };
      const slug = draft.slug.trim();
      if (tag)
        return unwrap(api.PATCH('/api/v1/tags/{id}', { params: { path: { id: tag.id } }, body: { ...body, ...(slug && slug !== tag.slug ? { slug } : {}) } }));
      return unwrap(api.POST('/api/v1/tags', { body: { ...body, ...(slug ? { slug } : {}) }, ...idempotent() }));
    },
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) });
      toast.success(tag ? `Tag ${saved.name} saved.` : `Tag ${saved.name} created.`);
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  const known = ['name', 'slug', 'description', 'category', 'is_public', 'translations.de.name', 'translations.de.description'];
  const formError = save.isError && !known.some((f) => errors[f]) ? describeError(save.error) : null;
  const set = (field: keyof Draft) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // A German description needs the German name beside it; otherwise it would never be shown.
    const missing = !draft.name_de.trim() && draft.description_de.trim() ? 'Give the German name too, or leave both German fields empty.' : undefined;
    setGermanError(missing);
    if (!missing) save.mutate();
  };

  return (
    <Dialog open title={tag ? `Edit ${tag.name}` : 'New tag'} onClose={onClose}>
      <form noValidate onSubmit={submit}>
        <Field id="tag-name" label="Name" required maxLength={100} value={draft.name} onChange={set('name')} error={errors.name} data-autofocus />
        <Field
          id="tag-slug"
          label="Slug"
          value={draft.slug}
          onChange={set('slug')}
          error={errors.slug}
          hint={tag ? 'Changing it breaks API calls and filters that use the old slug.' : 'Leave empty to derive it from the name.'}
        />
        <Field
          id="tag-category"
          label="Category"
          maxLength={100}
          value={draft.category}
          onChange={set('category')}
          error={errors.category}
          hint="Groups topics in the preference center, e.g. Newsletters."
        />
        <TextAreaField
          id="tag-description"
          label="Description"
          rows={3}
          maxLength={1000}
          value={draft.description}
          onChange={set('description')}
          error={errors.description}
        />
        <fieldset className="fieldset">
          <legend>In German (preference center)</legend>
          <Field
            id="tag-name-de"
            label="German name"
            lang="de"
            maxLength={100}
            value={draft.name_de}
            onChange={set('name_de')}
            error={germanError ?? errors['translations.de.name']}
            hint="Shown to subscribers who read the preference center in German. Leave empty to show the name above."
          />
          <TextAreaField
            id="tag-description-de"
            label="German description"
            lang="de"
            rows={2}
            maxLength={1000}
            value={draft.description_de}
            onChange={set('description_de')}
            error={errors['translations.de.description']}
          />
        </fieldset>
        <Checkbox
          id="tag-public"
          label="Public: subscribers see it in the preference center"
          checked={draft.is_public}
          onChange={(e) => setDraft({ ...draft, is_public: e.currentTarget.checked })}
        />
        <FormError message={formError} />
        <div className="sf-dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={save.isPending}>
            {tag ? 'Save tag' : 'Create tag'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export default function TagsPage() {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const [editing, setEditing] = useState<Tag | 'new' | null>(null);
  const [ordering, setOrdering] = useState(false);
  const tags = useInfiniteQuery({
    queryKey: [...keys.tags.all(organizationId), 'pages'],
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/tags', { params: { query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const remove = useMutation({
    mutationFn: (tag: Tag) => unwrap(api.DELETE('/api/v1/tags/{id}', { params: { path: { id: tag.id } } })),
    onSuccess: async (_r, tag) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) }),
        queryClient.invalidateQueries({ queryKey: keys.subscribers.all(organizationId) }),
      ]);
      toast.success(`Tag ${tag.name} deleted.`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const canWrite = can('admin');

  async function askDelete(tag: Tag) {
    const affected = tag.subscriber_count;
    const ok = await confirm({
      title: `Delete the tag ${tag.name}?`,
      message:
        affected > 0
          ? `${formatNumber(affected)} subscriber${affected === 1 ? ' is' : 's are'} subscribed to it and will lose it. Their consent history keeps the record.`
          : 'No subscriber has this tag.',
      confirmLabel: 'Delete tag',
      danger: true,
    });
    if (ok) remove.mutate(tag);
  }

  const items = tags.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Page
      title="Tags"
      description="Topics people subscribe to."
      actions={
        canWrite ? (
          <>
            <Button onClick={() => setOrdering(true)}>Order in preference center</Button>
            <Button variant="primary" onClick={() => setEditing('new')}>
              New tag
            </Button>
          </>
        ) : null
      }
    >
      {tags.isPending ? (
        <Loading label="Loading tags…" />
      ) : tags.isError ? (
        <ErrorState error={tags.error} onRetry={() => void tags.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          title="No tags yet"
          action={
            canWrite ? (
              <Button variant="primary" onClick={() => setEditing('new')}>
                Create the first tag
              </Button>
            ) : null
          }
        >
          Tags are the topics subscribers choose in the preference center, like a weekly digest or product news.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Tags</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Category</th>
                <th scope="col">Visibility</th>
                <th scope="col" className="num">
                  Subscribers
                </th>
                {canWrite ? (
                  <th scope="col">
                    <span className="sf-visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td>
                    <strong>{t.name}</strong> <code className="muted small">{t.slug}</code>
                    {t.description ? <p className="muted small cell-note">{t.description}</p> : null}
                  </td>
                  <td>{t.category ?? <span className="muted">—</span>}</td>
                  <td>{t.is_public ? 'Public' : 'Private'}</td>
                  <td className="num">
                    <Link to={`/subscribers?tag=${encodeURIComponent(t.slug)}`} aria-label={`${formatNumber(t.subscriber_count)} subscribers with ${t.name}`}>
                      {formatNumber(t.subscriber_count)}
                    </Link>
                  </td>
                  {canWrite ? (
                    <td className="cell-actions">
                      <button type="button" className="sf-button sf-button--secondary button-small" onClick={() => setEditing(t)} aria-label={`Edit ${t.name}`}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="sf-button sf-button--danger button-small"
                        onClick={() => void askDelete(t)}
                        aria-label={`Delete ${t.name}`}
                      >
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          {tags.hasNextPage ? (
            <Button busy={tags.isFetchingNextPage} onClick={() => void tags.fetchNextPage()}>
              Load more tags
            </Button>
          ) : null}
        </div>
      )}
      {ordering ? <TopicOrderDialog onClose={() => setOrdering(false)} /> : null}
      {editing ? <TagDialog tag={editing === 'new' ? null : editing} onClose={() => setEditing(null)} /> : null}
    </Page>
  );
}
