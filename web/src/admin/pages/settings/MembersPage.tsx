import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, idempotent, unwrap, type Role } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { useOrganization, useSession } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, formatDate, formatDateTime } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { EmptyState, QueryView } from '../../ui/States';

const ROLES: Role[] = ['viewer', 'admin', 'owner'];
const ROLE_HINT = 'Viewers read, admins change everything but billing and deletion, owners do everything.';

function Members() {
  const { organizationId, can } = useOrganization();
  const { me } = useSession();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const members = useQuery({
    queryKey: keys.members(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/members', { params: { query: { limit: 100 } } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.members(organizationId) });
  const changeRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => unwrap(api.PATCH('/api/v1/members/{id}', { params: { path: { id } }, body: { role } })),
    onSuccess: (m) => {
      void refresh();
      toast.success(`${m.user.email} is now ${m.role}.`);
    },
    onError: (error) => {
      void refresh();
      toast.error(describeError(error));
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/members/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void refresh();
      toast.success('Member removed.');
    },
    onError: (error) => toast.error(describeError(error)),
  });
  return (
    <Section title="Members">
      <QueryView query={members}>
        {(data) => (
          <div className="table-wrap">
            <table className="data-table">
              <caption className="sf-visually-hidden">Members of the organization</caption>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Role</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">Member since</th>
                  {can('admin') ? (
                    <th scope="col">
                      <span className="sf-visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {data.items.map((m) => {
                  const self = m.user.id === me.user.id;
                  return (
                    <tr key={m.id}>
                      <td>
                        {m.user.name ? (
                          <>
                            {m.user.name} <span className="muted">{m.user.email}</span>
                          </>
                        ) : (
                          m.user.email
                        )}{' '}
                        {self ? <span className="badge badge--good">you</span> : null}
                      </td>
                      <td>
                        {can('admin') && !self ? (
                          <>
                            <label htmlFor={`role-${m.id}`} className="sf-visually-hidden">
                              Role of {m.user.email}
                            </label>
                            <select
                              id={`role-${m.id}`}
                              className="sf-input input-compact"
                              value={m.role}
                              onChange={(e) => changeRole.mutate({ id: m.id, role: e.currentTarget.value as Role })}
                            >
                              {ROLES.filter((r) => r !== 'owner' || can('owner') || m.role === 'owner').map((r) => (
                                <option key={r} value={r}>
                                  {r}
                                </option>
                              ))}
                            </select>
                          </>
                        ) : (
                          m.role
                        )}
                      </td>
                      <td>{formatDateTime(m.user.last_login_at)}</td>
                      <td>{formatDate(m.created_at)}</td>
                      {can('admin') ? (
                        <td className="cell-actions">
                          {!self ? (
                            <button
                              type="button"
                              className="sf-button sf-button--danger button-small"
                              aria-label={`Remove ${m.user.email}`}
                              onClick={async () => {
                                if (
                                  await confirm({
                                    title: `Remove ${m.user.email}?`,
                                    message: 'They lose access to this organization at once.',
                                    confirmLabel: 'Remove member',
                                    danger: true,
                                  })
                                )
                                  remove.mutate(m.id);
                              }}
                            >
                              Remove
                            </button>
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </Section>
  );
}

function Invitations() {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const invitations = useQuery({
    queryKey: keys.invitations(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/invitations', { params: { query: { limit: 100, status: 'pending' } } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.invitations(organizationId) });
  const invite = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/invitations', { body: { email: email.trim(), role }, ...idempotent() })),
    onSuccess: (i) => {
      setEmail('');
      void refresh();
      toast.success(`Invitation sent to ${i.email}.`);
    },
  });
  const resend = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/invitations/{id}/resend', { params: { path: { id } } })),
    onSuccess: (i) => {
      void refresh();
      toast.success(`Invitation sent to ${i.email} again.`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/invitations/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void refresh();
      toast.success('Invitation revoked.');
    },
    onError: (error) => toast.error(describeError(error)),
  });
  const errors = fieldErrors(invite.error);
  return (
    <Section title="Invitations">
      <form
        className="inline-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          invite.mutate();
        }}
      >
        <Field id="invite-email" label="Email address" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.email} />
        <SelectField id="invite-role" label="Role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} error={errors.role} hint={ROLE_HINT}>
          {ROLES.filter((r) => r !== 'owner' || can('owner')).map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </SelectField>
        <Button type="submit" variant="primary" busy={invite.isPending}>
          Send invitation
        </Button>
        <FormError message={invite.isError && !errors.email && !errors.role ? describeError(invite.error) : null} />
      </form>
      <QueryView query={invitations}>
        {(data) =>
          data.items.length === 0 ? (
            <EmptyState title="No open invitations" />
          ) : (
            <div className="table-wrap">
              <table className="data-table">
                <caption className="sf-visually-hidden">Open invitations</caption>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    <th scope="col">
                      <span className="sf-visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((i) => (
                    <tr key={i.id}>
                      <td>{i.email}</td>
                      <td>{i.role}</td>
                      <td>
                        <Badge status={i.status} />
                      </td>
                      <td>{formatDateTime(i.expires_at)}</td>
                      <td className="cell-actions">
                        <button
                          type="button"
                          className="sf-button sf-button--secondary button-small"
                          aria-label={`Resend the invitation to ${i.email}`}
                          onClick={() => resend.mutate(i.id)}
                        >
                          Resend
                        </button>
                        <button
                          type="button"
                          className="sf-button sf-button--danger button-small"
                          aria-label={`Revoke the invitation to ${i.email}`}
                          onClick={async () => {
                            if (
                              await confirm({
                                title: `Revoke the invitation to ${i.email}?`,
                                message: 'The link in their email stops working.',
                                confirmLabel: 'Revoke invitation',
                                danger: true,
                              })
                            )
                              revoke.mutate(i.id);
                          }}
                        >
                          Revoke
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </Section>
  );
}

export default function MembersPage() {
  const { can } = useOrganization();
  return (
    <Page title="Settings">
      <SettingsNav />
      <Members />
      {can('admin') ? <Invitations /> : null}
    </Page>
  );
}
