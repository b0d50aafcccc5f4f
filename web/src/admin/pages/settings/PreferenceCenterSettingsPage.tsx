import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { Switch } from '@shared/ui/Switch';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField, TextAreaField } from '../../ui/Fields';
import { Page, Section } from '../../ui/Page';
import { QueryView } from '../../ui/States';

type Settings = ResponseOf<'/api/v1/settings/preference-center', 'get'>;
type Locale = 'en' | 'de';
const LOCALES: [Locale, string][] = [
  ['en', 'English'],
  ['de', 'German'],
];
const TEXTS = [
  ['title', 'Page title', 200],
  ['intro', 'Introduction', 2000],
  ['save', 'Message after a change is saved', 200],
  ['unsubscribe_all', 'Label of the “unsubscribe from everything” button', 100],
  ['consent', 'Consent wording on the double opt-in page', 1000],
] as const;
type TextKey = (typeof TEXTS)[number][0];

const lines = (list: string[]) => list.join('\n');
const parseLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

export function preferenceCenterUrl(slug: string): string {
  const base = import.meta.env.VITE_PREFERENCES_URL || `${import.meta.env.VITE_API_URL || window.location.origin}/preferences/`;
  return `${base}${base.includes('?') ? '&' : '?'}org=${encodeURIComponent(slug)}`;
}

type Preview = ResponseOf<'/api/v1/settings/preference-center/preview', 'post'>;

/**
 * Opens the real preference center with a sample subscriber, read-only (the link's token is accepted by
 * no route that changes anything), in a new tab. The tab is opened on the click itself, so popup
 * blockers let it through, and pointed at the link once it is minted; the links stay listed below.
 */
function PreviewSection() {
  const [links, setLinks] = useState<Preview | null>(null);
  const preview = useMutation({ mutationFn: () => unwrap(api.POST('/api/v1/settings/preference-center/preview')) });
  async function open(which: 'url' | 'unsubscribe_url') {
    const tab = window.open('about:blank', '_blank');
    try {
      const created = await preview.mutateAsync();
      setLinks(created);
      if (tab) {
        tab.opener = null;
        tab.location.href = created[which];
      }
    } catch {
      tab?.close();
    }
  }
  return (
    <Section title="Preview">
      <p className="muted small">
        See the saved settings as a subscriber does, with a sample person and your real topics. Nothing can be changed through a preview.
      </p>
      <div className="inline-fields">
        <Button busy={preview.isPending} onClick={() => void open('url')}>
          Preview the preference center
        </Button>
        <Button busy={preview.isPending} onClick={() => void open('unsubscribe_url')}>
          Preview the unsubscribe card
        </Button>
      </div>
      <FormError message={preview.isError ? describeError(preview.error) : null} />
      {links ? (
        <p className="small">
          Links valid for 15 minutes:{' '}
          <a href={links.url} target="_blank" rel="noreferrer noopener">
            preference center
          </a>
          {' · '}
          <a href={links.unsubscribe_url} target="_blank" rel="noreferrer noopener">
            unsubscribe card
          </a>
        </p>
      ) : null}
    </Section>
  );
}

