import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, ApiRequestError, describeError, describeProblem, fieldErrors, unwrap, type Template } from '../../api';
import { keys } from '../../keys';
import { navigate, useUnsavedChangesGuard } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField, TextAreaField } from '../../ui/Fields';
import { Badge, formatDateTime, useDebounced } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { ErrorState, Loading } from '../../ui/States';

/** Example values for the variables a schema declares, so the preview shows something at once. */
function sampleFor(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, { type?: string }>;
  return Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, p.type === 'number' || p.type === 'integer' ? 42 : p.type === 'boolean' ? true : `Example ${name}`]));
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

type Draft = { subject: string; mjml_content: string; category: Template['category'] };

/** The fields of the draft that differ from the saved template: only those are sent, and compiled, for the preview. */
function changedFields(template: Template, draft: Draft): Partial<Draft> {
  return {
    ...(draft.subject !== template.subject ? { subject: draft.subject } : {}),
    ...(draft.mjml_content !== template.mjml_content ? { mjml_content: draft.mjml_content } : {}),
    ...(draft.category !== template.category ? { category: draft.category } : {}),
  };
}

/** A failed render, with each field the API named (MJML line, Liquid error, missing variable). */
function PreviewError({ error }: { error: unknown }) {
  const details = error instanceof ApiRequestError ? error.details.filter((d) => d.field) : [];
  if (details.length === 0) return <ErrorState title="The preview could not be rendered" error={error} />;
  return (
    <div className="state state--error" role="alert">
      <p className="state-title">The preview could not be rendered</p>
      <p>{describeError(error)}</p>
      <ul className="preview-problems">{details.map((d, i) => <li key={i}><code>{d.field}</code>: {describeProblem(d)}</li>)}</ul>
    </div>
  );
}

function Preview({ template, variablesText, draft }: { template: Template; variablesText: string; draft: Draft }) {
  const { organizationId } = useOrganization();
  const toast = useToast();
  // One pause in typing, in any of the fields, renders once.
  const typed = useMemo(() => ({ variablesText, ...draft }), [variablesText, draft]);
  const debounced = useDebounced(typed, 400);
  const variables = parseObject(debounced.variablesText);
  // Unsaved edits are rendered by the API without being stored; after a save they equal the template again.
  const edits = changedFields(template, debounced);
  const preview = useQuery({
    queryKey: keys.templates.preview(organizationId, template.id, { version: template.updated_at, variables: debounced.variablesText, draft: edits }),
    queryFn: () => unwrap(api.POST('/api/v1/templates/{id}/preview', { params: { path: { id: template.id } }, body: { variables: variables ?? {}, ...edits } })),
    enabled: variables !== null && template.status === 'active',
    placeholderData: (previous) => previous,
    retry: false,
  });
  const sendTest = useMutation({
    // A test goes to the signed-in member's own address, marketing templates included (no subscription needed).
    mutationFn: () => unwrap(api.POST('/api/v1/templates/{id}/test', { params: { path: { id: template.id } }, body: { variables: variables ?? {} } })),
    onSuccess: (sent) => toast.success(`Test email on its way to ${sent.to}, marked [Test]. Without an email provider it lands in the dev mailbox.`),
    onError: (error) => toast.error(describeError(error)),
  });
  const unsaved = Object.keys(changedFields(template, draft)).length > 0;

  if (template.status !== 'active') return <p className="muted">Archived templates are not rendered.</p>;
  return (
    <div className="preview" aria-busy={preview.isFetching || undefined}>
      {variables === null ? <p className="sf-field-error" role="alert">The sample variables are not a JSON object.</p> : null}
      {preview.isPending ? <Loading label="Rendering…" /> : preview.isError ? <PreviewError error={preview.error} /> : (
        <>
          <p className="preview-subject"><span className="muted">Subject:</span> <strong data-testid="preview-subject">{preview.data.subject}</strong></p>
          {/* An empty sandbox: the email's HTML can neither run scripts nor reach this page. */}
          <iframe title="Email preview" sandbox="" srcDoc={preview.data.html} className="preview-frame" />
        </>
      )}
      <div className="form-actions">
        <Button busy={sendTest.isPending} disabled={variables === null} onClick={() => sendTest.mutate()}>Send test to me</Button>
        <span className="muted small">{unsaved ? 'The preview shows your unsaved edits; a test email uses the saved version.' : 'The preview follows your edits as you type.'}</span>
      </div>
    </div>
  );
}

