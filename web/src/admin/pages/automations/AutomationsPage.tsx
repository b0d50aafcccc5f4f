import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { Dialog } from '@shared/ui/Dialog';
import { api, describeError, fieldErrors, idempotent, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link, navigate } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, formatDateTime } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';
import { describeDelay, EVENTS } from './steps';

/** A new automation: name, what starts it, and a first email; the steps are edited on its page. */
function NewAutomationDialog({ onClose }: { onClose: () => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [event, setEvent] = useState<string>('subscriber.created');
  const [customEvent, setCustomEvent] = useState('');
  const [templateId, setTemplateId] = useState('');
  const templates = useQuery({ queryKey: keys.templates.list(organizationId, 'active'), queryFn: () => unwrap(api.GET('/api/v1/templates', { params: { query: { limit: 100 } } })) });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/triggers', {
      body: { name: name.trim(), event: event === 'custom' ? customEvent.trim() : event, template_id: templateId, is_active: false }, ...idempotent(),
    })),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: keys.automations.all(organizationId) });
      navigate(`/automations/${created.id}`);
    },
  });
  const errors = fieldErrors(create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const marketing = (templates.data?.items ?? []).filter((t) => t.category === 'marketing');
  return (
    <Dialog open title="New automation" onClose={onClose}>
      <form noValidate onSubmit={submit}>
        <Field id="automation-name" label="Name" required maxLength={200} value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} data-autofocus />
        <SelectField id="automation-event" label="Starts when" value={event} onChange={(e) => setEvent(e.currentTarget.value)} error={errors.event}>
          {EVENTS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          <option value="custom">Your app reports an event…</option>
        </SelectField>
        {event === 'custom' ? <Field id="automation-custom-event" label="Event name" required maxLength={100} value={customEvent} onChange={(e) => setCustomEvent(e.currentTarget.value)} hint="The name your app sends to POST /api/v1/events, e.g. purchased." /> : null}
        <SelectField id="automation-template" label="First email" value={templateId} onChange={(e) => setTemplateId(e.currentTarget.value)} error={errors['steps.0.template_id'] ?? errors.template_id} hint="Marketing templates carry the unsubscribe footer. Add waits and more emails on the next page.">
          <option value="">Choose a marketing template</option>
          {marketing.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </SelectField>
        <FormError message={create.isError && !errors.name ? describeError(create.error) : null} />
        <div className="sf-dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>Create (paused)</Button>
        </div>
      </form>
    </Dialog>
  );
}

export default function AutomationsPage() {
  const { organizationId, can } = useOrganization();
  const [creating, setCreating] = useState(false);
  const automations = useQuery({ queryKey: keys.automations.all(organizationId), queryFn: () => unwrap(api.GET('/api/v1/triggers', { params: { query: { limit: 100 } } })) });
  const canWrite = can('admin');
  const items = automations.data?.items ?? [];
  return (
    <Page title="Automations" description="Welcome mails and drip sequences that run by themselves." actions={canWrite ? <Button variant="primary" onClick={() => setCreating(true)}>New automation</Button> : null}>
      {automations.isPending ? <Loading label="Loading automations…" /> : automations.isError ? <ErrorState error={automations.error} onRetry={() => void automations.refetch()} /> : items.length === 0 ? (
        <EmptyState title="No automations yet" action={canWrite ? <Button variant="primary" onClick={() => setCreating(true)}>Create the first automation</Button> : null}>
          An automation sends emails, waits and checks conditions for every subscriber who enters it, for example a welcome series.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Automations</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Starts when</th><th scope="col">Steps</th><th scope="col" className="num">Version</th><th scope="col">Changed</th></tr></thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id}>
                  <td><Link to={`/automations/${a.id}`}><strong>{a.name}</strong></Link></td>
                  <td><Badge status={a.is_active ? 'active' : 'paused'} /></td>
                  <td>{EVENTS.find(([value]) => value === a.event)?.[1] ?? <>event <code>{a.event}</code></>}</td>
                  <td>{a.steps.map((s) => (s.type === 'delay' ? `wait ${describeDelay(s.seconds)}` : s.type.replace(/_/g, ' '))).join(' → ')}</td>
                  <td className="num">{a.version}</td>
                  <td>{formatDateTime(a.updated_at as string)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating ? <NewAutomationDialog onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}