function SettingsForm({ settings }: { settings: Settings }) {
  const { organizationId, organization } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [locale, setLocale] = useState<Locale>('en');
  const [texts, setTexts] = useState<Record<Locale, Record<TextKey, string>>>(
    () =>
      Object.fromEntries(LOCALES.map(([l]) => [l, Object.fromEntries(TEXTS.map(([k]) => [k, settings.texts[l]?.[k] ?? '']))])) as Record<
        Locale,
        Record<TextKey, string>
      >,
  );
  const [draft, setDraft] = useState({
    logo_url: settings.logo_url ?? '',
    accent_color: settings.accent_color ?? '',
    double_opt_in: settings.double_opt_in,
    embed_origins: lines(settings.embed_origins),
    form_origins: lines(settings.form_origins),
    locale: settings.locale,
  });
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/settings/preference-center', {
          body: {
            // An emptied text goes back to the default wording.
            texts: Object.fromEntries(LOCALES.map(([l]) => [l, Object.fromEntries(TEXTS.map(([k]) => [k, texts[l][k].trim() || null]))])),
            logo_url: draft.logo_url.trim() || null,
            accent_color: draft.accent_color || null,
            double_opt_in: draft.double_opt_in,
            embed_origins: parseLines(draft.embed_origins),
            form_origins: parseLines(draft.form_origins),
            locale: draft.locale,
          },
        }),
      ),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.preferenceCenter(organizationId), saved);
      toast.success('Preference center saved.');
    },
  });
  const raw = fieldErrors(save.error);
  // "embed_origins.2" → the embed origins box, naming the line.
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(raw)) {
    const [top, index] = field.split('.');
    if ((top === 'embed_origins' || top === 'form_origins') && index !== undefined) errors[top] ??= `Line ${Number(index) + 1}: ${message}`;
    else errors[field] = message;
  }
  const formError = save.isError && Object.keys(errors).length === 0 ? describeError(save.error) : null;

  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Section title="Texts">
        <div role="group" aria-label="Language of the texts" className="segmented segmented--spaced">
          {LOCALES.map(([code, label]) => (
            <button key={code} type="button" aria-pressed={locale === code} onClick={() => setLocale(code)}>
              {label}
            </button>
          ))}
        </div>
        <p className="muted small">Leave a text empty to use the default wording.</p>
        {TEXTS.map(([key, label, max]) => {
          const id = `text-${locale}-${key}`;
          const props = {
            id,
            label: `${label} (${locale})`,
            maxLength: max,
            value: texts[locale][key],
            error: errors[`texts.${locale}.${key}`],
            onChange: (e: { currentTarget: { value: string } }) => setTexts({ ...texts, [locale]: { ...texts[locale], [key]: e.currentTarget.value } }),
          };
          return max > 200 ? <TextAreaField key={id} rows={3} {...props} /> : <Field key={id} {...props} />;
        })}
      </Section>
      <Section title="Branding and behaviour">
        <div className="grid-2">
          <Field
            id="logo-url"
            label="Logo URL"
            type="url"
            placeholder="https://…"
            value={draft.logo_url}
            onChange={(e) => setDraft({ ...draft, logo_url: e.currentTarget.value })}
            error={errors.logo_url}
            hint="An https address of an image."
          />
          <div className="sf-field">
            <label htmlFor="accent" className="sf-field-label">
              Accent colour
            </label>
            <p id="accent-hint" className="sf-field-hint">
              Darkened automatically where needed for readable contrast.
            </p>
            <div className="color-row">
              <input
                id="accent"
                type="color"
                value={draft.accent_color || '#1d4ed8'}
                aria-describedby="accent-hint"
                onChange={(e) => setDraft({ ...draft, accent_color: e.currentTarget.value })}
              />
              <code>{draft.accent_color || 'default'}</code>
              {draft.accent_color ? (
                <Button variant="link" onClick={() => setDraft({ ...draft, accent_color: '' })}>
                  Use the default
                </Button>
              ) : null}
            </div>
            {errors.accent_color ? <p className="sf-field-error">{errors.accent_color}</p> : null}
          </div>
        </div>
        <SelectField
          id="pc-locale"
          label="Default language"
          value={draft.locale}
          onChange={(e) => setDraft({ ...draft, locale: e.currentTarget.value as Locale })}
        >
          {LOCALES.map(([code, label]) => (
            <option key={code} value={code}>
              {label}
            </option>
          ))}
        </SelectField>
        <Switch
          id="double-opt-in"
          label="Double opt-in"
          description="People who sign up through a website form confirm by email before they get anything."
          checked={draft.double_opt_in}
          onChange={(on) => setDraft({ ...draft, double_opt_in: on })}
        />
        <div className="grid-2">
          <TextAreaField
            id="embed-origins"
            label="Sites that may embed the preference center"
            rows={3}
            placeholder="https://www.example.com"
            value={draft.embed_origins}
            onChange={(e) => setDraft({ ...draft, embed_origins: e.currentTarget.value })}
            error={errors.embed_origins}
            hint="One origin per line, e.g. https://www.example.com."
          />
          <TextAreaField
            id="form-origins"
            label="Sites whose sign-up forms may post here"
            rows={3}
            placeholder="https://www.example.com"
            value={draft.form_origins}
            onChange={(e) => setDraft({ ...draft, form_origins: e.currentTarget.value })}
            error={errors.form_origins}
            hint="One origin per line."
          />
        </div>
        <p>
          <a href={preferenceCenterUrl(organization.slug)} target="_blank" rel="noreferrer noopener">
            Open the preference center (new tab)
          </a>
        </p>
      </Section>
      <FormError message={formError} />
      <Button type="submit" variant="primary" busy={save.isPending}>
        Save preference center
      </Button>
    </form>
  );
}

export default function PreferenceCenterSettingsPage() {
  const { organizationId } = useOrganization();
  const settings = useQuery({ queryKey: keys.preferenceCenter(organizationId), queryFn: () => unwrap(api.GET('/api/v1/settings/preference-center')) });
  return (
    <Page title="Settings">
      <SettingsNav />
      <QueryView query={settings}>
        {(data) => (
          <>
            <PreviewSection />
            <SettingsForm settings={data} />
          </>
        )}
      </QueryView>
    </Page>
  );
}
