import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App, routeOf } from '../../preferences/src/App';
import { answer, apiError, calls } from '../support/api';
import { TOKEN } from '../support/fixtures';

const text = (element: HTMLElement) => element.textContent ?? '';

describe('when the link does not work', () => {
  it('offers a fresh link for an expired one, for the organization the link names', async () => {
    answer('GET /api/v1/preference-center', apiError(401, 'token_expired', [{ field: 'token', message: 'expired', organization: 'acme', organization_name: 'Acme News' }]));
    render(<App route={{ page: 'preferences', token: TOKEN, organization: null }} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Get a new link' })).toBeTruthy();
    expect(screen.getByText(/This link has expired/)).toBeTruthy();
    expect(screen.getByText('For emails from Acme News.')).toBeTruthy();

    answer('POST /api/v1/preference-center/request-link', { status: 202, body: { status: 'accepted', message: 'ok' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Email address' }), { target: { value: ' ada@example.com ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send me a new link' }));
    expect(text(await screen.findByText(/a new link is on its way/))).toContain('ada@example.com');
    expect(calls.at(-1)!.body).toEqual({ email: 'ada@example.com', organization: 'acme', locale: 'en' });
  });

  it('marks an invalid address on the field itself and sends nothing', async () => {
    render(<App route={{ page: 'request-link', organization: 'acme' }} />);
    fireEvent.change(screen.getByRole('textbox', { name: 'Email address' }), { target: { value: 'not-an-address' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send me a new link' }));
    const input = screen.getByRole('textbox', { name: 'Email address' });
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(input.getAttribute('aria-describedby')!)?.textContent).toContain('Enter an email address');
    expect(calls).toHaveLength(0);
  });

  it('says when there were too many requests', async () => {
    render(<App route={{ page: 'request-link', organization: 'acme' }} />);
    answer('POST /api/v1/preference-center/request-link', apiError(429, 'rate_limited'));
    fireEvent.change(screen.getByRole('textbox', { name: 'Email address' }), { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send me a new link' }));
    expect(text(await screen.findByRole('alert'))).toContain('Too many attempts');
  });

  it('uses ?org= for a forged link, and asks for an email link when no organization is known', async () => {
    answer('GET /api/v1/preference-center', apiError(401, 'invalid_token'));
    const { unmount } = render(<App route={{ page: 'preferences', token: TOKEN, organization: 'acme' }} />);
    expect(await screen.findByText(/This link does not work/)).toBeTruthy();
    unmount();
    // A broken unsubscribe link lands on /?error=invalid_link&org=acme: the form, saying the link is broken.
    const broken = render(<App route={routeOf({ pathname: '/', search: '?error=invalid_link&org=acme' })} />);
    expect(screen.getByText(/This link does not work/)).toBeTruthy();
    expect(screen.getByRole('textbox', { name: 'Email address' })).toBeTruthy();
    broken.unmount();
    render(<App route={{ page: 'request-link', organization: null }} />);
    expect(screen.getByText(/Open the link in one of our emails/)).toBeTruthy();
    expect(screen.queryByRole('textbox')).toBeNull();
  });
});
