import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useToast } from '@shared/ui/Toasts';
import { api, ApiRequestError, describeError, idempotent, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { Link } from '../../router';
import { ConditionBuilder } from '../../segments/ConditionBuilder';
import { filterProblems, newCondition, serverProblems, toApiFilter, type SegmentFilter } from '../../segments/filter';
import { useBuilderOptions, useFilterCount } from '../../segments/hooks';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { formatNumber } from '../../ui/misc';
import { QueryView } from '../../ui/States';
import { LiveCount } from '../segments/SegmentEditorPage';

type Campaign = ResponseOf<'/api/v1/campaigns/{id}', 'get'>;
type TagFilter = NonNullable<Campaign['tag_filter']>;
type Mode = 'tags' | 'segment' | 'conditions';

/** Saving a campaign's audience: the page holds Send now back while one is on its way. */
export const audienceMutationKey = (campaignId: string) => ['campaign-audience', campaignId] as const;

const REASONS: Record<string, string> = {
  unsubscribed_from_topic: 'Unsubscribed from the topic',
  unsubscribed: 'Unsubscribed from everything',
  bounced: 'Address bounced',
  complained: 'Marked as spam',
  suppressed: 'On the suppression list',
  pending_confirmation: 'Not confirmed yet',
};

/** The count the campaign would go to now, and who is left out and why (from recipient-count). */
function RecipientCount({ id, saving }: { id: string; saving: boolean }) {
  const { organizationId } = useOrganization();
  const audience = useQuery({
    queryKey: [...keys.campaigns.detail(organizationId, id), 'audience'],
    queryFn: () => unwrap(api.GET('/api/v1/campaigns/{id}/recipient-count', { params: { path: { id } } })),
  });
  if (saving) return <p role="status">Saving the audience…</p>;
  return (
    <QueryView query={audience} loadingLabel="Counting…">
      {(a) => (
        <div role="status" aria-live="polite">
          <p>
            <strong>{formatNumber(a.count)}</strong> subscribers would get it now.
          </p>
          <p className="muted small">Left out:</p>
          <ul className="inline-list small">
            {Object.entries(a.excluded).map(([reason, n]) => (
              <li key={reason}>
                {REASONS[reason] ?? reason.replace(/_/g, ' ')}: {formatNumber(n)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </QueryView>
  );
}

function TagChoices({
  legend,
  tags,
  chosen,
  onChange,
  disabled,
  prefix,
}: {
  legend: string;
  tags: readonly { id: string; name: string }[];
  chosen: string[];
  onChange: (next: string[]) => void;
  disabled: boolean;
  prefix: string;
}) {
  return (
    <fieldset className="fieldset">
      <legend>{legend}</legend>
      {tags.length === 0 ? <p className="muted small">No topics yet: create one on the Tags page.</p> : null}
      <div className="checkbox-grid">
        {tags.map((t) => (
          <div className="checkbox" key={t.id}>
            <input
              id={`${prefix}-${t.id}`}
              type="checkbox"
              checked={chosen.includes(t.id)}
              disabled={disabled}
              onChange={(e) => onChange(e.currentTarget.checked ? [...chosen, t.id] : chosen.filter((x) => x !== t.id))}
            />
            <label htmlFor={`${prefix}-${t.id}`}>{t.name}</label>
          </div>
        ))}
      </div>
    </fieldset>
  );
}

/**
 * The audience of a draft: topics (include and exclude, any or all), a saved segment, or conditions
 * built here and saved as a segment. A change of topics or segment is saved at once, so the count
 * below is always the campaign's own recipient count, with the reasons people are left out.
 */
export function AudienceEditor({ campaign, disabled }: { campaign: Campaign; disabled: boolean }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const toast = useToast();
  const options = useBuilderOptions();
  const segments = useQuery({
    queryKey: keys.segments.list(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/segments', { params: { query: { limit: 100 } } })),
  });
  const tagIdOf = (ref: string) => options.tags.find((t) => t.id === ref || (t as { slug?: string }).slug === ref)?.id ?? ref;
  const [mode, setMode] = useState<Mode>(campaign.segment_id ? 'segment' : 'tags');
  const [include, setInclude] = useState<string[]>(campaign.tag_filter?.include_tags ?? []);
  const [exclude, setExclude] = useState<string[]>(campaign.tag_filter?.exclude_tags ?? []);
  const [match, setMatch] = useState<'any' | 'all'>(campaign.tag_filter?.match ?? 'any');
  const [segmentId, setSegmentId] = useState(campaign.segment_id ?? '');
  const [filter, setFilter] = useState<SegmentFilter>({ match: 'all', conditions: [newCondition()] });
  const [segmentName, setSegmentName] = useState('');
  const [showProblems, setShowProblems] = useState(false);
  const count = useFilterCount(filter, mode === 'conditions');

  // Tag references may be slugs (the API accepts both): shown checked by id once the tags are known.
  const normalised = useRef(false);
  useEffect(() => {
    if (normalised.current || options.tags.length === 0) return;
    normalised.current = true;
    setInclude((list) => list.map(tagIdOf));
    setExclude((list) => list.map(tagIdOf));
  }, [options.tags.length]);

  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.campaigns.detail(organizationId, campaign.id) });
  const patch = useMutation({
    // Changes save one after another, in the order they were made, so the last one always wins.
    mutationKey: audienceMutationKey(campaign.id),
    scope: { id: `campaign-audience-${campaign.id}` },
    mutationFn: (body: { tag_filter?: TagFilter | null; segment_id?: string | null }) =>
      unwrap(api.PATCH('/api/v1/campaigns/{id}', { params: { path: { id: campaign.id } }, body })),
    onSuccess: refresh,
    onError: (error) => toast.error(describeError(error)),
  });

  const applyTags = (next: { include?: string[]; exclude?: string[]; match?: 'any' | 'all' }) => {
    const inc = next.include ?? include;
    const exc = next.exclude ?? exclude;
    const m = next.match ?? match;
    setInclude(inc);
    setExclude(exc);
    setMatch(m);
    patch.mutate({ tag_filter: inc.length > 0 ? { include_tags: inc, exclude_tags: exc, match: m } : null, segment_id: null });
  };
  const applySegment = (id: string) => {
    setSegmentId(id);
    patch.mutate(id ? { segment_id: id, tag_filter: null } : { segment_id: null });
  };

  const saveAsSegment = useMutation({
    mutationFn: async () => {
      const created = await unwrap(api.POST('/api/v1/segments', { body: { name: segmentName.trim(), filter: toApiFilter(filter) }, ...idempotent() }));
      await unwrap(api.PATCH('/api/v1/campaigns/{id}', { params: { path: { id: campaign.id } }, body: { segment_id: created.id, tag_filter: null } }));
      return created;
    },
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: keys.segments.all(organizationId) });
      await refresh();
      setSegmentId(created.id);
      setMode('segment');
      setShowProblems(false);
      toast.success(`Saved as the segment "${created.name}"; the campaign goes to it.`);
    },
  });
  const local = filterProblems(filter);
  const fromServer = saveAsSegment.error instanceof ApiRequestError ? serverProblems(saveAsSegment.error.details) : {};
  const problems = { ...count.problems, ...fromServer, ...(showProblems ? local : {}) };
  const submitSegment = () => {
    if (Object.keys(local).length > 0 || !segmentName.trim()) {
      setShowProblems(true);
      return;
    }
    saveAsSegment.mutate();
  };

  const segmentItems = segments.data?.items ?? [];
  return (
    <div className="audience-editor">
      <fieldset className="fieldset">
        <legend>Send to</legend>
        {(
          [
            ['tags', 'Subscribers of topics'],
            ['segment', 'A saved segment'],
            ['conditions', 'Subscribers who match conditions'],
          ] as const
        ).map(([value, text]) => (
          <div className="checkbox" key={value}>
            <input
              id={`audience-mode-${value}`}
              type="radio"
              name="audience-mode"
              checked={mode === value}
              disabled={disabled}
              onChange={() => setMode(value)}
            />
            <label htmlFor={`audience-mode-${value}`}>{text}</label>
          </div>
        ))}
      </fieldset>

      {mode === 'tags' ? (
        <>
          <TagChoices
            legend="Subscribed to"
            prefix="include"
            tags={options.tags}
            chosen={include}
            disabled={disabled}
            onChange={(next) => applyTags({ include: next })}
          />
          <SelectField
            id="audience-match"
            label="Which of these topics"
            value={match}
            disabled={disabled}
            onChange={(e) => applyTags({ match: e.currentTarget.value as 'any' | 'all' })}
          >
            <option value="any">any of them</option>
            <option value="all">all of them</option>
          </SelectField>
          <TagChoices
            legend="But not subscribed to"
            prefix="exclude"
            tags={options.tags}
            chosen={exclude}
            disabled={disabled}
            onChange={(next) => applyTags({ exclude: next })}
          />
          {include.length === 0 ? <p className="sf-field-error">Choose at least one topic to send to.</p> : null}
        </>
      ) : null}

      {mode === 'segment' ? (
        <>
          <SelectField
            id="audience-segment-choice"
            label="Segment"
            value={segmentId}
            disabled={disabled || segments.isPending}
            onChange={(e) => applySegment(e.currentTarget.value)}
            hint={
              <>
                Segments are edited on the <Link to="/segments">Segments page</Link>.
              </>
            }
          >
            <option value="">Choose a segment</option>
            {segmentItems.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
          {segmentId ? (
            <p className="small">
              <Link to={`/segments/${segmentId}`}>Open this segment</Link> to see or change its conditions.
            </p>
          ) : null}
          {segments.isSuccess && segmentItems.length === 0 ? <p className="muted">No segments yet: build the conditions here and save them as one.</p> : null}
        </>
      ) : null}

      {mode === 'conditions' ? (
        <>
          <LiveCount count={count} />
          <p className="muted small">This counts every matching subscriber; the campaign then leaves out those it may not reach (below, once saved).</p>
          <ConditionBuilder label="Subscribers who match" value={filter} onChange={setFilter} options={options} problems={problems} disabled={disabled} />
          {!disabled ? (
            <div className="inline-fields">
              <Field
                id="audience-segment-name"
                label="Save as the segment named"
                maxLength={200}
                value={segmentName}
                onChange={(e) => setSegmentName(e.currentTarget.value)}
                error={showProblems && !segmentName.trim() ? 'Fill this in.' : null}
              />
              <Button variant="primary" busy={saveAsSegment.isPending} onClick={submitSegment}>
                Save as segment and use it
              </Button>
            </div>
          ) : null}
          <FormError message={saveAsSegment.isError ? describeError(saveAsSegment.error) : null} />
        </>
      ) : null}

      <h3>Recipients</h3>
      <RecipientCount id={campaign.id} saving={patch.isPending} />
    </div>
  );
}
