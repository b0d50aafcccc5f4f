import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Button } from '@shared/ui/Button';
import { api, ApiRequestError, describeError, organizationStore, unwrap } from '../../api';
import { formatDateTime } from '../../ui/misc';
import { keys } from '../../keys';
import { Link, navigate, useLocation } from '../../router';

const ROLE_WORDS = { owner: 'an owner (everything, including billing and owners)', admin: 'an admin (manage subscribers, campaigns and settings)', viewer: 'a viewer (look at everything, change nothing)' } as const;
const STATUS_WORDS = {
  pending: '', accepted: 'This invitation was already accepted: sign in instead.', revoked: 'This invitation was withdrawn.', expired: 'This invitation has expired: ask for a new one.',
} as const;

/** Where an invitation link lands. Accepting is an explicit click: link scanners must not accept for anyone. */
export default function AcceptInvitationPage() {
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const queryClient = useQueryClient();
  // What the invitation is for, before anyone accepts: reading it changes nothing.
  const details = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => unwrap(api.POST('/api/v1/invitations/details', { body: { token } })),
    enabled: token !== '',
    retry: false,
  });
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
            {details.data ? (
              <>
                <p>
                  {details.data.invited_by ? <><strong>{details.data.invited_by.name ?? details.data.invited_by.email}</strong> invited you</> : 'You were invited'}
                  {' '}to join <strong>{details.data.organization.name}</strong> as {ROLE_WORDS[details.data.role]}.
                </p>
                <p className="muted small">
                  Accepting signs you in as {details.data.email}. {details.data.status === 'pending' ? `The invitation is valid until ${formatDateTime(details.data.expires_at as string)}.` : null}
                </p>
                {details.data.status !== 'pending' ? <p role="alert" className="form-error">{STATUS_WORDS[details.data.status]}</p> : null}
              </>
            ) : details.isError ? (
              <p role="alert" className="form-error">
                {details.error instanceof ApiRequestError && details.error.code === 'invalid_token' ? 'This invitation link does not work. Ask the person who invited you for a new one.' : describeError(details.error)}
              </p>
            ) : (
              <p>You were invited to an organization on Subscribe Flow. Accepting signs you in with the address the invitation was sent to.</p>
            )}
            {accept.isError ? (
              <div role="alert" className="form-error">
                <p>{describeError(accept.error)}</p>
                <p><Link to="/login">Sign in instead</Link></p>
              </div>
            ) : null}
            {details.isError || (details.data && details.data.status !== 'pending')
              ? <p><Link to="/login">Go to sign-in</Link></p>
              : <Button variant="primary" busy={accept.isPending} onClick={() => accept.mutate()}>{accept.isPending ? 'Accepting…' : 'Accept invitation'}</Button>}
          </>
        )}
      </div>
    </main>
  );
}
