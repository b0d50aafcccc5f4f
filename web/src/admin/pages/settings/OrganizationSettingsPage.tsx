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
import { Checkbox, Field, FormError, SelectField, TextAreaField } from '../../ui/Fields';
import { Page, Section } from '../../ui/Page';
import { formatDateTime, formatNumber } from '../../ui/misc';
import { EmptyState, QueryView } from '../../ui/States';

type Organization = ResponseOf<'/api/v1/organizations/current', 'get'>;
type SyncStatus = ResponseOf<'/api/v1/contact-sync', 'get'>;
const LOCALES: [string, string][] = [
  ['en', 'English'],
  ['de', 'German'],
  ['fr', 'French'],
  ['es', 'Spanish'],
  ['it', 'Italian'],
  ['nl', 'Dutch'],
];

function OrganizationForm({ organization }: { organization: Organization }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState({
    name: organization.name,
    slug: organization.slug,
    locale: organization.locale,
    postal_address: organization.postal_address ?? '',
    email_reply_to: organization.email_reply_to ?? '',
    privacy_url: organization.privacy_url ?? '',
    imprint_url: organization.imprint_url ?? '',
  });
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/organizations/current', {
          body: {
            name: draft.name.trim(),
            slug: draft.slug.trim(),
            locale: draft.locale,
            postal_address: draft.postal_address.trim() || null,
            email_reply_to: draft.email_reply_to.trim() || null,
            privacy_url: draft.privacy_url.trim() || null,
            imprint_url: draft.imprint_url.trim() || null,
          },
        }),
      ),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.organization(organizationId), saved);
      void queryClient.invalidateQueries({ queryKey: keys.me() });
      toast.success('Organization saved.');
    },
  });
  const errors = { ...fieldErrors(save.error), ...localErrors };
  const readOnly = !can('admin');
  // Links shown to subscribers must be https; checked here so the person sees it before saving.
  const checkLinks = () => {
    const found: Record<string, string> = {};
    for (const field of ['privacy_url', 'imprint_url'] as const) {
      const value = draft[field].trim();
      if (value && !/^https:\/\/[^\s"'<>]+$/.test(value)) found[field] = 'Enter a full address starting with https://, like https://example.com/privacy.';
    }
    setLocalErrors(found);
    return Object.keys(found).length === 0;
  };
  const set = (field: keyof typeof draft) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (checkLinks()) save.mutate();
      }}
    >
      <fieldset disabled={readOnly} className="fieldset fieldset--plain">
        <Field id="org-name" label="Name" value={draft.name} onChange={set('name')} error={errors.name} maxLength={100} />
        <Field
          id="org-slug"
          label="Slug"
          value={draft.slug}
          onChange={set('slug')}
          error={errors.slug}
          hint="Used in public sign-up form addresses; changing it breaks existing forms."
        />
        <SelectField id="org-locale" label="Language of emails and public pages" value={draft.locale} onChange={set('locale')} error={errors.locale}>
          {(LOCALES.some(([code]) => code === draft.locale) ? LOCALES : [...LOCALES, [draft.locale, draft.locale] as [string, string]]).map(([code, label]) => (
            <option key={code} value={code}>
              {label}
            </option>
          ))}
        </SelectField>
        <TextAreaField
          id="org-address"
          label="Postal address"
          rows={3}
          value={draft.postal_address}
          onChange={set('postal_address')}
          error={errors.postal_address}
          hint="Shown in the footer of every marketing email, as anti-spam laws require. Without it, marketing email is refused."
          maxLength={500}
        />
        {!organization.postal_address ? (
          <p className="muted" role="note">
            No postal address yet: marketing email cannot be sent until one is saved.
          </p>
        ) : null}
        <Field
          id="org-reply-to"
          label="Reply-To address"
          type="email"
          value={draft.email_reply_to}
          onChange={set('email_reply_to')}
          error={errors.email_reply_to}
          maxLength={254}
          hint="Where replies to your email go, when not to the sender address. Leave empty to keep replies going to the sender."
        />
        <Field
          id="org-privacy-url"
          label="Privacy policy page"
          type="url"
          value={draft.privacy_url}
          onChange={set('privacy_url')}
          error={errors.privacy_url}
          maxLength={2048}
          hint="Linked in the footer of the preference center. Must start with https://."
        />
        <Field
          id="org-imprint-url"
          label="Imprint page"
          type="url"
          value={draft.imprint_url}
          onChange={set('imprint_url')}
          error={errors.imprint_url}
          maxLength={2048}
          hint="The legal notice (Impressum), linked in the footer of the preference center. Must start with https://."
        />
        <FormError message={save.isError && Object.keys(errors).length === 0 ? describeError(save.error) : null} />
        {!readOnly ? (
          <Button type="submit" variant="primary" busy={save.isPending}>
            Save organization
          </Button>
        ) : (
          <p className="muted">Only admins can change these settings.</p>
        )}
      </fieldset>
    </form>
  );
}

