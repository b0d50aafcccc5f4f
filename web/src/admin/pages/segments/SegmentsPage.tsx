import { useQuery } from '@tanstack/react-query';
import { Button } from '@shared/ui/Button';
import { api, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link, navigate } from '../../router';
import { useOrganization } from '../../session';
import { countConditions, type Group } from '../../segments/filter';
import { formatDateTime } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

/** Saved segments: filters over the subscribers, used as the audience of a campaign. */
export default function SegmentsPage() {
  const { organizationId, can } = useOrganization();
  const segments = useQuery({
    queryKey: keys.segments.list(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/segments', { params: { query: { limit: 100 } } })),
  });
  const canWrite = can('admin');
  const items = segments.data?.items ?? [];
  const create = canWrite ? (
    <Button variant="primary" onClick={() => navigate('/segments/new')}>
      New segment
    </Button>
  ) : null;
  return (
    <Page
      title="Segments"
      description="Saved conditions over your subscribers, to choose the audience of a campaign."
      actions={items.length > 0 ? create : null}
    >
      {segments.isPending ? (
        <Loading label="Loading segments…" />
      ) : segments.isError ? (
        <ErrorState error={segments.error} onRetry={() => void segments.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No segments yet" action={create}>
          A segment picks subscribers by status, email domain, topics, dates, custom fields or what they opened and clicked.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Segments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col" className="num">
                  Conditions
                </th>
                <th scope="col">Changed</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={`/segments/${s.id}`}>
                      <strong>{s.name}</strong>
                    </Link>
                  </td>
                  <td>{s.description ?? <span className="muted">—</span>}</td>
                  <td className="num">{countConditions(s.filter as Group)}</td>
                  <td>{formatDateTime(s.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
