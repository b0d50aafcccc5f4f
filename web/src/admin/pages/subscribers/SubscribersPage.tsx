import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, SUBSCRIBER_STATUSES, unwrap } from '../../api';
import { downloadFromApi } from '../../download';
import { keys } from '../../keys';
import { Link, navigate, setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Badge, formatDate, formatNumber, inBatches, useDebounced, labelOf } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

const PAGE_SIZE = 50;

export const useTags = (organizationId: string) =>
  useQuery({
    queryKey: keys.tags.all(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/tags', { params: { query: { limit: 100 } } })),
    staleTime: 60_000,
  });

export default function SubscribersPage() {
  const { organizationId, can } = useOrganization();
  const { search } = useLocation();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const status = search.get('status') ?? '';
  const tag = search.get('tag') ?? '';
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const typed = useDebounced(text.trim(), 300);
  const [bulkTag, setBulkTag] = useState('');
  const [working, setWorking] = useState(false);
  // The cursor of each page visited so far (Previous walks back through them) and the selection belong
  // to one set of filters: changing a filter starts again at the first page with nothing selected.
  const filterKey = `${status}|${tag}|${q}`;
  const [paging, setPaging] = useState<{ key: string; cursors: (string | undefined)[]; selected: Set<string> }>({
    key: filterKey,
    cursors: [undefined],
    selected: new Set(),
  });
  const current = paging.key === filterKey ? paging : { key: filterKey, cursors: [undefined], selected: new Set<string>() };
  const { cursors, selected } = current;
  const setCursors = (change: (c: (string | undefined)[]) => (string | undefined)[]) =>
    setPaging({ ...current, cursors: change(cursors), selected: new Set() });
  const setSelected = (change: Set<string> | ((s: Set<string>) => Set<string>)) =>
    setPaging({ ...current, selected: typeof change === 'function' ? change(selected) : change });

  useEffect(() => {
    if (typed !== q) setSearch({ q: typed || undefined });
  }, [typed, q]);

  const cursor = cursors[cursors.length - 1];
  const filters = { q: q || undefined, status: status || undefined, tag: tag || undefined, cursor };
  const list = useQuery({
    queryKey: keys.subscribers.list(organizationId, filters),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/subscribers', {
          params: {
            query: {
              limit: PAGE_SIZE,
              include_total: true,
              cursor,
              q: filters.q,
              tag: filters.tag,
              status: filters.status as (typeof SUBSCRIBER_STATUSES)[number] | undefined,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const tags = useTags(organizationId);
  const canWrite = can('admin');
  const items = list.data?.items ?? [];
  const allSelected = items.length > 0 && items.every((s) => selected.has(s.id));
  const filtered = Boolean(q || status || tag);

  async function bulk(action: 'tag' | 'untag' | 'delete') {
    const chosen = items.filter((s) => selected.has(s.id));
    if (chosen.length === 0) return;
    const tagName = tags.data?.items.find((t) => t.slug === bulkTag)?.name ?? bulkTag;
    if (action !== 'delete' && !bulkTag) {
      toast.error('Choose a tag first.');
      return;
    }
    if (
      action === 'delete' &&
      !(await confirm({
        title: `Delete ${chosen.length} subscriber${chosen.length === 1 ? '' : 's'}?`,
        message: 'Their profiles, tags, consent history and notes are erased for good (GDPR erasure). This cannot be undone.',
        confirmLabel: 'Delete for good',
        danger: true,
      }))
    )
      return;
    setWorking(true);
    const result = await inBatches(chosen, 4, (s) => {
      if (action === 'tag') return unwrap(api.POST('/api/v1/subscribers/{id}/tags', { params: { path: { id: s.id } }, body: { tags: [bulkTag] } }));
      if (action === 'untag') return unwrap(api.DELETE('/api/v1/subscribers/{id}/tags/{slug}', { params: { path: { id: s.id, slug: bulkTag } } }));
      return unwrap(api.DELETE('/api/v1/subscribers/{id}', { params: { path: { id: s.id } } }));
    });
    setWorking(false);
    setSelected(new Set());
    const count = `${result.ok} subscriber${result.ok === 1 ? '' : 's'}`;
    const done = action === 'tag' ? `Added ${tagName} to ${count}` : action === 'untag' ? `Removed ${tagName} from ${count}` : `Deleted ${count}`;
    if (result.failed) toast.error(`${done}; ${result.failed} failed.`);
    else toast.success(`${done}.`);
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.subscribers.all(organizationId) }),
      queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) }),
      queryClient.invalidateQueries({ queryKey: keys.overview(organizationId) }),
    ]);
  }

  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const [exporting, setExporting] = useState(false);
  // The export carries the list's current filters, so what is downloaded is what is shown (all pages).
  async function exportCsv() {
    const query = new URLSearchParams({ format: 'csv', ...(status ? { status } : {}), ...(tag ? { tag } : {}), ...(q ? { q } : {}) });
    setExporting(true);
    try {
      if (await downloadFromApi(`/api/v1/subscribers/export?${query}`, `subscribers-${new Date().toISOString().slice(0, 10)}.csv`))
        toast.success('Export downloaded.');
    } catch (error) {
      toast.error(describeError(error));
    } finally {
      setExporting(false);
    }
  }

  return (
    <Page
      title="Subscribers"
      description={
        list.data?.total !== undefined
          ? `${list.data.total_exact ? '' : 'About '}${formatNumber(list.data.total)} ${filtered ? 'matching' : 'in total'}`
          : undefined
      }
      actions={
        <>
          <Button busy={exporting} onClick={() => void exportCsv()}>
            {status || tag || q ? 'Export these as CSV' : 'Export as CSV'}
          </Button>
          {canWrite ? (
            <Link className="sf-button sf-button--secondary" to="/subscribers/import">
              Import CSV
            </Link>
          ) : null}
          {canWrite ? (
            <Link className="sf-button sf-button--primary" to="/subscribers/new">
              Add subscriber
            </Link>
          ) : null}
        </>
      }
    >
      <form className="filters" role="search" aria-label="Filter subscribers" onSubmit={(e) => e.preventDefault()}>
        <div className="sf-field">
          <label htmlFor="subscriber-search" className="sf-field-label">
            Search by email
          </label>
          <input
            id="subscriber-search"
            type="search"
            className="sf-input"
            placeholder="Start of the address"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <div className="sf-field">
          <label htmlFor="status-filter" className="sf-field-label">
            Status
          </label>
          <select id="status-filter" className="sf-input" value={status} onChange={(e) => setSearch({ status: e.currentTarget.value })}>
            <option value="">All statuses</option>
            {SUBSCRIBER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {labelOf(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="sf-field">
          <label htmlFor="tag-filter" className="sf-field-label">
            Tag
          </label>
          <select id="tag-filter" className="sf-input" value={tag} onChange={(e) => setSearch({ tag: e.currentTarget.value })}>
            <option value="">All tags</option>
            {tags.data?.items.map((t) => (
              <option key={t.id} value={t.slug}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        {filtered ? (
          <Button
            variant="link"
            onClick={() => {
              setText('');
              setSearch({ q: undefined, status: undefined, tag: undefined });
            }}
          >
            Clear filters
          </Button>
        ) : null}
      </form>

      {canWrite && selected.size > 0 ? (
        <div className="bulk-bar" role="region" aria-label="Bulk actions">
          <strong>{selected.size} selected</strong>
          <label htmlFor="bulk-tag" className="sf-visually-hidden">
            Tag for the selected subscribers
          </label>
          <select id="bulk-tag" className="sf-input" value={bulkTag} onChange={(e) => setBulkTag(e.currentTarget.value)}>
            <option value="">Choose a tag…</option>
            {tags.data?.items.map((t) => (
              <option key={t.id} value={t.slug}>
                {t.name}
              </option>
            ))}
          </select>
          <Button busy={working} onClick={() => void bulk('tag')}>
            Add tag
          </Button>
          <Button busy={working} onClick={() => void bulk('untag')}>
            Remove tag
          </Button>
          <Button variant="danger" busy={working} onClick={() => void bulk('delete')}>
            Delete
          </Button>
        </div>
      ) : null}

      {list.isPending ? (
        <Loading label="Loading subscribers…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState
            title="No subscribers match these filters"
            action={
              <Button
                onClick={() => {
                  setText('');
                  setSearch({ q: undefined, status: undefined, tag: undefined });
                }}
              >
                Clear filters
              </Button>
            }
          />
        ) : (
          <EmptyState
            title="No subscribers yet"
            action={
              canWrite ? (
                <Button variant="primary" onClick={() => navigate('/subscribers/new')}>
                  Add the first subscriber
                </Button>
              ) : null
            }
          >
            Subscribers arrive through your sign-up forms, the API, imports, or by hand here.
          </EmptyState>
        )
      ) : (
        <>
          <div className="table-wrap" aria-busy={list.isFetching || undefined}>
            <table className="data-table">
              <caption className="sf-visually-hidden">Subscribers, newest first{list.isFetching ? ' (updating)' : ''}</caption>
              <thead>
                <tr>
                  {canWrite ? (
                    <th scope="col" className="cell-check">
                      <input
                        type="checkbox"
                        aria-label="Select all subscribers on this page"
                        checked={allSelected}
                        onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((s) => s.id)))}
                      />
                    </th>
                  ) : null}
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {items.map((s) => (
                  <tr key={s.id} aria-selected={canWrite ? selected.has(s.id) : undefined}>
                    {canWrite ? (
                      <td className="cell-check">
                        <input type="checkbox" aria-label={`Select ${s.email}`} checked={selected.has(s.id)} onChange={() => toggle(s.id)} />
                      </td>
                    ) : null}
                    <td>
                      <Link to={`/subscribers/${s.id}`}>{s.email}</Link>
                    </td>
                    <td>{[s.first_name, s.last_name].filter(Boolean).join(' ') || <span className="muted">—</span>}</td>
                    <td>
                      <Badge status={s.status} />
                    </td>
                    <td>
                      {s.tags.length ? (
                        <ul className="chips">
                          {s.tags.map((t) => (
                            <li key={t.id} className="chip">
                              {t.name}
                            </li>
                          ))}
                        </ul>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>{formatDate(s.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages of subscribers">
            <Button disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous
            </Button>
            <span aria-live="polite">Page {cursors.length}</span>
            <Button disabled={!list.data?.next_cursor} onClick={() => list.data?.next_cursor && setCursors((c) => [...c, list.data!.next_cursor!])}>
              Next
            </Button>
          </nav>
        </>
      )}
    </Page>
  );
}