const WEEKDAYS: [number, string][] = [
  [1, 'Monday'],
  [2, 'Tuesday'],
  [3, 'Wednesday'],
  [4, 'Thursday'],
  [5, 'Friday'],
  [6, 'Saturday'],
  [7, 'Sunday'],
];

/** Every IANA zone the browser knows, with the saved one kept even if this browser lacks it. */
function timeZones(current: string): string[] {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const zones = known.includes('UTC') ? known : ['UTC', ...known];
  return zones.includes(current) ? zones : [current, ...zones];
}

/** The time zone people schedule in, and the days and hours campaigns and automation mail may go out. */
function SendingWindowForm({ organization }: { organization: Organization }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const saved = organization.sending_window;
  const [timezone, setTimezone] = useState(organization.timezone);
  const [limited, setLimited] = useState(saved !== null);
  const [days, setDays] = useState<number[]>(saved?.days ?? [1, 2, 3, 4, 5]);
  const [start, setStart] = useState(saved?.start ?? '09:00');
  const [end, setEnd] = useState(saved?.end ?? '17:00');
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/organizations/current', {
          body: { timezone, sending_window: limited ? { days: [...days].sort(), start, end } : null },
        }),
      ),
    onSuccess: (result) => {
      queryClient.setQueryData(keys.organization(organizationId), result);
      toast.success('Sending window saved.');
    },
  });
  const errors = fieldErrors(save.error);
  const noDays = limited && days.length === 0;
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!noDays) save.mutate();
      }}
    >
      <fieldset disabled={!can('admin')} className="fieldset fieldset--plain">
        <SelectField
          id="org-timezone"
          label="Time zone"
          value={timezone}
          onChange={(e) => setTimezone(e.currentTarget.value)}
          error={errors.timezone}
          hint="Scheduled times and the sending window are in this time zone."
        >
          {timeZones(timezone).map((zone) => (
            <option key={zone} value={zone}>
              {zone.replaceAll('_', ' ')}
            </option>
          ))}
        </SelectField>
        <Checkbox
          id="org-window"
          label="Send campaigns only on certain days and hours"
          checked={limited}
          onChange={(e) => setLimited(e.currentTarget.checked)}
          hint="Outside the window a sending campaign waits and goes on when the window opens. Transactional email is never held."
        />
        {limited ? (
          <fieldset className="fieldset">
            <legend>Sending window</legend>
            <div className="inline-list">
              {WEEKDAYS.map(([day, name]) => (
                <Checkbox
                  key={day}
                  id={`org-window-day-${day}`}
                  label={name}
                  checked={days.includes(day)}
                  onChange={(e) => setDays(e.currentTarget.checked ? [...days, day] : days.filter((d) => d !== day))}
                />
              ))}
            </div>
            {noDays ? (
              <p className="sf-field-error" role="alert">
                Choose at least one day, or send at any time.
              </p>
            ) : null}
            <Field
              id="org-window-start"
              label="From"
              type="time"
              value={start}
              onChange={(e) => setStart(e.currentTarget.value)}
              error={errors['sending_window.start'] ?? errors.sending_window}
            />
            <Field
              id="org-window-end"
              label="Until"
              type="time"
              value={end}
              onChange={(e) => setEnd(e.currentTarget.value)}
              error={errors['sending_window.end']}
            />
          </fieldset>
        ) : null}
        <FormError message={save.isError && Object.keys(errors).length === 0 ? describeError(save.error) : null} />
        {can('admin') ? (
          <Button type="submit" variant="primary" busy={save.isPending}>
            Save sending window
          </Button>
        ) : null}
      </fieldset>
    </form>
  );
}

/** The optional mirror of subscribers and public topics to Resend Contacts (one organization per Resend account). */
function ContactSyncForm({ organization }: { organization: Organization }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [on, setOn] = useState(organization.resend_contact_sync);
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH('/api/v1/organizations/current', { body: { resend_contact_sync: on } })),
    onSuccess: (result) => {
      queryClient.setQueryData(keys.organization(organizationId), result);
      void queryClient.invalidateQueries({ queryKey: keys.contactSync(organizationId) });
      toast.success(result.resend_contact_sync ? 'Contact sync is on: subscribers are being copied to Resend.' : 'Contact sync is off.');
    },
  });
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <fieldset disabled={!can('admin')} className="fieldset fieldset--plain">
        <Checkbox
          id="org-contact-sync"
          label="Copy subscribers and public topics to Resend Contacts"
          checked={on}
          onChange={(e) => setOn(e.currentTarget.checked)}
          hint="Changes are sent in the background at the provider's pace. Someone who unsubscribes at Resend, or leaves a topic there, is unsubscribed here too; topic choices made at Resend apply to active subscribers; nobody is subscribed to mail from Resend's side. Needs the Resend provider; only one organization per Resend account."
        />
        <FormError message={save.isError ? describeError(save.error) : null} />
        {can('admin') ? (
          <Button type="submit" variant="primary" busy={save.isPending} disabled={on === organization.resend_contact_sync}>
            Save contact sync
          </Button>
        ) : null}
      </fieldset>
    </form>
  );
}

