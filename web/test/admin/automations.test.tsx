import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import AutomationDetailPage from '../../src/admin/pages/automations/AutomationDetailPage';
import AutomationsPage from '../../src/admin/pages/automations/AutomationsPage';
import { answer, apiError, calls } from '../support/api';
import { renderSignedIn, tag } from './helpers';

const ID = '01900000-0000-7000-8000-0000000000a1';
const WELCOME = '01900000-0000-7000-8000-0000000000e1';
const page = (items: unknown[]) => ({ status: 200, body: { items, next_cursor: null } });

function automation(overrides: Record<string, unknown> = {}) {
  return {
    id: ID, name: 'Welcome series', event: 'subscriber.created', tag_id: null, template_id: WELCOME, delay_seconds: 0, conditions: null,
    steps: [{ type: 'send_email', template_id: WELCOME }], reentry: 'never', is_active: false, version: 1,
    created_at: '2026-12-01T10:00:00.000Z', updated_at: '2026-12-01T10:00:00.000Z', ...overrides,
  };
}
const templates = page([{ id: WELCOME, name: 'Welcome', slug: 'welcome', category: 'marketing' }, { id: '01900000-0000-7000-8000-0000000000e2', name: 'Receipt', slug: 'receipt', category: 'transactional' }]);
const counts = { status: 200, body: { version: 1, runs: { active: 3, completed: 10, exited: 2 }, steps: [{ index: 0, type: 'send_email', entered: 15, waiting: 0, completed: 13, exited: 2, exit_reasons: { unsubscribed: 2 } }] } };

function showEditor(role: 'owner' | 'viewer' = 'owner', overrides: Record<string, unknown> = {}) {
  answer(`GET /api/v1/triggers/${ID}`, { status: 200, body: automation(overrides) });
  answer(`GET /api/v1/triggers/${ID}/steps`, counts);
  answer('GET /api/v1/templates', templates);
  answer('GET /api/v1/tags', page([tag('Customers')]));
  return renderSignedIn(<AutomationDetailPage params={{ id: ID }} />, { role });
}

describe('the automations list', () => {
  it('shows each automation with its state and its steps in words', async () => {
    answer('GET /api/v1/triggers', page([automation({ is_active: true, steps: [{ type: 'send_email', template_id: WELCOME }, { type: 'delay', seconds: 172_800 }, { type: 'exit' }] })]));
    renderSignedIn(<AutomationsPage />);
    const row = (await screen.findByRole('link', { name: 'Welcome series' })).closest('tr')!;
    expect(within(row).getByText('active')).toBeTruthy();
    expect(within(row).getByText('send email → wait 2 days → exit')).toBeTruthy();
    expect(within(row).getByText('A subscriber is added')).toBeTruthy();
  });
});

describe('the automation editor', () => {
  it('shows per-step counts, adds a wait in days and saves the steps in seconds', async () => {
    showEditor();
    expect(await screen.findByText(/entered 15 · waiting 0 · completed 13 · exited 2 \(unsubscribed: 2\)/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Add a step'), { target: { value: 'delay' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    fireEvent.change(screen.getByLabelText('Wait for'), { target: { value: '3' } });
    expect((screen.getByLabelText('Unit') as HTMLSelectElement).value).toBe('days');
    answer(`PATCH /api/v1/triggers/${ID}`, { status: 200, body: automation({ version: 2 }) });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    const saved = calls.find((c) => c.method === 'PATCH')!;
    expect(saved.body).toEqual({ name: 'Welcome series', steps: [{ type: 'send_email', template_id: WELCOME }, { type: 'delay', seconds: 259_200 }] });
    expect(await screen.findByText(/Saved as version 2/)).toBeTruthy();
  });

  it('activates a paused automation, and shows the field the API refuses', async () => {
    showEditor();
    answer(`POST /api/v1/triggers/${ID}/activate`, { status: 200, body: automation({ is_active: true }) });
    fireEvent.click(await screen.findByRole('button', { name: 'Activate' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path.endsWith('/activate'))).toBe(true));

    fireEvent.change(screen.getByLabelText('Template'), { target: { value: '' } });
    answer(`PATCH /api/v1/triggers/${ID}`, apiError(422, 'invalid_automation', [{ field: 'steps.0.template_id', message: 'no such template' }]));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('no such template')).toBeTruthy();
  });

  it('lets a viewer read but not change', async () => {
    showEditor('viewer');
    await screen.findByText(/entered 15/);
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Activate' })).toBeNull();
    expect((screen.getByLabelText('Template') as HTMLSelectElement).disabled).toBe(true);
  });
});
