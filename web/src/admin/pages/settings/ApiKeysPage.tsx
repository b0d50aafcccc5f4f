import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { Dialog } from '@shared/ui/Dialog';
import { useToast } from '@shared/ui/Toasts';
import { api, ApiRequestError, describeError, fieldErrors, idempotent, unwrap, type ApiKey, type Scope } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { useOrganization } from '../../session';
import { Checkbox, Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, CopyButton, formatDateTime } from '../../ui/misc';
import { Page } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';

// The scopes a key may hold, grouped as the API reference groups them.
const SCOPE_GROUPS: [string, Scope[]][] = [
  ['Subscribers', ['subscribers:read', 'subscribers:write', 'subscribers:delete']],
  ['Tags', ['tags:read', 'tags:write']],
  ['Templates and email', ['templates:read', 'templates:write', 'emails:send']],
  ['Campaigns and automations', ['campaigns:read', 'campaigns:write', 'triggers:read', 'triggers:write', 'events:write']],
  ['Administration', ['webhooks:read', 'webhooks:manage', 'api-keys:manage']],
];

function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (key: string, name: string) => void }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState<'live' | 'test'>('live');
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(['subscribers:read', 'subscribers:write', 'tags:read']));
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/api-keys', { body: { name: name.trim(), environment, scopes: [...scopes] }, ...idempotent() })),
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: keys.apiKeys(organizationId) });
      onCreated(created.key, created.name);
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <Dialog open title="New API key" onClose={onClose} wide>
      <form noValidate onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <div className="grid-2">
          <Field id="key-name" label="Name" required maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} hint="Where it is used, e.g. Website backend." data-autofocus />
          <SelectField id="key-environment" label="Environment" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value as 'live' | 'test')}>
            <option value="live">Live (sf_live_…)</option>
            <option value="test">Test (sf_test_…)</option>
          </SelectField>
        </div>
        <fieldset className="fieldset">
          <legend>Scopes</legend>
          <div className="scope-groups">
            {SCOPE_GROUPS.map(([group, list]) => (
              <div key={group} className="scope-group">
                <p className="scope-group-title">{group}</p>
                {list.map((scope) => (
                  <Checkbox key={scope} id={`scope-${scope}`} label={scope} checked={scopes.has(scope)} onChange={(e) => {
                    const next = new Set(scopes);
                    if (e.currentTarget.checked) next.add(scope);
                    else next.delete(scope);
                    setScopes(next);
                  }} />
                ))}
              </div>
            ))}
          </div>
          {errors.scopes ? <p className="sf-field-error">{errors.scopes}</p> : null}
        </fieldset>
        <FormError message={create.isError && !errors.name && !errors.scopes ? describeError(create.error) : null} />
        <div className="sf-dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending} disabled={scopes.size === 0}>Create key</Button>
        </div>
      </form>
    </Dialog>
  );
}

export default function ApiKeysPage() {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const [revealed, setRevealed] = useState<{ key: string; name: string } | null>(null);
  const list = useInfiniteQuery({
    queryKey: keys.apiKeys(organizationId),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/api-keys', { params: { query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: can('admin'),
  });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: key.id } } })),
    onSuccess: (_r, key) => {
      void queryClient.invalidateQueries({ queryKey: keys.apiKeys(organizationId) });
      toast.success(`Key ${key.name} revoked.`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  if (!can('admin')) return <Page title="Settings"><SettingsNav /><ErrorState error={new ApiRequestError(403, undefined)} /></Page>;
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <Page title="Settings">
      <SettingsNav />
      <div className="page-header page-header--sub">
        <h2>API keys</h2>
        <Button variant="primary" onClick={() => setCreating(true)}>New API key</Button>
      </div>
      {list.isPending ? <Loading label="Loading keys…" /> : list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> : items.length === 0 ? (
        <EmptyState title="No API keys">Keys let your servers call the API with exactly the scopes they need.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">API keys</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col">Created</th><th scope="col"><span className="sf-visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} className={k.revoked_at ? 'row-muted' : undefined}>
                  <td>{k.name} {k.revoked_at ? <Badge status="revoked" /> : null}</td>
                  <td><code>{k.key_prefix}…</code></td>
                  <td><ul className="chips">{k.scopes.map((s) => <li key={s} className="chip chip--mono">{s}</li>)}</ul></td>
                  <td>{k.last_used_at ? formatDateTime(k.last_used_at) : 'Never'}</td>
                  <td>{formatDateTime(k.created_at)}</td>
                  <td className="cell-actions">
                    {!k.revoked_at ? (
                      <button type="button" className="sf-button sf-button--danger button-small" aria-label={`Revoke ${k.name}`} onClick={async () => {
                        if (await confirm({ title: `Revoke ${k.name}?`, message: 'Every request made with this key fails from now on. This cannot be undone.', confirmLabel: 'Revoke key', danger: true })) revoke.mutate(k);
                      }}>Revoke</button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.hasNextPage ? <Button busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>Load more</Button> : null}
        </div>
      )}
      {creating ? <CreateKeyDialog onClose={() => setCreating(false)} onCreated={(key, name) => { setCreating(false); setRevealed({ key, name }); }} /> : null}
      <Dialog open={revealed !== null} title={`Your new key: ${revealed?.name ?? ''}`} onClose={() => setRevealed(null)}
        description="Copy it now and keep it somewhere safe. It is shown only this once."
        footer={<Button variant="primary" onClick={() => setRevealed(null)}>I have copied it</Button>}>
        <div className="secret-row">
          <code className="secret" data-testid="new-api-key">{revealed?.key}</code>
          {revealed ? <CopyButton value={revealed.key} label="Copy the API key" /> : null}
        </div>
      </Dialog>
    </Page>
  );
}
