import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ConfirmProvider } from '@shared/ui/Confirm';
import { ToastProvider } from '@shared/ui/Toasts';
import { ApiRequestError, api, describeError, fieldErrors, unwrap } from '../../src/admin/api';
import { Shell } from '../../src/admin/layout/Shell';
import { createQueryClient } from '../../src/admin/queryClient';
import { SessionProvider } from '../../src/admin/session';
import { keys } from '../../src/admin/keys';
import { answer, apiError, calls } from '../support/api';
import { me, ORG_A, ORG_B, renderSignedIn } from './helpers';

describe('the shell', () => {
  it('hides the dev mailbox from viewers and marks the current page', () => {
    window.history.replaceState(null, '', '/tags');
    renderSignedIn(<Shell><p>content</p></Shell>, { role: 'viewer' });
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(screen.queryByRole('link', { name: 'Dev mailbox' })).toBeNull();
    expect(nav.querySelector('[aria-current="page"]')?.textContent).toBe('Tags');
    expect(screen.getByRole('link', { name: 'Skip to main content' }).getAttribute('href')).toBe('#main');
  });

  it('switches organization: remembers it, sends it as X-Organization-Id and forgets the old organization\'s data', async () => {
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    queryClient.setQueryData(keys.overview(ORG_A), { cached: true });
    answer('GET /api/v1/auth/me', { status: 200, body: me('admin', [{ id: ORG_A, name: 'Acme' }, { id: ORG_B, name: 'Beta' }]) });
    answer('GET /api/v1/tags', { status: 200, body: { items: [], next_cursor: null } });
    render(
      <QueryClientProvider client={queryClient}>
        <ToastProvider><ConfirmProvider>
          <SessionProvider me={me('admin', [{ id: ORG_A, name: 'Acme' }, { id: ORG_B, name: 'Beta' }])}>{() => <Shell><p>content</p></Shell>}</SessionProvider>
        </ConfirmProvider></ToastProvider>
      </QueryClientProvider>,
    );
    const switcher = screen.getByLabelText('Organization') as HTMLSelectElement;
    expect(switcher.value).toBe(ORG_A);
    fireEvent.change(switcher, { target: { value: ORG_B } });
    expect(window.localStorage.getItem('sf.admin.organization')).toBe(ORG_B);
    expect(queryClient.getQueryData(keys.overview(ORG_A))).toBeUndefined();
    await unwrap(api.GET('/api/v1/tags'));
    expect(calls.at(-1)!.headers['x-organization-id']).toBe(ORG_B);
    expect(calls.at(-1)!.headers['x-requested-with']).toBe('subscribe-flow');
  });
});

describe('API errors', () => {
  it('become ApiRequestError with the code, the field details (in the dashboard\'s words) and the request id', async () => {
    answer('GET /api/v1/tags', apiError(422, 'validation_error', [{ field: 'name', code: 'required', message: 'is required' }]));
    const error = await unwrap(api.GET('/api/v1/tags')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ status: 422, code: 'validation_error', requestId: 'req' });
    expect(fieldErrors(error)).toEqual({ name: 'Fill this in.' });
    expect(describeError(error)).toBe('Name: Fill this in.');
  });

  it('of 401 on any query send the app back through "who am I" (the sign-in page when the session ended)', async () => {
    const queryClient = createQueryClient();
    queryClient.setQueryData(keys.me(), me());
    answer('GET /api/v1/tags', apiError(401, 'invalid_session'));
    function Tags() {
      const tags = useQuery({ queryKey: keys.tags.all(ORG_A), queryFn: () => unwrap(api.GET('/api/v1/tags')) });
      return <p>{tags.status}</p>;
    }
    render(<QueryClientProvider client={queryClient}><Tags /></QueryClientProvider>);
    expect(await screen.findByText('error')).toBeTruthy();
    // The app's "me" query is then refetched; its 401 shows the sign-in page.
    await waitFor(() => expect(queryClient.getQueryState(keys.me())?.isInvalidated).toBe(true));
    expect(calls.map((c) => c.path)).toEqual(['/api/v1/tags']);
  });
});
