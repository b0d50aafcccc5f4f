import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { api, unwrap } from '../../api';
import { keys } from '../../keys';
import { formatNumber } from '../../ui/misc';

const VERB: Record<string, string> = {
  add_tag: 'Adding the tag',
  remove_tag: 'Removing the tag',
  unsubscribe: 'Unsubscribing',
  delete: 'Deleting',
};

/**
 * The progress of a bulk action the server runs as a job: polled every second until it is completed or
 * failed; then the list, tags and overview are reloaded and `onDone` says how it ended.
 */
export function BulkProgress({ organizationId, id, onDone }: { organizationId: string; id: string; onDone: (message: string, failed: boolean) => void }) {
  const queryClient = useQueryClient();
  const action = useQuery({
    queryKey: [...keys.subscribers.all(organizationId), 'bulk-action', id],
    queryFn: () => unwrap(api.GET('/api/v1/subscribers/bulk-actions/{id}', { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data && ['completed', 'failed'].includes(query.state.data.status) ? false : 1000),
  });
  const reported = useRef(false);
  const data = action.data;
  useEffect(() => {
    if (!data || reported.current || (data.status !== 'completed' && data.status !== 'failed')) return;
    reported.current = true;
    void Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.subscribers.lists(organizationId) }),
      queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) }),
      queryClient.invalidateQueries({ queryKey: keys.overview(organizationId) }),
    ]);
    const changed = `${formatNumber(data.changed)} subscriber${data.changed === 1 ? '' : 's'}`;
    if (data.status === 'failed') onDone(`The bulk action stopped: ${data.error ?? 'an error'}. ${changed} were changed.`, true);
    else onDone(`Done: ${changed} changed of ${formatNumber(data.processed)} matching.`, false);
  }, [data, onDone, organizationId, queryClient]);

  const expected = Math.max(data?.expected ?? 0, data?.processed ?? 0);
  return (
    <div className="bulk-progress" role="status" aria-live="polite">
      <span>
        {VERB[data?.action ?? ''] ?? 'Working'}…{' '}
        {data ? `${formatNumber(data.processed)} of ${data.expected !== null && data.expected >= 100_000 ? 'about ' : ''}${formatNumber(expected)}` : ''}
      </span>
      <progress max={expected || 1} value={data?.processed ?? 0} aria-label="Bulk action progress" />
    </div>
  );
}
