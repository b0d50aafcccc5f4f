import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { useOrganization } from '../../session';
import { formatDateTime, formatNumber } from '../../ui/misc';
import { Checkbox, Field, FormError, SelectField } from '../../ui/Fields';
import { QueryView } from '../../ui/States';

type Campaign = ResponseOf<'/api/v1/campaigns/{id}', 'get'>;
type AbTestSettings = NonNullable<Campaign['ab_test']>;
type Variant = AbTestSettings['variants'][number];
type Results = ResponseOf<'/api/v1/campaigns/{id}/ab-test', 'get'>;

const LETTERS = ['A', 'B', 'C', 'D'];
const DEFAULT_TEST: AbTestSettings = {
  variants: [{}, {}],
  test_share: 20,
  metric: 'human_unique_clicks',
  wait_hours: 4,
  winner: 'auto',
};
const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;

/** Drops empty fields, so a variant without a change sends the campaign's own value. */
function cleanVariant(v: Variant): Variant {
  return Object.fromEntries(Object.entries(v).filter(([, value]) => typeof value === 'string' && value.trim() !== '')) as Variant;
}

/**
 * The composer's A/B setup: 2 to 4 variants of subject, sender name or template; share, metric, wait and
 * winner. (The API also takes a preheader per variant.)
 */
