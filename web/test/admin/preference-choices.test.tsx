import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import TagsPage from '../../src/admin/pages/TagsPage';
import { groupForOrder } from '../../src/admin/pages/TopicOrderDialog';
import PreferenceCenterSettingsPage from '../../src/admin/pages/settings/PreferenceCenterSettingsPage';
import OrganizationSettingsPage from '../../src/admin/pages/settings/OrganizationSettingsPage';
import type { Tag } from '../../src/admin/api';
import { answer, calls } from '../support/api';
import { renderSignedIn, tag } from './helpers';

afterEach(() => vi.unstubAllGlobals());

const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const TAGS = [
  tag('Weekly digest', { id: id(1), category: 'Newsletters', position: 0 }),
  tag('Product updates', { id: id(2), category: 'Product', position: 1 }),
  tag('Breaking news', { id: id(3), category: 'Newsletters', position: 2 }),
  tag('Events', { id: id(4), category: null, position: 3 }),
  tag('Internal', { id: id(5), is_public: false, position: 4 }),
] as Tag[];

describe('the order of topics in the preference center', () => {
  it('groups public topics like the preference center: categories by their first topic, no category last', () => {
    expect(groupForOrder(TAGS).map((g) => [g.category, g.topics.map((t) => t.name)])).toEqual([
      ['Newsletters', ['Weekly digest', 'Breaking news']],
      ['Product', ['Product updates']],
      [null, ['Events']],
    ]);
  });

  it('moves categories and topics with buttons and saves the whole order at once', async () => {
    answer('GET /api/v1/tags', { status: 200, body: { items: TAGS, next_cursor: null } });
    answer('PUT /api/v1/tags/order', { status: 200, body: { updated: 3 } });
    renderSignedIn(<TagsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Order in preference center' }));
    const dialog = await screen.findByRole('dialog', { name: 'Order in the preference center' });
    await within(dialog).findByText('Newsletters');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Move category Product up' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Move Breaking news up' }));
    expect(within(dialog).getByRole('status').textContent).toBe('Breaking news moved up.');
    // Topics without a category stay last: the category above them cannot move below.
    expect((within(dialog).getByRole('button', { name: 'Move category Newsletters down' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save order' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({ tag_ids: [id(2), id(3), id(1), id(4)] });
  });
});

describe('German topic names', () => {
  it('are edited beside the name and sent as translations, keeping other languages', async () => {
    const digest = tag('Weekly digest', { id: id(1), translations: { en: { name: 'Weekly digest (EN)', description: null } } }) as Tag;
    answer('GET /api/v1/tags', { status: 200, body: { items: [digest], next_cursor: null } });
    answer('PATCH /api/v1/tags/' + id(1), { status: 200, body: digest });
    renderSignedIn(<TagsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Weekly digest' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('German description'), { target: { value: 'Jeden Montag' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save tag' }));
    expect(await within(dialog).findByText('Give the German name too, or leave both German fields empty.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.change(within(dialog).getByLabelText('German name'), { target: { value: 'Wochenbrief' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save tag' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect((calls.find((c) => c.method === 'PATCH')!.body as { translations: unknown }).translations).toEqual({
      en: { name: 'Weekly digest (EN)', description: null },
      de: { name: 'Wochenbrief', description: 'Jeden Montag' },
    });
  });
});

const SETTINGS = { texts: {}, logo_url: null, accent_color: null, double_opt_in: true, embed_origins: [], form_origins: [], locale: 'en' };

describe('the preview of the preference center', () => {
  it('opens the read-only preview link in a new tab and lists both links', async () => {
    const tab = { opener: {}, location: { href: 'about:blank' }, close: vi.fn() };
    const open = vi.fn(() => tab);
    vi.stubGlobal('open', open);
    answer('GET /api/v1/settings/preference-center', { status: 200, body: SETTINGS });
    answer('POST /api/v1/settings/preference-center/preview', {
      status: 200,
      body: { url: 'https://prefs.example/?token=p', unsubscribe_url: 'https://prefs.example/?token=p&view=unsubscribe', expires_at: '2030-01-01T00:00:00Z' },
    });
    renderSignedIn(<PreferenceCenterSettingsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Preview the unsubscribe card' }));
    await waitFor(() => expect(tab.location.href).toBe('https://prefs.example/?token=p&view=unsubscribe'));
    expect(open).toHaveBeenCalledWith('about:blank', '_blank');
    expect(tab.opener).toBeNull();
    expect((await screen.findByRole('link', { name: 'preference center' })).getAttribute('href')).toBe('https://prefs.example/?token=p');
  });
});

describe('privacy and imprint links', () => {
  const ORG = {
    id: id(9),
    name: 'Acme',
    slug: 'acme',
    status: 'active',
    locale: 'en',
    timezone: 'UTC',
    sending_window: null,
    postal_address: 'Main St 1',
    email_from_name: null,
    email_from_address: null,
    email_reply_to: null,
    privacy_url: null,
    imprint_url: null,
    tracking_enabled: true,
    tracking_privacy: false,
    plan: 'free',
    created_at: '2026-11-01T10:00:00.000Z',
    updated_at: '2026-11-01T10:00:00.000Z',
  };

  it('must be https, said before saving; valid ones are saved', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: ORG });
    answer('PATCH /api/v1/organizations/current', { status: 200, body: { ...ORG, privacy_url: 'https://acme.example/privacy' } });
    renderSignedIn(<OrganizationSettingsPage />);
    const privacy = await screen.findByLabelText('Privacy policy page');
    fireEvent.change(privacy, { target: { value: 'http://acme.example/privacy' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save organization' }));
    expect(await screen.findByText('Enter a full address starting with https://, like https://example.com/privacy.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.change(privacy, { target: { value: 'https://acme.example/privacy' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save organization' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(calls.find((c) => c.method === 'PATCH')!.body).toMatchObject({ privacy_url: 'https://acme.example/privacy', imprint_url: null });
  });
});
