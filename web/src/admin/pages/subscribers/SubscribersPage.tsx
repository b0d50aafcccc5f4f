import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap } from '../../api';
import { downloadFromApi } from '../../download';
import { keys } from '../../keys';
import { Link, navigate, setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Badge, formatDate, formatNumber, inBatches, useDebounced } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';
import { BulkProgress } from './BulkProgress';
import { FILTER_PARAMS, SubscriberFilterBar, type Filters } from './SubscriberFilters';

const PAGE_SIZE = 50;
const SORTS = ['created_at', 'email', 'name', 'status'] as const;
type SortField = (typeof SORTS)[number];
const defaultOrder = (field: SortField) => (field === 'created_at' ? 'desc' : 'asc');
// Tags shown inline in a row; the rest are counted ("+2"), so a row stays one line.
const INLINE_TAGS = 3;

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
  const filters: Filters = Object.fromEntries(FILTER_PARAMS.map((p) => [p, search.get(p) || undefined]).filter(([, v]) => v));
  const q = filters.q ?? '';
  const sortParam = search.get('sort') as SortField | null;
  const sort: SortField = sortParam && SORTS.includes(sortParam) ? sortParam : 'created_at';
  const order = search.get('order') === 'asc' || search.get('order') === 'desc' ? (search.get('order') as 'asc' | 'desc') : defaultOrder(sort);
  const [text, setText] = useState(q);
  const typed = useDebounced(text.trim(), 300);
  const [bulkTag, setBulkTag] = useState('');
  const [reason, setReason] = useState('');
  const [working, setWorking] = useState(false);
  const [allMatching, setAllMatching] = useState(false);
  const [runningAction, setRunningAction] = useState<string | null>(null);
  // The cursor of each page visited so far (Previous walks back through them) and the selection belong
  // to one set of filters and one sort: changing either starts again at the first page with nothing selected.
  const filterKey = JSON.stringify([filters, sort, order]);
  const [paging, setPaging] = useState<{ key: string; cursors: (string | undefined)[]; selected: Set<string> }>({
    key: filterKey,
    cursors: [undefined],
    selected: new Set(),
  });
  const current = paging.key === filterKey ? paging : { key: filterKey, cursors: [undefined], selected: new Set<string>() };
  const { cursors, selected } = current;
  const setCursors = (change: (c: (string | undefined)[]) => (string | undefined)[]) =>
    setPaging({ ...current, cursors: change(cursors), selected: new Set() });
  const setSelected = (change: Set<string> | ((s: Set<string>) => Set<string>)) => {
    setAllMatching(false);
    setPaging({ ...current, selected: typeof change === 'function' ? change(selected) : change });
  };
  useEffect(() => setAllMatching(false), [filterKey]);

  useEffect(() => {
    if (typed !== q) setSearch({ q: typed || undefined });
  }, [typed, q]);

  const cursor = cursors[cursors.length - 1];
  const sortQuery = sort === 'created_at' && order === 'desc' ? {} : { sort, order };
  const list = useQuery({
    queryKey: keys.subscribers.list(organizationId, { ...filters, ...sortQuery, cursor }),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/subscribers', {
          params: { query: { limit: PAGE_SIZE, include_total: true, cursor, ...filters, ...sortQuery } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const tags = useTags(organizationId);
  const canWrite = can('admin');
  const items = list.data?.items ?? [];
  const allSelected = items.length > 0 && items.every((s) => selected.has(s.id));
  const filtered = Object.keys(filters).length > 0;
  const total = list.data?.total;
  const hasMorePages = Boolean(list.data?.next_cursor) || cursors.length > 1;
  const clearFilters = () => {
    setText('');
    setSearch(Object.fromEntries(FILTER_PARAMS.map((p) => [p, undefined])));
  };
  const sortBy = (field: SortField) => setSearch({ sort: field, order: field === sort ? (order === 'asc' ? 'desc' : 'asc') : defaultOrder(field) });
  const onBulkDone = useCallback(
    (message: string, failed: boolean) => {
      setRunningAction(null);
      setAllMatching(false);
      setPaging((p) => ({ ...p, selected: new Set() }));
      if (failed) toast.error(message);
      else toast.success(message);
    },
    [toast],
  );

  /** "All N matching": the server applies the action to the filter as one job; the page shows its progress. */
  async function bulkAll(action: 'add_tag' | 'remove_tag' | 'unsubscribe' | 'delete') {
    if ((action === 'add_tag' || action === 'remove_tag') && !bulkTag) {
      toast.error('Choose a tag first.');
      return;
    }
    if (action === 'unsubscribe' && !reason.trim()) {
      toast.error('Give a reason to unsubscribe: it is kept in each consent history.');
      return;
    }
    const count = total !== undefined ? `${list.data?.total_exact ? '' : 'about '}${formatNumber(total)}` : 'all matching';
    if (
      (action === 'delete' || action === 'unsubscribe') &&
      !(await confirm({
        title: action === 'delete' ? `Delete ${count} subscribers?` : `Unsubscribe ${count} subscribers?`,
        message:
          action === 'delete'
            ? 'Every subscriber matching these filters is erased for good, with tags, consent history and notes (GDPR erasure). This cannot be undone.'
            : 'Every active or pending subscriber matching these filters stops receiving email. Your reason is kept in each consent history.',
        confirmLabel: action === 'delete' ? 'Delete for good' : 'Unsubscribe',
        danger: true,
      }))
    )
      return;
    setWorking(true);
    try {
      const started = await unwrap(
        api.POST('/api/v1/subscribers/bulk-actions', {
          body: {
            action,
            filter: filters,
            ...(bulkTag && action.endsWith('_tag') ? { tag: bulkTag } : {}),
            ...(reason.trim() ? { reason: reason.trim() } : {}),
          },
          headers: { 'idempotency-key': crypto.randomUUID() },
        }),
      );
      setRunningAction(started.id);
    } catch (error) {
      toast.error(describeError(error));
    } finally {
      setWorking(false);
    }
  }

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
  // The export takes exactly the list's filters (the server compiles both the same way), so what is
  // downloaded is what the list shows, all pages of it.
  async function exportCsv() {
    const query = new URLSearchParams({ format: 'csv', ...filters });
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
            {filtered ? 'Export these as CSV' : 'Export as CSV'}
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
      <SubscriberFilterBar
        filters={filters}
        text={text}
        onText={setText}
        onChange={(changes) => setSearch(changes)}
        onClear={clearFilters}
        tags={tags.data?.items ?? []}
      />

      {runningAction ? <BulkProgress organizationId={organizationId} id={runningAction} onDone={onBulkDone} /> : null}

      {canWrite && allMatching && !runningAction ? (
        <div className="bulk-bar" role="region" aria-label="Bulk actions">
          <strong>All {total !== undefined ? `${list.data?.total_exact ? '' : 'about '}${formatNumber(total)} ` : ''}matching selected</strong>
          <Button variant="link" onClick={() => setSelected(new Set())}>
            Clear selection
          </Button>
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
          <Button busy={working} onClick={() => void bulkAll('add_tag')}>
            Add tag
          </Button>
          <Button busy={working} onClick={() => void bulkAll('remove_tag')}>
            Remove tag
          </Button>
          <label htmlFor="bulk-reason" className="sf-visually-hidden">
            Reason (kept in the consent history)
          </label>
          <input
            id="bulk-reason"
            className="sf-input bulk-reason"
            placeholder="Reason (needed to unsubscribe)"
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
          />
          <Button busy={working} onClick={() => void bulkAll('unsubscribe')}>
            Unsubscribe
          </Button>
          <Button variant="danger" busy={working} onClick={() => void bulkAll('delete')}>
            Delete
          </Button>
        </div>
      ) : null}

      {canWrite && selected.size > 0 && !allMatching && !runningAction ? (
        <div className="bulk-bar" role="region" aria-label="Bulk actions">
          <strong>{selected.size} selected</strong>
          {allSelected && hasMorePages && total !== undefined && total > items.length ? (
            <Button variant="link" onClick={() => setAllMatching(true)}>
              Select all {list.data?.total_exact ? '' : 'about '}
              {formatNumber(total)} matching
            </Button>
          ) : null}
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
          <EmptyState title="No subscribers match these filters" action={<Button onClick={clearFilters}>Clear filters</Button>} />
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
            <table className="data-table data-table--compact">
              <caption className="sf-visually-hidden">
                Subscribers, sorted by {SORT_LABEL[sort]} {order === 'asc' ? 'ascending' : 'descending'}
                {list.isFetching ? ' (updating)' : ''}
              </caption>
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
                  <SortHeader field="email" sort={sort} order={order} onSort={sortBy} />
                  <SortHeader field="name" sort={sort} order={order} onSort={sortBy} />
                  <SortHeader field="status" sort={sort} order={order} onSort={sortBy} />
                  <th scope="col">Tags</th>
                  <SortHeader field="created_at" sort={sort} order={order} onSort={sortBy} />
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
                    <td data-label="Email" className="cell-email">
                      <Link to={`/subscribers/${s.id}`}>{s.email}</Link>
                    </td>
                    <td data-label="Name">{[s.first_name, s.last_name].filter(Boolean).join(' ') || <span className="muted">—</span>}</td>
                    <td data-label="Status">
                      <Badge status={s.status} />
                    </td>
                    <td data-label="Tags">
                      {s.tags.length ? (
                        <ul className="chips chips--inline" aria-label={`Tags: ${s.tags.map((t) => t.name).join(', ')}`}>
                          {s.tags.slice(0, INLINE_TAGS).map((t) => (
                            <li key={t.id} className="chip">
                              {t.name}
                            </li>
                          ))}
                          {s.tags.length > INLINE_TAGS ? (
                            <li
                              className="chip chip--more"
                              title={s.tags
                                .slice(INLINE_TAGS)
                                .map((t) => t.name)
                                .join(', ')}
                            >
                              +{s.tags.length - INLINE_TAGS}
                            </li>
                          ) : null}
                        </ul>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td data-label="Created">{formatDate(s.created_at)}</td>
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

const SORT_LABEL: Record<SortField, string> = { email: 'email', name: 'name', status: 'status', created_at: 'creation date' };
const HEADER: Record<SortField, string> = { email: 'Email', name: 'Name', status: 'Status', created_at: 'Created' };

/** A column heading that sorts the list: a button inside the header cell, with aria-sort on the cell. */
function SortHeader({ field, sort, order, onSort }: { field: SortField; sort: SortField; order: 'asc' | 'desc'; onSort: (f: SortField) => void }) {
  const active = field === sort;
  return (
    <th scope="col" aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
      <button type="button" className="sort-button" onClick={() => onSort(field)}>
        {HEADER[field]}
        <span aria-hidden="true" className="sort-mark">
          {active ? (order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
        <span className="sf-visually-hidden">{active ? `, sorted ${order === 'asc' ? 'ascending' : 'descending'}` : ', sort'}</span>
      </button>
    </th>
  );
}
