import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { Dialog } from '@shared/ui/Dialog';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap, type Tag } from '../api';
import { keys } from '../keys';
import { useOrganization } from '../session';
import { FormError } from '../ui/Fields';
import { Loading, ErrorState } from '../ui/States';

/** Pages of 100 read for the order: 1,000 topics is far more than a preference center shows. */
const MAX_PAGES = 10;

interface Group {
  category: string | null;
  topics: Tag[];
}

/**
 * The public topics as the preference center groups them: categories in the order of their first topic,
 * topics in position order within each, topics without a category last.
 */
export function groupForOrder(tags: Tag[]): Group[] {
  const sorted = tags.filter((tag) => tag.is_public).sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  const groups: Group[] = [];
  for (const tag of sorted) {
    const group = groups.find((g) => g.category === tag.category);
    if (group) group.topics.push(tag);
    else groups.push({ category: tag.category, topics: [tag] });
  }
  return [...groups.filter((g) => g.category !== null), ...groups.filter((g) => g.category === null)];
}

function move<T>(list: T[], index: number, by: -1 | 1): T[] {
  const target = index + by;
  if (target < 0 || target >= list.length) return list;
  const next = [...list];
  [next[index], next[target]] = [next[target]!, next[index]!];
  return next;
}

async function allTags(): Promise<Tag[]> {
  const tags: Tag[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result = await unwrap(api.GET('/api/v1/tags', { params: { query: { limit: 100, cursor } } }));
    tags.push(...result.items);
    if (!result.next_cursor) break;
    cursor = result.next_cursor;
  }
  return tags;
}

/** Up and down buttons for categories and topics; saved as one list (PUT /tags/order). */
function OrderEditor({ tags, onClose }: { tags: Tag[]; onClose: () => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [groups, setGroups] = useState(() => groupForOrder(tags));
  const [moved, setMoved] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/api/v1/tags/order', { body: { tag_ids: groups.flatMap((g) => g.topics.map((t) => t.id)) } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) });
      toast.success('Order saved. The preference center shows it now.');
      onClose();
    },
  });
  const label = (group: Group) => group.category ?? 'Without a category';
  const nullLast = (list: Group[]) => [...list.filter((g) => g.category !== null), ...list.filter((g) => g.category === null)];

  if (groups.length === 0) return <p>No public topics yet. Public tags appear in the preference center.</p>;
  return (
    <>
      <p className="muted small" role="status">
        {moved ?? 'Move categories and the topics inside them. Topics without a category always come last.'}
      </p>
      <ol className="order-list">
        {groups.map((group, g) => (
          <li key={group.category ?? ''} className="order-group">
            <div className="order-row">
              <strong>{label(group)}</strong>
              {group.category !== null ? (
                <span className="order-buttons">
                  <Button
                    className="button-small"
                    aria-label={`Move category ${label(group)} up`}
                    disabled={g === 0}
                    onClick={() => {
                      setGroups(nullLast(move(groups, g, -1)));
                      setMoved(`${label(group)} moved up.`);
                    }}
                  >
                    ↑
                  </Button>
                  <Button
                    className="button-small"
                    aria-label={`Move category ${label(group)} down`}
                    disabled={g >= groups.length - 1 || groups[g + 1]!.category === null}
                    onClick={() => {
                      setGroups(nullLast(move(groups, g, 1)));
                      setMoved(`${label(group)} moved down.`);
                    }}
                  >
                    ↓
                  </Button>
                </span>
              ) : null}
            </div>
            <ol className="order-topics">
              {group.topics.map((topic, i) => (
                <li key={topic.id} className="order-row">
                  <span>{topic.name}</span>
                  <span className="order-buttons">
                    <Button
                      className="button-small"
                      aria-label={`Move ${topic.name} up`}
                      disabled={i === 0}
                      onClick={() => {
                        setGroups(groups.map((other, j) => (j === g ? { ...other, topics: move(other.topics, i, -1) } : other)));
                        setMoved(`${topic.name} moved up.`);
                      }}
                    >
                      ↑
                    </Button>
                    <Button
                      className="button-small"
                      aria-label={`Move ${topic.name} down`}
                      disabled={i === group.topics.length - 1}
                      onClick={() => {
                        setGroups(groups.map((other, j) => (j === g ? { ...other, topics: move(other.topics, i, 1) } : other)));
                        setMoved(`${topic.name} moved down.`);
                      }}
                    >
                      ↓
                    </Button>
                  </span>
                </li>
              ))}
            </ol>
          </li>
        ))}
      </ol>
      <FormError message={save.isError ? describeError(save.error) : null} />
      <div className="sf-dialog-footer">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" busy={save.isPending} onClick={() => save.mutate()}>
          Save order
        </Button>
      </div>
    </>
  );
}

/** The order of topics and categories in the preference center, set by an admin. */
export function TopicOrderDialog({ onClose }: { onClose: () => void }) {
  const { organizationId } = useOrganization();
  const tags = useQuery({ queryKey: [...keys.tags.all(organizationId), 'order'], queryFn: allTags, staleTime: 0 });
  return (
    <Dialog open title="Order in the preference center" onClose={onClose}>
      {tags.isPending ? (
        <Loading label="Loading topics…" />
      ) : tags.isError ? (
        <ErrorState error={tags.error} onRetry={() => void tags.refetch()} />
      ) : (
        <OrderEditor tags={tags.data} onClose={onClose} />
      )}
    </Dialog>
  );
}
