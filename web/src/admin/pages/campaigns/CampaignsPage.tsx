import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { Dialog } from '@shared/ui/Dialog';
import { api, describeError, fieldErrors, idempotent, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link, navigate, setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, formatDateTime, formatNumber, labelOf } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

const STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'failed'] as const;

/** A new draft: name, marketing template and the topics it goes to; the rest happens on its page. */
function NewCampaignDialog({ onClose }: { onClose: () => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [tagIds, setTagIds] = useState<string[]>([]);
  const templates = useQuery({
    queryKey: keys.templates.list(organizationId, 'active'),
    queryFn: () => unwrap(api.GET('/api/v1/templates', { params: { query: { limit: 100 } } })),
  });
  const tags = useQuery({
    queryKey: [...keys.tags.all(organizationId), 'all'],
    queryFn: () => unwrap(api.GET('/api/v1/tags', { params: { query: { limit: 100 } } })),
  });
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/campaigns', {
          body: { name: name.trim(), template_id: templateId || null, tag_filter: tagIds.length > 0 ? { include_tags: tagIds } : null },
          ...idempotent(),
        }),
      ),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: keys.campaigns.all(organizationId) });
      navigate(`/campaigns/${created.id}`);
    },
  });
  const errors = fieldErrors(create.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const marketing = (templates.data?.items ?? []).filter((t) => t.category === 'marketing');
  return (
    <Dialog open title="New campaign" onClose={onClose}>
      <form noValidate onSubmit={submit}>
        <Field
          id="campaign-name"
          label="Name"
          required
          maxLength={200}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          data-autofocus
        />
        <SelectField
          id="campaign-template"
          label="Template"
          value={templateId}
          onChange={(e) => setTemplateId(e.currentTarget.value)}
          error={errors.template_id}
          hint="Marketing templates carry the unsubscribe footer."
        >
          <option value="">Choose a marketing template</option>
          {marketing.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
        <SelectField
          id="campaign-tags"
          label="Send to subscribers of"
          multiple
          value={tagIds}
          onChange={(e) => setTagIds([...e.currentTarget.selectedOptions].map((o) => o.value))}
          error={errors.tag_filter}
          hint="Or leave this empty and choose topics, a segment or conditions on the campaign's page."
        >
          {(tags.data?.items ?? []).map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({formatNumber(t.subscriber_count)})
            </option>
          ))}
        </SelectField>
        <FormError message={create.isError && !errors.name && !errors.template_id ? describeError(create.error) : null} />
        <div className="sf-dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create draft
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export default function CampaignsPage() {
  const { organizationId, can } = useOrganization();
  const { search } = useLocation();
  const status = search.get('status') ?? '';
  const [creating, setCreating] = useState(false);
  const campaigns = useQuery({
    queryKey: keys.campaigns.list(organizationId, status),
    queryFn: () =>
      unwrap(api.GET('/api/v1/campaigns', { params: { query: { limit: 100, ...(status ? { status: status as (typeof STATUSES)[number] } : {}) } } })),
    // A list with a campaign on its way refreshes itself.
    refetchInterval: (query) => (query.state.data?.items.some((c) => c.status === 'sending' || c.status === 'scheduled') ? 3000 : false),
  });
  const canWrite = can('admin');
  const items = campaigns.data?.items ?? [];
  return (
    <Page
      title="Campaigns"
      description="Newsletters to the subscribers of your topics."
      actions={
        canWrite ? (
          <Button variant="primary" onClick={() => setCreating(true)}>
            New campaign
          </Button>
        ) : null
      }
    >
      <SelectField id="campaign-status" label="Status" value={status} onChange={(e) => setSearch({ status: e.currentTarget.value })}>
        <option value="">All</option>
        {STATUSES.map((s) => (
          <option key={s} value={s}>
            {labelOf(s)}
          </option>
        ))}
      </SelectField>
      {campaigns.isPending ? (
        <Loading label="Loading campaigns…" />
      ) : campaigns.isError ? (
        <ErrorState error={campaigns.error} onRetry={() => void campaigns.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          title="No campaigns yet"
          action={
            canWrite ? (
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create the first campaign
              </Button>
            ) : null
          }
        >
          A campaign sends one marketing template to the subscribers of the topics or the segment you choose.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Campaigns</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Recipients
                </th>
                <th scope="col">Scheduled</th>
                <th scope="col">Completed</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/campaigns/${c.id}`}>
                      <strong>{c.name}</strong>
                    </Link>
                  </td>
                  <td>
                    <Badge status={c.status} />
                  </td>
                  <td className="num">{c.targeted_count > 0 ? formatNumber(c.targeted_count) : <span className="muted">—</span>}</td>
                  <td>{formatDateTime(c.scheduled_at as string | null)}</td>
                  <td>{formatDateTime(c.completed_at as string | null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating ? <NewCampaignDialog onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}
