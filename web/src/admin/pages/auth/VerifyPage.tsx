import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, describeError, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link, navigate, useLocation } from '../../router';
import { Loading } from '../../ui/States';

// A link token works once: remember the exchange per token so a re-render (or React's development
// double effects) never spends it twice.
const exchanges = new Map<string, Promise<unknown>>();

/** Where a sign-in link lands: posts the token (a GET would let mail scanners spend it), then enters the app. */
export default function VerifyPage() {
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const next = search.get('next');
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(token ? null : new Error('This sign-in link is incomplete.'));

  useEffect(() => {
    document.title = 'Signing in · Subscribe Flow';
    if (!token) return;
    let exchange = exchanges.get(token);
    if (!exchange) {
      exchange = unwrap(api.POST('/api/v1/auth/verify', { body: { token } }));
      exchanges.set(token, exchange);
    }
    exchange.then(
      async () => {
        await queryClient.invalidateQueries({ queryKey: keys.me() });
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
      },
      (failure: unknown) => setError(failure),
    );
  }, [token, next, queryClient]);

  return (
    <main className="auth-page" id="main">
      <div className="auth-card">
        <p className="brand">Subscribe Flow</p>
        <h1>Signing in</h1>
        {error ? (
          <div role="alert">
            <p>
              <strong>This sign-in link does not work.</strong> {describeError(error)}
            </p>
            <p>
              <Link to="/login">Request a new link</Link>
            </p>
          </div>
        ) : (
          <Loading label="Checking your sign-in link…" />
        )}
      </div>
    </main>
  );
}
