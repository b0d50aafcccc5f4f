import { useQuery } from '@tanstack/react-query';
import { api, ApiRequestError, unwrap } from '../api';
import { keys } from '../keys';
import { useOrganization } from '../session';
import { useDebounced } from '../ui/misc';
import type { BuilderOptions } from './ConditionBuilder';
import { filterProblems, serverProblems, toApiFilter, type SegmentFilter } from './filter';

/** The organization's topics and campaigns, for the pickers of the condition builder. */
export function useBuilderOptions(): BuilderOptions & { isPending: boolean } {
  const { organizationId } = useOrganization();
  const tags = useQuery({
    queryKey: [...keys.tags.all(organizationId), 'all'],
    queryFn: () => unwrap(api.GET('/api/v1/tags', { params: { query: { limit: 100 } } })),
  });
  const campaigns = useQuery({
    queryKey: keys.campaigns.list(organizationId, ''),
    queryFn: () => unwrap(api.GET('/api/v1/campaigns', { params: { query: { limit: 100 } } })),
  });
  return {
    tags: tags.data?.items ?? [],
    campaigns: (campaigns.data?.items ?? []).filter((c) => c.status !== 'draft'),
    isPending: tags.isPending,
  };
}

/**
 * The live count of an unsaved filter: asked 400 ms after the last edit, and only for a filter the
 * builder finds complete (a half-typed condition would only earn a 422). The server's own objections
 * come back keyed by condition, to show beside it.
 */
export function useFilterCount(filter: SegmentFilter, enabled = true) {
  const { organizationId } = useOrganization();
  const settled = useDebounced(filter, 400);
  const complete = Object.keys(filterProblems(settled)).length === 0;
  const body = toApiFilter(settled);
  const query = useQuery({
    queryKey: keys.segments.preview(organizationId, body),
    queryFn: () => unwrap(api.POST('/api/v1/segments/preview-count', { body: { filter: body } })),
    enabled: enabled && complete,
    staleTime: 10_000,
    retry: false,
  });
  const problems = query.error instanceof ApiRequestError ? serverProblems(query.error.details) : {};
  return { query, pending: settled !== filter || (enabled && complete && query.isFetching), complete, problems };
}
