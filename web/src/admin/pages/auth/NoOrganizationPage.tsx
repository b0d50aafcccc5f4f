import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { TextField } from '@shared/ui/TextField';
import { api, describeError, fieldErrors, idempotent, organizationStore, unwrap } from '../../api';
import { keys } from '../../keys';
import { FormError } from '../../ui/Fields';

/** Signed in, but a member of no organization: create one (or wait for an invitation). */
export default function NoOrganizationPage() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/organizations', { body: { name: name.trim() }, ...idempotent() })),
    onSuccess: async (organization) => {
      organizationStore.set(organization.id);
      await queryClient.invalidateQueries({ queryKey: keys.me() });
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <main className="auth-page" id="main">
      <div className="auth-card">
        <p className="brand">Subscribe Flow</p>
        <h1>Create your organization</h1>
        <p className="muted">You are not a member of any organization yet. Create one, or open the invitation someone sent you.</p>
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <TextField
            id="org-name"
            label="Organization name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.name ?? null}
          />
          <FormError message={create.isError && !errors.name ? describeError(create.error) : null} />
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create organization
          </Button>
        </form>
      </div>
    </main>
  );
}
