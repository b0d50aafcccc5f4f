import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap } from '../../api';
import { keys } from '../../keys';
import { navigate } from '../../router';
import { useSession } from '../../session';
import { formatDateTime } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { QueryView } from '../../ui/States';

/** The signed-in user: their organizations and their sessions, each revocable (a lost laptop). */
export default function AccountPage() {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const sessions = useQuery({ queryKey: keys.sessions(), queryFn: () => unwrap(api.GET('/api/v1/auth/sessions')) });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/auth/sessions/{id}', { params: { path: { id } } })),
    onSuccess: (_result, id) => {
      if (id === me.session.id) {
        queryClient.clear();
        navigate('/login', { replace: true });
        return;
      }
      toast.success('Session ended.');
      void queryClient.invalidateQueries({ queryKey: keys.sessions() });
    },
    onError: (error) => toast.error(describeError(error)),
  });

  return (
    <Page title="Your account" description={me.user.email}>
      <Section title="Organizations">
        <ul className="plain-list">
          {me.memberships.map((m) => <li key={m.organization.id}>{m.organization.name} <span className="muted">({m.role})</span></li>)}
        </ul>
      </Section>
      <Section title="Sessions">
        <QueryView query={sessions}>
          {(data) => (
            <div className="table-wrap">
              <table className="data-table">
                <caption className="sf-visually-hidden">Your active sessions</caption>
                <thead><tr><th scope="col">Device</th><th scope="col">IP</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col"><span className="sf-visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  {data.items.map((s) => (
                    <tr key={s.id}>
                      <td>{s.user_agent ?? 'Unknown device'} {s.current ? <span className="badge badge--good">this browser</span> : null}</td>
                      <td>{s.ip ?? '—'}</td>
                      <td>{formatDateTime(s.created_at)}</td>
                      <td>{formatDateTime(s.last_seen_at)}</td>
                      <td className="cell-actions">
                        <button
                          type="button"
                          className="sf-button sf-button--secondary button-small"
                          onClick={async () => {
                            const ok = await confirm({
                              title: s.current ? 'Sign out of this browser?' : 'End this session?',
                              message: s.current ? 'You will need a new sign-in link to come back.' : 'That device will be signed out at once.',
                              confirmLabel: s.current ? 'Sign out' : 'End session',
                              danger: true,
                            });
                            if (ok) revoke.mutate(s.id);
                          }}
                        >
                          {s.current ? 'Sign out' : 'Revoke'}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </Section>
    </Page>
  );
}
