import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { Dialog } from '@shared/ui/Dialog';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, idempotent, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link, navigate, setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, formatDateTime } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

const STARTER = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text font-size="20px">Hello {{ name | default: "there" }}!</mj-text>
        <mj-text>Write your message here.</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
`;

function NewTemplateDialog({ onClose }: { onClose: () => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState('');
  const [subject, setSubject] = useState('');
  const [category, setCategory] = useState<'transactional' | 'marketing'>('transactional');
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/templates', {
          body: {
            name: name.trim(),
            subject: subject.trim(),
            category,
            mjml_content: STARTER,
            variables_schema: { type: 'object', properties: { name: { type: 'string' } } },
          },
          ...idempotent(),
        }),
      ),
    onSuccess: async (template) => {
      await queryClient.invalidateQueries({ queryKey: keys.templates.all(organizationId) });
      toast.success(`Template ${template.name} created.`);
      navigate(`/templates/${template.id}`);
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <Dialog open title="New template" onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Field id="template-name" label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} data-autofocus />
        <Field
          id="template-subject"
          label="Subject"
          required
          value={subject}
          onChange={(e) => setSubject(e.currentTarget.value)}
          error={errors.subject}
          hint="Liquid variables work here too, e.g. {{ name }}."
        />
        <SelectField
          id="template-category"
          label="Category"
          value={category}
          onChange={(e) => setCategory(e.currentTarget.value as 'transactional' | 'marketing')}
          error={errors.category}
          hint="Marketing mail gets the unsubscribe footer and goes only to active subscribers."
        >
          <option value="transactional">Transactional</option>
          <option value="marketing">Marketing</option>
        </SelectField>
        <FormError message={create.isError && !errors.name && !errors.subject ? describeError(create.error) : null} />
        <div className="sf-dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create and edit
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export default function TemplatesPage() {
  const { organizationId, can } = useOrganization();
  const { search } = useLocation();
  const status = search.get('status') === 'archived' ? 'archived' : 'active';
  const [creating, setCreating] = useState(false);
  const templates = useInfiniteQuery({
    queryKey: keys.templates.list(organizationId, status),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/templates', { params: { query: { status, limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const canWrite = can('admin');
  const items = templates.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <Page
      title="Templates"
      description="Emails written in MJML with Liquid variables."
      actions={
        canWrite ? (
          <Button variant="primary" onClick={() => setCreating(true)}>
            New template
          </Button>
        ) : null
      }
    >
      <div role="group" aria-label="Show" className="segmented segmented--spaced">
        <button type="button" aria-pressed={status === 'active'} onClick={() => setSearch({ status: undefined })}>
          Active
        </button>
        <button type="button" aria-pressed={status === 'archived'} onClick={() => setSearch({ status: 'archived' })}>
          Archived
        </button>
      </div>
      {templates.isPending ? (
        <Loading label="Loading templates…" />
      ) : templates.isError ? (
        <ErrorState error={templates.error} onRetry={() => void templates.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          title={status === 'active' ? 'No templates yet' : 'No archived templates'}
          action={
            canWrite && status === 'active' ? (
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create a template
              </Button>
            ) : null
          }
        >
          {status === 'active' ? 'Templates are the emails your API calls and campaigns send.' : null}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">{status === 'active' ? 'Active' : 'Archived'} templates</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Subject</th>
                <th scope="col">Category</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link to={`/templates/${t.id}`}>{t.name}</Link> <code className="muted small">{t.slug}</code>
                  </td>
                  <td>{t.subject}</td>
                  <td>
                    <Badge status={t.category === 'marketing' ? 'pending' : 'neutral'} label={t.category} />
                  </td>
                  <td>{formatDateTime(t.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {templates.hasNextPage ? (
            <Button busy={templates.isFetchingNextPage} onClick={() => void templates.fetchNextPage()}>
              Load more
            </Button>
          ) : null}
        </div>
      )}
      {creating ? <NewTemplateDialog onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}
