import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../../preferences/src/App';
import { answer, apiError, calls } from '../support/api';
import { preferenceView, TOKEN } from '../support/fixtures';

const info = {
  organization: preferenceView().organization,
  email: 'new@example.com',
  status: 'pending',
  topics: ['News', 'Offers'],
  consent: { en: 'Yes, send me emails.', de: 'Ja, senden Sie mir E-Mails.' },
};

describe('the confirmation page', () => {
  it('shows who asks, the topics and the consent wording, and confirms only on the click', async () => {
    answer('GET /api/v1/public/confirmation', { status: 200, body: info });
    render(<App route={{ page: 'confirm', token: TOKEN }} />);
    expect(await screen.findByText('Yes, send me emails.')).toBeTruthy();
    expect(screen.getByRole('list').textContent).toBe('NewsOffers');
    expect(calls.map((c) => c.method)).toEqual(['GET']);

    answer('POST /api/v1/public/confirm', { status: 200, body: { status: 'active', preferences_url: 'https://prefs.example/preferences/?token=fresh' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm subscription' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'You are subscribed' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Manage your preferences' }).getAttribute('href')).toBe('https://prefs.example/preferences/?token=fresh');
    expect(calls.at(-1)!.body).toEqual({ token: TOKEN, locale: 'en' });
  });

  it('shows and records the wording in the chosen language', async () => {
    window.localStorage.setItem('sf-locale', 'de');
    answer('GET /api/v1/public/confirmation', { status: 200, body: info });
    render(<App route={{ page: 'confirm', token: TOKEN }} />);
    expect(await screen.findByText('Ja, senden Sie mir E-Mails.')).toBeTruthy();
    answer('POST /api/v1/public/confirm', { status: 200, body: { status: 'active', preferences_url: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Abonnement bestätigen' }));
    await screen.findByRole('heading', { name: 'Sie sind angemeldet' });
    expect(calls.at(-1)!.body).toEqual({ token: TOKEN, locale: 'de' });
  });

  it('explains an expired confirmation link', async () => {
    answer('GET /api/v1/public/confirmation', apiError(401, 'token_expired'));
    render(<App route={{ page: 'confirm', token: TOKEN }} />);
    expect((await screen.findByRole('alert')).textContent).toContain('expired');
  });
});
