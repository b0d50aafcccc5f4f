import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { TextField } from '@shared/ui/TextField';
import { api, ApiRequestError, describeError, fieldErrors, unwrap } from '../../api';
import { FormError } from '../../ui/Fields';

/** Sign-in by magic link: the same answer whether or not the address has an account. */
export function LoginPage() {
  const [email, setEmail] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const request = useMutation({
    mutationFn: (address: string) => unwrap(api.POST('/api/v1/auth/magic-link', { body: { email: address } })),
  });
  useEffect(() => {
    document.title = 'Sign in · Subscribe Flow';
    heading.current?.focus({ preventScroll: true });
  }, []);
  const errors = fieldErrors(request.error);
  const formError =
    request.error && !errors.email
      ? request.error instanceof ApiRequestError && request.error.status === 429
        ? 'Too many sign-in requests. Wait a while, then try again.'
        : describeError(request.error)
      : null;

  return (
    <main className="auth-page" id="main">
      <div className="auth-card">
        <p className="brand">Subscribe Flow</p>
        <h1 ref={heading} tabIndex={-1}>
          Sign in
        </h1>
        {request.isSuccess ? (
          <div role="status">
            <p>
              <strong>Check your inbox.</strong> {request.data.message}
            </p>
            {/* Only where mail really stays in the dev mailbox: elsewhere the hint would send people looking in the wrong place. */}
            {request.data.dev_mailbox ? <p className="muted">No email provider is configured: the link is in the dev mailbox and in the API's log.</p> : null}
            <Button variant="link" onClick={() => request.reset()}>
              Use another address
            </Button>
          </div>
        ) : (
          <form
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              if (!request.isPending) request.mutate(email.trim());
            }}
          >
            <p className="muted">We email you a link that signs you in. No password needed.</p>
            <TextField
              id="login-email"
              label="Email address"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={errors.email ?? null}
            />
            <FormError message={formError} />
            <Button type="submit" variant="primary" busy={request.isPending}>
              {request.isPending ? 'Sending…' : 'Email me a sign-in link'}
            </Button>
          </form>
        )}
      </div>
    </main>
  );
}
