import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { Dialog } from '@shared/ui/Dialog';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, organizationStore, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { navigate } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField, TextAreaField } from '../../ui/Fields';
import { Page, Section } from '../../ui/Page';
import { QueryView } from '../../ui/States';

type Organization = ResponseOf<'/api/v1/organizations/current', 'get'>;
const LOCALES: [string, string][] = [['en', 'English'], ['de', 'German'], ['fr', 'French'], ['es', 'Spanish'], ['it', 'Italian'], ['nl', 'Dutch']];

function OrganizationForm({ organization }: { organization: Organization }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState({
    name: organization.name, slug: organization.slug, locale: organization.locale, postal_address: organization.postal_address ?? '', email_reply_to: organization.email_reply_to ?? '',
  });
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH('/api/v1/organizations/current', {
      body: {
        name: draft.name.trim(), slug: draft.slug.trim(), locale: draft.locale, postal_address: draft.postal_address.trim() || null, email_reply_to: draft.email_reply_to.trim() || null,
      },
    })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.organization(organizationId), saved);
      void queryClient.invalidateQueries({ queryKey: keys.me() });
      toast.success('Organization saved.');
    },
  });
  const errors = fieldErrors(save.error);
  const readOnly = !can('admin');
  const set = (field: keyof typeof draft) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });
  return (
    <form noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <fieldset disabled={readOnly} className="fieldset fieldset--plain">
        <Field id="org-name" label="Name" value={draft.name} onChange={set('name')} error={errors.name} maxLength={100} />
        <Field id="org-slug" label="Slug" value={draft.slug} onChange={set('slug')} error={errors.slug} hint="Used in public sign-up form addresses; changing it breaks existing forms." />
        <SelectField id="org-locale" label="Language of emails and public pages" value={draft.locale} onChange={set('locale')} error={errors.locale}>
          {(LOCALES.some(([code]) => code === draft.locale) ? LOCALES : [...LOCALES, [draft.locale, draft.locale] as [string, string]]).map(([code, label]) => <option key={code} value={code}>{label}</option>)}
        </SelectField>
        <TextAreaField id="org-address" label="Postal address" rows={3} value={draft.postal_address} onChange={set('postal_address')} error={errors.postal_address}
          hint="Shown in the footer of every marketing email, as anti-spam laws require. Without it, marketing email is refused." maxLength={500} />
        {!organization.postal_address ? <p className="muted" role="note">No postal address yet: marketing email cannot be sent until one is saved.</p> : null}
        <Field id="org-reply-to" label="Reply-To address" type="email" value={draft.email_reply_to} onChange={set('email_reply_to')} error={errors.email_reply_to} maxLength={254}
          hint="Where replies to your email go, when not to the sender address. Leave empty to keep replies going to the sender." />
        <FormError message={save.isError && Object.keys(errors).length === 0 ? describeError(save.error) : null} />
        {!readOnly ? <Button type="submit" variant="primary" busy={save.isPending}>Save organization</Button> : <p className="muted">Only admins can change these settings.</p>}
      </fieldset>
    </form>
  );
}

function DeleteOrganization({ organization }: { organization: Organization }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/organizations/current', { body: { confirm_slug: typed.trim() } })),
    onSuccess: async () => {
      organizationStore.set(null);
      queryClient.removeQueries({ queryKey: ['org'] });
      await queryClient.invalidateQueries({ queryKey: keys.me() });
      navigate('/', { replace: true });
    },
  });
  return (
    <Section title="Delete organization">
      <p>Deleting erases every subscriber, tag, template and key of {organization.name}. This cannot be undone.</p>
      <Button variant="danger" onClick={() => setOpen(true)}>Delete organization…</Button>
      <Dialog open={open} role="alertdialog" title={`Delete ${organization.name}?`} onClose={() => { setOpen(false); setTyped(''); remove.reset(); }}
        description={<>Type the slug <strong>{organization.slug}</strong> to confirm.</>}>
        <form noValidate onSubmit={(e) => { e.preventDefault(); remove.mutate(); }}>
          <Field id="confirm-slug" label="Organization slug" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} autoComplete="off" data-autofocus />
          <FormError message={remove.isError ? describeError(remove.error) : null} />
          <div className="sf-dialog-footer">
            <Button onClick={() => { setOpen(false); setTyped(''); }}>Cancel</Button>
            <Button type="submit" variant="danger" disabled={typed.trim() !== organization.slug} busy={remove.isPending}>Delete for good</Button>
          </div>
        </form>
      </Dialog>
    </Section>
  );
}

export default function OrganizationSettingsPage() {
  const { organizationId, can } = useOrganization();
  const organization = useQuery({ queryKey: keys.organization(organizationId), queryFn: () => unwrap(api.GET('/api/v1/organizations/current')) });
  return (
    <Page title="Settings">
      <SettingsNav />
      <QueryView query={organization}>
        {(data) => (
          <>
            <Section title="Organization"><OrganizationForm key={data.updated_at} organization={data} /></Section>
            {can('owner') ? <DeleteOrganization organization={data} /> : null}
          </>
        )}
      </QueryView>
    </Page>
  );
}
