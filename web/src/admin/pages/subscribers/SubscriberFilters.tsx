import { Button } from '@shared/ui/Button';
import { SUBSCRIBER_STATUSES } from '../../api';
import { labelOf } from '../../ui/misc';

/** The URL parameters of the list that are filters (the same names as the API's). */
export const FILTER_PARAMS = ['q', 'status', 'tag', 'tags_any', 'tags_all', 'tags_none', 'source', 'created_after', 'created_before'] as const;
export type FilterParam = (typeof FILTER_PARAMS)[number];
export type Filters = Partial<Record<FilterParam, string>>;

export const splitList = (value: string | undefined) => (value ? value.split(',').filter(Boolean) : []);
const joinList = (values: string[]) => (values.length ? values.join(',') : undefined);
const toggle = (values: string[], value: string) => (values.includes(value) ? values.filter((v) => v !== value) : [...values, value]);

/** A date input's value (YYYY-MM-DD) as the start of that day in UTC, and back. */
const dayToIso = (day: string) => (day ? `${day}T00:00:00.000Z` : undefined);
const isoToDay = (iso: string | undefined) => (iso ? iso.slice(0, 10) : '');
const nextDayIso = (day: string) => (day ? new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString() : undefined);
const dayBefore = (iso: string | undefined) => (iso ? new Date(Date.parse(iso) - 86_400_000).toISOString().slice(0, 10) : '');

interface Props {
  filters: Filters;
  text: string;
  onText: (text: string) => void;
  onChange: (changes: Filters) => void;
  onClear: () => void;
  tags: { id: string; name: string; slug: string }[];
}

/**
 * Search plus several filters at once: statuses (any of), tags (any of or all of, and none of), source
 * and a creation range. Status and tag choices sit in disclosure panels, so the bar stays one line on a
 * desktop and wraps on a phone.
 */
export function SubscriberFilterBar({ filters, text, onText, onChange, onClear, tags }: Props) {
  const statuses = splitList(filters.status);
  const tagsAll = splitList(filters.tags_all);
  const tagMode = tagsAll.length > 0 ? 'all' : 'any';
  const included = tagMode === 'all' ? tagsAll : splitList(filters.tags_any);
  const excluded = splitList(filters.tags_none);
  const setIncluded = (next: string[], mode = tagMode) =>
    onChange(mode === 'all' ? { tags_all: joinList(next), tags_any: undefined } : { tags_any: joinList(next), tags_all: undefined });
  const active = FILTER_PARAMS.some((p) => filters[p]);

  return (
    <form className="filters filters--many" role="search" aria-label="Filter subscribers" onSubmit={(e) => e.preventDefault()}>
      <div className="sf-field filters-search">
        <label htmlFor="subscriber-search" className="sf-field-label">
          Search
        </label>
        <input
          id="subscriber-search"
          type="search"
          className="sf-input"
          placeholder="Part of an address or name"
          maxLength={100}
          value={text}
          onChange={(e) => onText(e.currentTarget.value)}
        />
      </div>
      <details className="filter-menu">
        <summary>Status{statuses.length ? ` (${statuses.length})` : ''}</summary>
        <fieldset>
          <legend className="sf-visually-hidden">Statuses to show</legend>
          {SUBSCRIBER_STATUSES.map((s) => (
            <label key={s} className="checkbox">
              <input type="checkbox" checked={statuses.includes(s)} onChange={() => onChange({ status: joinList(toggle(statuses, s)) })} /> {labelOf(s)}
            </label>
          ))}
        </fieldset>
      </details>
      <details className="filter-menu">
        <summary>Tags{included.length + excluded.length ? ` (${included.length + excluded.length})` : ''}</summary>
        {tags.length === 0 ? (
          <p className="muted">No tags yet.</p>
        ) : (
          <>
            <fieldset>
              <legend>Has</legend>
              <label className="checkbox">
                <input type="radio" name="tag-mode" checked={tagMode === 'any'} onChange={() => setIncluded(included, 'any')} /> any of
              </label>
              <label className="checkbox">
                <input type="radio" name="tag-mode" checked={tagMode === 'all'} onChange={() => setIncluded(included, 'all')} /> all of
              </label>
              {tags.map((t) => (
                <label key={t.id} className="checkbox">
                  <input type="checkbox" checked={included.includes(t.slug)} onChange={() => setIncluded(toggle(included, t.slug))} /> {t.name}
                </label>
              ))}
            </fieldset>
            <fieldset>
              <legend>Has none of</legend>
              {tags.map((t) => (
                <label key={t.id} className="checkbox">
                  <input
                    type="checkbox"
                    aria-label={`Without ${t.name}`}
                    checked={excluded.includes(t.slug)}
                    onChange={() => onChange({ tags_none: joinList(toggle(excluded, t.slug)) })}
                  />{' '}
                  {t.name}
                </label>
              ))}
            </fieldset>
          </>
        )}
      </details>
      <details className="filter-menu">
        <summary>More{filters.source || filters.created_after || filters.created_before ? ' (set)' : ''}</summary>
        <div className="sf-field">
          <label htmlFor="source-filter" className="sf-field-label">
            Source
          </label>
          <input
            id="source-filter"
            className="sf-input"
            placeholder="api, form, import…"
            maxLength={50}
            value={filters.source ?? ''}
            onChange={(e) => onChange({ source: e.currentTarget.value.trim() || undefined })}
          />
        </div>
        <div className="sf-field">
          <label htmlFor="created-from" className="sf-field-label">
            Created from
          </label>
          <input
            id="created-from"
            type="date"
            className="sf-input"
            value={isoToDay(filters.created_after)}
            onChange={(e) => onChange({ created_after: dayToIso(e.currentTarget.value) })}
          />
        </div>
        <div className="sf-field">
          <label htmlFor="created-to" className="sf-field-label">
            Created until
          </label>
          <input
            id="created-to"
            type="date"
            className="sf-input"
            value={dayBefore(filters.created_before)}
            onChange={(e) => onChange({ created_before: nextDayIso(e.currentTarget.value) })}
          />
        </div>
      </details>
      {filters.tag ? (
        <p className="filter-note">
          Tag: {tags.find((t) => t.slug === filters.tag)?.name ?? filters.tag}{' '}
          <Button variant="link" onClick={() => onChange({ tag: undefined })}>
            Remove
          </Button>
        </p>
      ) : null}
      {active ? (
        <Button variant="link" onClick={onClear}>
          Clear filters
        </Button>
      ) : null}
    </form>
  );
}