function Editor({ template }: { template: Template }) {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const readOnly = !can('admin') || template.status !== 'active';
  const [draft, setDraft] = useState({
    name: template.name, slug: template.slug, subject: template.subject, category: template.category,
    mjml: template.mjml_content, schema: JSON.stringify(template.variables_schema, null, 2),
  });
  const initialSample = useMemo(() => JSON.stringify(sampleFor(template.variables_schema), null, 2), [template.variables_schema]);
  const [variablesText, setVariablesText] = useState(initialSample);
  const [schemaError, setSchemaError] = useState<string | null>(null);
  const dirty = !readOnly && (draft.name !== template.name || draft.slug !== template.slug || draft.subject !== template.subject
    || draft.category !== template.category || draft.mjml !== template.mjml_content || draft.schema !== JSON.stringify(template.variables_schema, null, 2));
  useUnsavedChangesGuard(dirty);
  const previewDraft = useMemo<Draft>(() => ({ subject: draft.subject, mjml_content: draft.mjml, category: draft.category }), [draft.subject, draft.mjml, draft.category]);
  const save = useMutation({
    mutationFn: (variablesSchema: Record<string, unknown>) => unwrap(api.PATCH('/api/v1/templates/{id}', {
      params: { path: { id: template.id } },
      body: { name: draft.name.trim(), slug: draft.slug.trim(), subject: draft.subject, category: draft.category, mjml_content: draft.mjml, variables_schema: variablesSchema },
    })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.templates.detail(organizationId, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: [...keys.templates.all(organizationId), 'list'] });
      toast.success('Template saved.');
    },
  });
  const archive = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/templates/{id}', { params: { path: { id: template.id } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.templates.all(organizationId) });
      toast.success(`${template.name} archived.`);
      navigate('/templates', { force: true });
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const errors = fieldErrors(save.error);
  const known = ['name', 'slug', 'subject', 'category', 'mjml_content', 'variables_schema'];
  const formError = save.isError && !known.some((f) => errors[f]) ? describeError(save.error) : null;
  const set = (field: keyof typeof draft) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });

  return (
    <Page
      title={template.name}
      description={<><Badge status={template.status} /> <span className="muted">Updated {formatDateTime(template.updated_at)}</span></>}
      back={{ to: '/templates', label: 'Templates' }}
      actions={!readOnly ? (
        <Button variant="danger" busy={archive.isPending} onClick={async () => {
          if (await confirm({ title: `Archive ${template.name}?`, message: 'API calls using its slug will fail until another template takes the slug. Archived templates stay readable.', confirmLabel: 'Archive', danger: true })) archive.mutate();
        }}>Archive</Button>
      ) : null}
    >
      <div className="editor-grid">
        <Section title="Template">
          <form noValidate onSubmit={(e) => {
            e.preventDefault();
            const schema = parseObject(draft.schema);
            if (!schema) {
              setSchemaError('The variables schema must be a JSON object (a JSON Schema).');
              return;
            }
            setSchemaError(null);
            save.mutate(schema);
          }}>
            <fieldset disabled={readOnly} className="fieldset fieldset--plain">
              <div className="grid-2">
                <Field id="tpl-name" label="Name" value={draft.name} onChange={set('name')} error={errors.name} />
                <Field id="tpl-slug" label="Slug" value={draft.slug} onChange={set('slug')} error={errors.slug} hint="What API calls use to pick this template." />
              </div>
              <Field id="tpl-subject" label="Subject" value={draft.subject} onChange={set('subject')} error={errors.subject} />
              <SelectField id="tpl-category" label="Category" value={draft.category} onChange={set('category')} error={errors.category}>
                <option value="transactional">Transactional</option>
                <option value="marketing">Marketing</option>
              </SelectField>
              <TextAreaField id="tpl-mjml" label="MJML" rows={16} spellCheck={false} className="sf-input textarea mono" value={draft.mjml} onChange={set('mjml')} error={errors.mjml_content}
                hint="MJML with Liquid: {{ name }}, {% if … %}. Invalid MJML or Liquid is refused when you save." />
              <TextAreaField id="tpl-schema" label="Variables schema (JSON Schema)" rows={6} spellCheck={false} className="sf-input textarea mono" value={draft.schema} onChange={set('schema')}
                error={schemaError ?? errors.variables_schema} hint="Every send's variables must match it." />
              <FormError message={formError} />
              {!readOnly ? <Button type="submit" variant="primary" busy={save.isPending}>Save template</Button> : null}
            </fieldset>
          </form>
        </Section>
        <Section title="Preview">
          <TextAreaField id="tpl-variables" label="Sample variables (JSON)" rows={4} spellCheck={false} className="sf-input textarea mono" value={variablesText} onChange={(e) => setVariablesText(e.currentTarget.value)} />
          <Preview template={template} variablesText={variablesText} draft={previewDraft} />
        </Section>
      </div>
    </Page>
  );
}

export default function TemplateEditorPage({ params }: { params: Record<string, string> }) {
  const id = params.id!;
  const { organizationId } = useOrganization();
  const template = useQuery({
    queryKey: keys.templates.detail(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/templates/{id}', { params: { path: { id } } })),
  });
  if (template.isPending) return <Page title="Template" back={{ to: '/templates', label: 'Templates' }}><Loading /></Page>;
  if (template.isError) return <Page title="Template" back={{ to: '/templates', label: 'Templates' }}><ErrorState error={template.error} onRetry={() => void template.refetch()} /></Page>;
  return <Editor template={template.data} />;
}
