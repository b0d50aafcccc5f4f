import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, fieldErrors, unwrap, type Suppression } from '../../api';
import { keys } from '../../keys';
import { setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError } from '../../ui/Fields';
import { formatDateTime, useDebounced } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';
import { EmailsNav } from './EmailsNav';

const REASONS: Record<Suppression['reason'], string> = {
  hard_bounce: 'Bounced',
  soft_bounce: 'Bounced again and again (3 soft bounces in 30 days)',
  complaint: 'Marked as spam',
  manual: 'Added by hand',
};

function AddSuppression() {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [email, setEmail] = useState('');
  const add = useMutation({
    mutationFn: (address: string) => unwrap(api.POST('/api/v1/suppressions', { body: { email: address } })),
    onSuccess: async (row) => {
      setEmail('');
      await queryClient.invalidateQueries({ queryKey: keys.suppressions.all(organizationId) });
      toast.success(`Nothing will be sent to ${row.email} any more.`);
    },
  });
  const errors = add.isError ? fieldErrors(add.error) : {};
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (email.trim()) add.mutate(email.trim());
  };
  return (
    <Section title="Add an address">
      <form className="inline-form" onSubmit={submit} noValidate>
        <Field
          id="suppress-email"
          label="Email address"
          type="email"
          autoComplete="off"
          maxLength={254}
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={errors.email ?? null}
          hint="No email of any kind goes to a suppressed address, including transactional mail."
        />
        <Button type="submit" variant="primary" busy={add.isPending}>
          Suppress
        </Button>
      </form>
      <FormError message={add.isError && !errors.email ? describeError(add.error) : null} />
    </Section>
  );
}

/** Addresses nothing is sent to: hard bounces and complaints recorded from the provider, and manual entries. */
export default function SuppressionsPage() {
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const { search } = useLocation();
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const typed = useDebounced(text.trim(), 400);
  useEffect(() => {
    if (typed !== q) setSearch({ q: typed || undefined });
  }, [typed, q]);
  const list = useInfiniteQuery({
    queryKey: keys.suppressions.list(organizationId, q),
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/suppressions', { params: { query: { limit: 50, cursor: pageParam, q: q || undefined } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const remove = useMutation({
    mutationFn: (row: Suppression) => unwrap(api.DELETE('/api/v1/suppressions/{id}', { params: { path: { id: row.id } } })),
    onSuccess: async (_r, row) => {
      await queryClient.invalidateQueries({ queryKey: keys.suppressions.all(organizationId) });
      toast.success(`${row.email} can receive email again.`);
    },
    onError: (error) => toast.error(describeError(error)),
  });
  async function askRemove(row: Suppression) {
    const risky = row.reason !== 'manual';
    const ok = await confirm({
      title: `Send to ${row.email} again?`,
      message: risky
        ? `This address ${row.reason === 'complaint' ? 'marked your email as spam' : 'bounced'}. Sending to it again can hurt your sender reputation; remove it only if you know the address works and wants your mail.`
        : 'The address was added by hand. Removing it lets email reach it again.',
      confirmLabel: 'Remove from the list',
      danger: risky,
    });
    if (ok) remove.mutate(row);
  }
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const canWrite = can('admin');

  return (
    <Page title="Emails" description="Addresses that receive no email from this organization.">
      <EmailsNav />
      {canWrite ? <AddSuppression /> : null}
      <form className="filters" role="search" aria-label="Search the suppression list" onSubmit={(e) => e.preventDefault()}>
        <div className="sf-field">
          <label htmlFor="suppression-q" className="sf-field-label">
            Search
          </label>
          <input
            id="suppression-q"
            className="sf-input"
            type="search"
            placeholder="Part of an address"
            maxLength={254}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
          />
        </div>
      </form>
      {list.isPending ? (
        <Loading label="Loading the suppression list…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title={q ? 'No suppressed address matches' : 'No suppressed address'}>
          {q ? 'Try another part of the address.' : 'Addresses that bounce for good or mark your email as spam are added here automatically.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table cards-on-phone">
            <caption className="sf-visually-hidden">Suppressed addresses, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Why</th>
                <th scope="col">Since</th>
                {canWrite ? (
                  <th scope="col">
                    <span className="sf-visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {items.map((row) => (
                <tr key={row.id}>
                  <td data-label="Address">{row.email}</td>
                  <td data-label="Why">{REASONS[row.reason]}</td>
                  <td data-label="Since">
                    <time dateTime={row.created_at}>{formatDateTime(row.created_at)}</time>
                  </td>
                  {canWrite ? (
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="sf-button sf-button--secondary button-small"
                        onClick={() => void askRemove(row)}
                        aria-label={`Remove ${row.email} from the suppression list`}
                      >
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          {list.hasNextPage ? (
            <Button busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
              Load more
            </Button>
          ) : null}
        </div>
      )}
    </Page>
  );
}
