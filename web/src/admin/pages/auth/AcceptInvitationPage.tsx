import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Button } from '@shared/ui/Button';
import { api, describeError, organizationStore, unwrap } from '../../api';
import { keys } from '../../keys';
import { Link, navigate, useLocation } from '../../router';

/** Where an invitation link lands. Accepting is an explicit click: link scanners must not accept for anyone. */
export default function AcceptInvitationPage() {
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const queryClient = useQueryClient();
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/invitations/accept', { body: { token } })),
    onSuccess: async (result) => {
      organizationStore.set(result.organization.id);
      queryClient.removeQueries({ queryKey: ['org'] });
      await queryClient.invalidateQueries({ queryKey: keys.me() });
      navigate('/', { replace: true });
    },
  });
  useEffect(() => {
    document.title = 'Invitation · Subscribe Flow';
  }, []);

  return (
    <main className="auth-page" id="main">
      <div className="auth-card">
        <p className="brand">Subscribe Flow</p>
        <h1>Join an organization</h1>
        {!token ? <p role="alert">This invitation link is incomplete. Ask for a new invitation.</p> : (
          <>
            <p>You were invited to an organization on Subscribe Flow. Accepting signs you in with the address the invitation was sent to.</p>
            {accept.isError ? (
              <div role="alert" className="form-error">
                <p>{describeError(accept.error)}</p>
                <p><Link to="/login">Sign in instead</Link></p>
              </div>
            ) : null}
            <Button variant="primary" busy={accept.isPending} onClick={() => accept.mutate()}>{accept.isPending ? 'Accepting…' : 'Accept invitation'}</Button>
          </>
        )}
      </div>
    </main>
  );
}