/** What the full-sync line says, in plain words. */
function fullSyncText(status: SyncStatus): string {
  if (!status.full_sync_requested_at) return 'No full sync yet.';
  if (!status.full_sync_finished_at) return `Running since ${formatDateTime(status.full_sync_requested_at)}.`;
  return `Finished ${formatDateTime(status.full_sync_finished_at)} (started ${formatDateTime(status.full_sync_requested_at)}).`;
}

/** How the mirror is doing (admins): waiting and failed changes, the last full sync and error, "sync everything now". */
function ContactSyncProgress() {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const status = useQuery({
    queryKey: keys.contactSync(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/contact-sync')),
    // While changes wait, the numbers move: look again every few seconds.
    refetchInterval: (query) => (query.state.data && query.state.data.pending > 0 ? 5000 : false),
  });
  const syncAll = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/contact-sync/full-sync')),
    onSuccess: async (result) => {
      toast.success(`${formatNumber(result.queued)} subscribers are queued to be sent to Resend again.`);
      await queryClient.invalidateQueries({ queryKey: keys.contactSync(organizationId) });
    },
  });
  return (
    <div className="contact-sync-progress">
      <h3>Sync progress</h3>
      <QueryView query={status} loadingLabel="Loading the sync status…">
        {(data) =>
          !data.enabled ? (
            <EmptyState title="Contact sync is off">Nothing is being copied to Resend.</EmptyState>
          ) : (
            <>
              <dl className="facts">
                <dt>Waiting to be sent</dt>
                <dd>{formatNumber(data.pending)}</dd>
                <dt>Failed (Resend refused them five times)</dt>
                <dd>{formatNumber(data.failed)}</dd>
                <dt>Deleted at Resend, no longer copied</dt>
                <dd>{formatNumber(data.detached)}</dd>
                <dt>Full sync</dt>
                <dd>{fullSyncText(data)}</dd>
                <dt>Last round</dt>
                <dd>{data.last_round_at ? formatDateTime(data.last_round_at) : 'Not run yet.'}</dd>
                <dt>Last error</dt>
                <dd>
                  {data.last_error ? (
                    <span role="status">
                      {data.last_error.message} ({formatDateTime(data.last_error.at)})
                    </span>
                  ) : (
                    'None.'
                  )}
                </dd>
              </dl>
              <FormError message={syncAll.isError ? describeError(syncAll.error) : null} />
              <Button onClick={() => syncAll.mutate()} busy={syncAll.isPending}>
                Sync everything now
              </Button>
              <p className="muted small">
                Sends every subscriber to Resend again, so changes made there by hand are overwritten with what is true here. Contacts deleted at Resend stay
                left alone.
              </p>
            </>
          )
        }
      </QueryView>
    </div>
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
      <Button variant="danger" onClick={() => setOpen(true)}>
        Delete organization…
      </Button>
      <Dialog
        open={open}
        role="alertdialog"
        title={`Delete ${organization.name}?`}
        onClose={() => {
          setOpen(false);
          setTyped('');
          remove.reset();
        }}
        description={
          <>
            Type the slug <strong>{organization.slug}</strong> to confirm.
          </>
        }
      >
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            remove.mutate();
          }}
        >
          <Field
            id="confirm-slug"
            label="Organization slug"
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            autoComplete="off"
            data-autofocus
          />
          <FormError message={remove.isError ? describeError(remove.error) : null} />
          <div className="sf-dialog-footer">
            <Button
              onClick={() => {
                setOpen(false);
                setTyped('');
              }}
            >
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={typed.trim() !== organization.slug} busy={remove.isPending}>
              Delete for good
            </Button>
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
            <Section title="Organization">
              <OrganizationForm key={data.updated_at} organization={data} />
            </Section>
            <Section title="Time zone and sending window">
              <SendingWindowForm key={data.updated_at} organization={data} />
            </Section>
            <Section title="Resend contact sync">
              <ContactSyncForm key={`${data.updated_at}-${String(data.resend_contact_sync)}`} organization={data} />
              {can('admin') && data.resend_contact_sync ? <ContactSyncProgress /> : null}
            </Section>
            {can('owner') ? <DeleteOrganization organization={data} /> : null}
          </>
        )}
      </QueryView>
    </Page>
  );
}