export function AbTestEditor({ campaign, disabled }: { campaign: Campaign; disabled: boolean }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [enabled, setEnabled] = useState(Boolean(campaign.ab_test));
  const [test, setTest] = useState<AbTestSettings>(campaign.ab_test ?? DEFAULT_TEST);
  const templates = useQuery({
    queryKey: keys.templates.list(organizationId, 'active'),
    queryFn: () => unwrap(api.GET('/api/v1/templates', { params: { query: { limit: 100 } } })),
    enabled,
  });
  const marketing = (templates.data?.items ?? []).filter((t) => t.category === 'marketing');
  const save = useMutation({
    mutationFn: (ab_test: AbTestSettings | null) => unwrap(api.PATCH('/api/v1/campaigns/{id}', { params: { path: { id: campaign.id } }, body: { ab_test } })),
    onSuccess: async (_, abTest) => {
      await queryClient.invalidateQueries({ queryKey: keys.campaigns.detail(organizationId, campaign.id) });
      toast.success(abTest ? 'A/B test saved.' : 'A/B test removed.');
    },
  });
  const setVariant = (index: number, change: Partial<Variant>) =>
    setTest((t) => ({ ...t, variants: t.variants.map((v, i) => (i === index ? { ...v, ...change } : v)) }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(enabled ? { ...test, variants: test.variants.map(cleanVariant) } : null);
  };
  return (
    <form noValidate onSubmit={submit} className="stack">
      <Checkbox
        id="ab-enabled"
        label="Test variants before sending to everyone"
        hint="A share of the audience gets one of 2 to 4 variants; the best one goes to the rest."
        checked={enabled}
        disabled={disabled}
        onChange={(e) => setEnabled(e.currentTarget.checked)}
      />
      {enabled ? (
        <>
          {test.variants.map((v, index) => (
            <fieldset key={index} className="stack">
              <legend>Variant {LETTERS[index]}</legend>
              <Field
                id={`ab-subject-${index}`}
                label={`Subject of variant ${LETTERS[index]}`}
                hint="Empty: the campaign's subject"
                maxLength={500}
                value={v.subject ?? ''}
                disabled={disabled}
                onChange={(e) => setVariant(index, { subject: e.currentTarget.value })}
              />
              <Field
                id={`ab-from-${index}`}
                label={`Sender name of variant ${LETTERS[index]}`}
                hint="Empty: the campaign's sender name"
                maxLength={200}
                value={v.from_name ?? ''}
                disabled={disabled}
                onChange={(e) => setVariant(index, { from_name: e.currentTarget.value })}
              />
              <SelectField
                id={`ab-template-${index}`}
                label={`Template of variant ${LETTERS[index]}`}
                value={v.template_id ?? ''}
                disabled={disabled}
                error={templates.isError ? 'The templates could not be loaded.' : null}
                onChange={(e) => setVariant(index, { template_id: e.currentTarget.value })}
              >
                <option value="">The campaign's template</option>
                {marketing.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </SelectField>
              {test.variants.length > 2 ? (
                <Button disabled={disabled} onClick={() => setTest((t) => ({ ...t, variants: t.variants.filter((_, i) => i !== index) }))}>
                  Remove variant {LETTERS[index]}
                </Button>
              ) : null}
            </fieldset>
          ))}
          {test.variants.length < 4 ? (
            <Button disabled={disabled} onClick={() => setTest((t) => ({ ...t, variants: [...t.variants, {}] }))}>
              Add a variant
            </Button>
          ) : null}
          <Field
            id="ab-share"
            type="number"
            label="Test share (%)"
            hint="5 to 50 % of the audience, split evenly across the variants"
            min={5}
            max={50}
            value={test.test_share}
            disabled={disabled}
            onChange={(e) => {
              const value = e.currentTarget.value;
              setTest((t) => ({ ...t, test_share: Number(value) }));
            }}
          />
          <SelectField
            id="ab-metric"
            label="The winner has the most"
            value={test.metric}
            disabled={disabled}
            onChange={(e) => {
              const value = e.currentTarget.value;
              setTest((t) => ({ ...t, metric: value as AbTestSettings['metric'] }));
            }}
          >
            <option value="human_unique_clicks">Unique clicks by people</option>
            <option value="human_unique_opens">Unique opens by people</option>
          </SelectField>
          <Field
            id="ab-wait"
            type="number"
            label="Wait (hours)"
            hint="1 to 72 hours after sending starts"
            min={1}
            max={72}
            value={test.wait_hours}
            disabled={disabled}
            onChange={(e) => {
              const value = e.currentTarget.value;
              setTest((t) => ({ ...t, wait_hours: Number(value) }));
            }}
          />
          <SelectField
            id="ab-winner"
            label="Winner"
            value={test.winner}
            disabled={disabled}
            onChange={(e) => {
              const value = e.currentTarget.value;
              setTest((t) => ({ ...t, winner: value as AbTestSettings['winner'] }));
            }}
          >
            <option value="auto">Chosen automatically and sent to the rest</option>
            <option value="manual">I choose it</option>
          </SelectField>
        </>
      ) : null}
      <FormError message={save.isError ? describeError(save.error) : null} />
      {!disabled && (enabled || campaign.ab_test) ? (
        <Button type="submit" busy={save.isPending}>
          {enabled ? 'Save A/B test' : 'Remove A/B test'}
        </Button>
      ) : null}
    </form>
  );
}

function stateLine(r: Results): string {
  if (r.state === 'not_started') return 'The test starts when the campaign is sent.';
  if (r.state === 'testing' || r.state === 'waiting') {
    const until = formatDateTime(r.decide_at);
    const phase = r.state === 'testing' ? 'Sending the variants to the test share.' : 'The variants are sent.';
    return r.winner_mode === 'auto'
      ? `${phase} Waiting for the winner until ${until}.`
      : `${phase} Test results are final at ${until}; choose the winner below.`;
  }
  return `Variant ${LETTERS[r.winner ?? 0]} won (${r.winner_chosen_by === 'manual' ? 'chosen by hand' : 'chosen automatically'}, ${formatDateTime(r.winner_chosen_at)}).`;
}

/** The campaign page's results per variant, with "choose as winner" while the test waits. */
export function AbTestResults({ campaignId, live, canWrite }: { campaignId: string; live: boolean; canWrite: boolean }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const results = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, campaignId), 'ab-test'],
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}/ab-test', { params: { path: { id: campaignId } } })),
    refetchInterval: live ? 5000 : false,
  });
  const choose = useMutation({
    mutationFn: (variant: number) => unwrap(api.POST('/api/v1/campaigns/{id}/ab-test/winner', { params: { path: { id: campaignId } }, body: { variant } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.campaigns.detail(organizationId, campaignId) });
      toast.success('Winner chosen: the rest gets it now.');
    },
    onError: (error) => toast.error(describeError(error)),
  });
  async function askChoose(variant: number, rest: number) {
    const ok = await confirm({
      title: `Send variant ${LETTERS[variant]} to the rest?`,
      message: `${formatNumber(rest)} subscribers get variant ${LETTERS[variant]}. This cannot be undone.`,
      confirmLabel: `Choose variant ${LETTERS[variant]}`,
    });
    if (ok) choose.mutate(variant);
  }
  return (
    <QueryView query={results} loadingLabel="Loading the A/B test…">
      {(r) => {
        const open = canWrite && (r.state === 'testing' || r.state === 'waiting');
        return (
          <div className="stack">
            <p role="status">{stateLine(r)}</p>
            <p className="muted small">
              Decided by {r.metric === 'human_unique_clicks' ? 'unique clicks by people' : 'unique opens by people'} per email sent; machine opens and clicks do
              not count. Ties go to the earlier variant.
            </p>
            <div className="table-wrap">
              <table className="data-table">
                <caption className="sf-visually-hidden">Results per variant</caption>
                <thead>
                  <tr>
                    <th scope="col">Variant</th>
                    <th scope="col">Subject</th>
                    <th scope="col">Recipients</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Delivered</th>
                    <th scope="col">Opens (people / machines)</th>
                    <th scope="col">Clicks (people / machines)</th>
                    <th scope="col">Open rate</th>
                    <th scope="col">Click rate</th>
                    {open ? <th scope="col">Winner</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {r.variants.map((v) => (
                    <tr key={v.variant}>
                      <th scope="row">
                        {LETTERS[v.variant]}
                        {r.winner === v.variant ? ' (winner)' : r.leader === v.variant && r.winner === null ? ' (leading)' : ''}
                      </th>
                      <td>{v.subject ?? 'Template subject'}</td>
                      <td>{formatNumber(v.recipients)}</td>
                      <td>{formatNumber(v.sent)}</td>
                      <td>{formatNumber(v.delivered)}</td>
                      <td>
                        {formatNumber(v.human_unique_opens)} / {formatNumber(v.machine_unique_opens)}
                      </td>
                      <td>
                        {formatNumber(v.human_unique_clicks)} / {formatNumber(v.machine_unique_clicks)}
                      </td>
                      <td>{percent(v.human_open_rate)}</td>
                      <td>{percent(v.human_click_rate)}</td>
                      {open ? (
                        <td>
                          <Button busy={choose.isPending} onClick={() => void askChoose(v.variant, r.rest.recipients)}>
                            Choose {LETTERS[v.variant]} as winner
                          </Button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted small">
              The rest: {formatNumber(r.rest.recipients)} subscribers{r.rest.held > 0 ? `, ${formatNumber(r.rest.held)} waiting for the winner` : ''}.
            </p>
          </div>
        );
      }}
    </QueryView>
  );
}
