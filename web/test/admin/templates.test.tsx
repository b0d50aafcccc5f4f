import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import TemplateEditorPage from '../../src/admin/pages/templates/TemplateEditorPage';
import { answer, apiError, calls, type Call } from '../support/api';
import { renderSignedIn } from './helpers';

const ID = '01900000-0000-7000-8000-0000000000t1';
const mjml = (text: string) => `<mjml><mj-body><mj-section><mj-column><mj-text>${text}</mj-text></mj-column></mj-section></mj-body></mjml>`;
const TEMPLATE = {
  id: ID,
  name: 'Welcome',
  slug: 'welcome',
  category: 'transactional',
  subject: 'Hi {{ name }}',
  mjml_content: mjml('Saved words'),
  variables_schema: { type: 'object', properties: { name: { type: 'string' } } },
  status: 'active',
  archived_at: null,
  created_at: '2026-11-01T10:00:00.000Z',
  updated_at: '2026-11-01T10:00:00.000Z',
};
const PREVIEW = `POST /api/v1/templates/${ID}/preview`;
const previewCalls = () => calls.filter((c) => c.method === 'POST' && c.path === `/api/v1/templates/${ID}/preview`);

// A stand-in renderer: the subject with the sample name, and the MJML it was given (the draft, or the saved one).
function render(call: Call) {
  const body = call.body as { variables: { name?: string }; subject?: string; mjml_content?: string };
  const subject = (body.subject ?? TEMPLATE.subject).replace('{{ name }}', body.variables.name ?? '');
  return { status: 200, body: { subject, html: `<p>${body.mjml_content ?? TEMPLATE.mjml_content}</p>`, text: '' } };
}
const frame = () => screen.getByTitle('Email preview').getAttribute('srcdoc');

describe('the template editor', () => {
  it('previews what is typed after a pause, without saving it', async () => {
    answer(`GET /api/v1/templates/${ID}`, { status: 200, body: TEMPLATE });
    answer(PREVIEW, render);
    renderSignedIn(<TemplateEditorPage params={{ id: ID }} />, { role: 'admin' });
    await waitFor(() => expect(screen.getByTestId('preview-subject').textContent).toBe('Hi Example name'));
    expect(frame()).toContain('Saved words');
    // The saved template previews as stored: no draft fields are sent.
    expect(previewCalls()[0]!.body).toEqual({ variables: { name: 'Example name' } });

    fireEvent.change(screen.getByLabelText('MJML'), { target: { value: mjml('Fresh') } });
    fireEvent.change(screen.getByLabelText('MJML'), { target: { value: mjml('Fresh words') } });
    fireEvent.change(screen.getByLabelText('Subject'), { target: { value: 'Hello {{ name }}' } });
    // Nothing is asked before the pause (400 ms) is over.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(previewCalls()).toHaveLength(1);
    await waitFor(() => expect(frame()).toContain('Fresh words'));
    expect(screen.getByTestId('preview-subject').textContent).toBe('Hello Example name');
    // One render for the pause, carrying only what changed.
    expect(
      previewCalls()
        .slice(1)
        .map((c) => c.body),
    ).toEqual([{ variables: { name: 'Example name' }, subject: 'Hello {{ name }}', mjml_content: mjml('Fresh words') }]);
    expect(screen.getByText('The preview shows your unsaved edits; a test email uses the saved version.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'PATCH')).toEqual([]);
  });

  it('shows the fields the API names when the draft does not render, and recovers when it does', async () => {
    answer(`GET /api/v1/templates/${ID}`, { status: 200, body: TEMPLATE });
    answer(PREVIEW, render, apiError(422, 'template_invalid_mjml', [{ field: 'mjml_content', message: 'line 1: Attribute colour is illegal' }]), render);
    renderSignedIn(<TemplateEditorPage params={{ id: ID }} />, { role: 'admin' });
    await waitFor(() => expect(frame()).toContain('Saved words'));

    fireEvent.change(screen.getByLabelText('MJML'), { target: { value: '<mjml><mj-body><mj-text colour="red">x</mj-text></mj-body></mjml>' } });
    const alert = (await screen.findByText('The preview could not be rendered')).closest<HTMLElement>('[role="alert"]')!;
    expect(alert.textContent).toContain('mjml_content: line 1: Attribute colour is illegal');

    fireEvent.change(screen.getByLabelText('MJML'), { target: { value: mjml('Fixed') } });
    await waitFor(() => expect(frame()).toContain('Fixed'));
    expect(screen.queryByText('The preview could not be rendered')).toBeNull();
  });
});
