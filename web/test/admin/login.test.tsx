import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { LoginPage } from '../../src/admin/pages/auth/LoginPage';
import { answer, calls } from '../support/api';

const HINT = /No email provider is configured/;

async function requestLink(devMailbox: boolean) {
  answer('POST /api/v1/auth/magic-link', {
    status: 202,
    body: { message: 'If the address has an account, a sign-in link is on its way.', dev_mailbox: devMailbox },
  });
  render(
    <QueryClientProvider client={new QueryClient()}>
      <LoginPage />
    </QueryClientProvider>,
  );
  fireEvent.change(screen.getByLabelText('Email address'), { target: { value: 'ada@example.com' } });
  fireEvent.click(screen.getByRole('button', { name: 'Email me a sign-in link' }));
  await screen.findByText('Check your inbox.');
  expect(calls.at(-1)?.body).toEqual({ email: 'ada@example.com' });
}

describe('the sign-in page', () => {
  it('points at the dev mailbox only when the API says mail stays there', async () => {
    await requestLink(true);
    expect(screen.getByText(HINT)).toBeTruthy();
  });

  it('says nothing about a dev mailbox when a real provider sends the link', async () => {
    await requestLink(false);
    expect(screen.queryByText(HINT)).toBeNull();
  });
});
