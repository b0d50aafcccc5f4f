import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, idempotent, unwrap, type Domain, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, CopyButton, formatDateTime } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { EmptyState, QueryView } from '../../ui/States';

type EmailSettings = ResponseOf<'/api/v1/settings/email', 'get'>;
const REGIONS = ['us-east-1', 'eu-west-1', 'sa-east-1', 'ap-northeast-1'] as const;

function SenderForm({ settings }: { settings: EmailSettings }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(settings.from_name ?? '');
  const [email, setEmail] = useState(settings.from_email ?? '');
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH('/api/v1/settings/email', { body: { from_name: name.trim() || null, from_email: email.trim() || null } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.emailSettings(organizationId), saved);
      toast.success('Sender saved.');
    },
  });
  const errors = fieldErrors(save.error);
  const readOnly = !can('admin');
  return (
    <form noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <p>Mail goes out as <strong>{settings.effective_from}</strong>{settings.send_domain ? <> from <code>{settings.send_domain}</code> ({settings.domain_verified ? 'verified' : 'not verified yet'})</> : null}.</p>
      <fieldset disabled={readOnly} className="fieldset fieldset--plain">
        <div className="grid-2">
          <Field id="from-name" label="Sender name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.from_name} maxLength={100} />
          <Field id="from-email" label="Sender address" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.from_email} hint="Must be on a verified sending domain." />
        </div>
        <FormError message={save.isError && !errors.from_name && !errors.from_email ? describeError(save.error) : null} />
        {!readOnly ? <Button type="submit" variant="primary" busy={save.isPending}>Save sender</Button> : null}
      </fieldset>
    </form>
  );
}

function DomainCard({ domain }: { domain: Domain }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.domains(organizationId) });
  const verify = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/settings/domains/{id}/verify', { params: { path: { id: domain.id } } })),
    onSuccess: (d) => { void refresh(); toast.success(`${d.name}: ${d.status.replace(/_/g, ' ')}.`); },
    onError: (error) => toast.error(describeError(error)),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/settings/domains/{id}', { params: { path: { id: domain.id } } })),
    onSuccess: () => { void refresh(); toast.success(`${domain.name} removed.`); },
    onError: (error) => toast.error(describeError(error)),
  });
  return (
    <section className="card" aria-labelledby={`domain-${domain.id}`}>
      <div className="card-header">
        <h3 id={`domain-${domain.id}`}>{domain.name} <Badge status={domain.status} /></h3>
        {can('admin') ? (
          <div className="card-actions">
            <Button busy={verify.isPending} onClick={() => verify.mutate()}>Check now</Button>
            <Button variant="danger" busy={remove.isPending} onClick={async () => {
              if (await confirm({ title: `Remove ${domain.name}?`, message: 'Mail can no longer be sent from addresses on this domain.', confirmLabel: 'Remove domain', danger: true })) remove.mutate();
            }}>Remove</Button>
          </div>
        ) : null}
      </div>
      <p className="muted small">Region {domain.region} · last checked {formatDateTime(domain.last_checked_at)}{domain.verified_at ? ` · verified ${formatDateTime(domain.verified_at)}` : ''}</p>
      <div className="table-wrap">
        <table className="data-table">
          <caption>DNS records to publish at your DNS provider</caption>
          <thead><tr><th scope="col">Type</th><th scope="col">Name</th><th scope="col">Value</th><th scope="col">Priority</th><th scope="col">Status</th></tr></thead>
          <tbody>
            {domain.records.map((r, i) => (
              <tr key={`${r.type}-${r.name}-${i}`}>
                <td>{r.type}</td>
                <td><code className="break">{r.name}</code> <CopyButton value={r.name} label={`Copy the name of the ${r.type} record`} /></td>
                <td><code className="break">{r.value}</code> <CopyButton value={r.value} label={`Copy the value of the ${r.type} record ${r.name}`} /></td>
                <td>{r.priority ?? '—'}</td>
                <td><Badge status={r.status} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Domains() {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState('');
  const [region, setRegion] = useState<(typeof REGIONS)[number]>('eu-west-1');
  // Verification runs at the provider; poll while a domain is still on its way.
  const domains = useQuery({
    queryKey: keys.domains(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/settings/domains', { params: { query: { limit: 100 } } })),
    refetchInterval: (query) => (query.state.data?.items.some((d) => !['verified', 'failed'].includes(d.status)) ? 15_000 : false),
  });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/settings/domains', { body: { name: name.trim(), region }, ...idempotent() })),
    onSuccess: (d) => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: keys.domains(organizationId) });
      toast.success(`${d.name} added: publish its DNS records.`);
    },
  });
  const [nameError, setNameError] = useState<string | null>(null);
  const errors = fieldErrors(add.error);
  const submit = () => {
    // A domain name is checked here in plain words; the server's pattern is never shown to anyone.
    const value = name.trim().toLowerCase();
    if (!/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(value)) {
      setNameError(value ? 'Enter a domain name without https:// or @, like mail.example.com.' : 'Fill in the domain you send from, like mail.example.com.');
      return;
    }
    setNameError(null);
    add.mutate();
  };
  return (
    <Section title="Sending domains">
      {can('admin') ? (
        <form className="inline-form" noValidate onSubmit={(e) => { e.preventDefault(); submit(); }}>
          <Field id="domain-name" label="Domain" placeholder="mail.example.com" value={name} onChange={(e) => setName(e.currentTarget.value)} error={nameError ?? errors.name} />
          <SelectField id="domain-region" label="Region" value={region} onChange={(e) => setRegion(e.currentTarget.value as (typeof REGIONS)[number])}>
            {REGIONS.map((r) => <option key={r} value={r}>{r}</option>)}
          </SelectField>
          <Button type="submit" variant="primary" busy={add.isPending}>Add domain</Button>
          <FormError message={add.isError && !errors.name ? describeError(add.error) : null} />
        </form>
      ) : null}
      <QueryView query={domains}>
        {(data) => data.items.length === 0
          ? <EmptyState title="No sending domain">Without one, mail goes out from the platform's shared address.</EmptyState>
          : <div className="stack" aria-live="polite">{data.items.map((d) => <DomainCard key={d.id} domain={d} />)}</div>}
      </QueryView>
    </Section>
  );
}

export default function EmailSettingsPage() {
  const { organizationId } = useOrganization();
  const settings = useQuery({ queryKey: keys.emailSettings(organizationId), queryFn: () => unwrap(api.GET('/api/v1/settings/email')) });
  return (
    <Page title="Settings">
      <SettingsNav />
      <Section title="Sender"><QueryView query={settings}>{(data) => <SenderForm key={`${data.from_name}|${data.from_email}`} settings={data} />}</QueryView></Section>
      <Domains />
    </Page>
  );
}
