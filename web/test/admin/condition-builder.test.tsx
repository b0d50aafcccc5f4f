import { fireEvent, render, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { compileFilter, SegmentFilter as ServerSegmentFilter } from '../../../server/src/modules/segments/filter.ts';
import { ConditionBuilder } from '../../src/admin/segments/ConditionBuilder';
import {
  changeCondition,
  emptyValue,
  FIELDS,
  filterProblems,
  MAX_CONDITIONS,
  operators,
  toApiFilter,
  valueKind,
  type Condition,
  type MetadataType,
  type SegmentFilter,
} from '../../src/admin/segments/filter';

const TAGS = [
  { id: '01900000-0000-7000-8000-0000000000f1', name: 'News' },
  { id: '01900000-0000-7000-8000-0000000000f2', name: 'Offers' },
];
const CAMPAIGN = { id: '01900000-0000-7000-8000-0000000000c1', name: 'March news' };
const serverSchema = Compile(ServerSegmentFilter);
const tagIds = new Map(TAGS.map((t) => [t.id, t.id]));

/** What the server does with a filter the dashboard sends: its JSON schema, then its compiler. */
function serverAccepts(filter: SegmentFilter): void {
  const body = JSON.parse(JSON.stringify(toApiFilter(filter))) as unknown;
  expect(serverSchema.Check(body), JSON.stringify([...serverSchema.Errors(body)])).toBe(true);
  expect(() => compileFilter(body as never, tagIds)).not.toThrow();
}

/** A plausible value a person would enter for an input kind. */
function filled(condition: Condition): Condition {
  const samples: Record<string, Condition['value']> = {
    status: 'active',
    statuses: ['active', 'pending'],
    text: condition.op === 'domain' ? 'example.com' : condition.field === 'locale' ? 'de-AT' : 'abc',
    texts: condition.field === 'locale' ? ['de', 'pt-BR'] : ['a', 'b'],
    number: 42,
    days: 30,
    date: '2026-01-15',
    dates: ['2026-01-01', '2026-02-01'],
    boolean: false,
    tags: [TAGS[0]!.id],
    campaigns: [CAMPAIGN.id],
  };
  const kind = valueKind(condition);
  return kind === 'none' ? condition : { ...condition, value: samples[kind] };
}

function Harness({ initial, onValue }: { initial: SegmentFilter; onValue?: (f: SegmentFilter) => void }) {
  const [filter, setFilter] = useState(initial);
  return (
    <ConditionBuilder
      label="Subscribers who match"
      value={filter}
      onChange={(next) => {
        setFilter(next);
        onValue?.(next);
      }}
      options={{ tags: TAGS, campaigns: [CAMPAIGN] }}
      problems={filterProblems(filter)}
    />
  );
}

describe('the condition builder', () => {
  it('offers every operator the server compiles for each field and metadata type, and only those', () => {
    const fields: { field: string; type?: MetadataType }[] = FIELDS.flatMap((f) =>
      f.kind === 'metadata' ? (['string', 'number', 'boolean', 'date'] as const).map((type) => ({ field: 'metadata.plan', type })) : [{ field: f.field }],
    );
    let checked = 0;
    for (const { field, type } of fields) {
      for (const { op } of operators(field, type)) {
        const condition = filled(changeCondition({ field: 'status', op: 'eq', value: 'active' }, { field, op, ...(type ? { type } : {}) }));
        serverAccepts({ match: 'all', conditions: [condition] });
        expect(filterProblems({ match: 'all', conditions: [condition] }), `${field} ${op}`).toEqual({});
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // Type-correct: a number compares, text does not; a boolean is only equal or set.
    expect(operators('metadata.score', 'number').map((o) => o.op)).not.toContain('contains');
    expect(operators('metadata.vip', 'boolean').map((o) => o.op)).toEqual(['eq', 'exists', 'not_exists']);
    expect(operators('tags').map((o) => o.op)).toEqual(['any', 'all', 'none']);
    expect(operators('created_at').map((o) => o.op)).not.toContain('exists');
  });

  it('checks language codes as the server does, in words', () => {
    const locale = (op: Condition['op'], value: Condition['value']) => filterProblems({ match: 'all', conditions: [{ field: 'locale', op, value }] });
    expect(locale('language', ['de', 'pt_BR'])).toEqual({});
    expect(locale('eq', 'de-AT')).toEqual({});
    expect(Object.values(locale('eq', 'German'))).toEqual(['Enter language codes such as de, de-AT or pt-BR.']);
    expect(Object.values(locale('in', ['de', 'x y']))).toEqual(['Enter language codes such as de, de-AT or pt-BR.']);
    expect(locale('exists', undefined)).toEqual({});
  });

  it('round-trips a nested filter the server stores: shown as it is, sent back unchanged', () => {
    const stored: SegmentFilter = {
      match: 'all',
      conditions: [
        { field: 'status', op: 'eq', value: 'active' },
        { field: 'email', op: 'domain', value: 'example.com' },
        {
          match: 'any',
          conditions: [
            { field: 'tags', op: 'all', value: [TAGS[0]!.id, TAGS[1]!.id] },
            { field: 'metadata.plan', op: 'in', type: 'string', value: ['pro', 'team'] },
            {
              match: 'all',
              conditions: [
                { field: 'created_at', op: 'between', value: ['2026-01-01', '2026-06-01'] },
                { field: 'opened', op: 'within_days', value: 30 },
              ],
            },
          ],
        },
      ],
    };
    expect(toApiFilter(stored)).toEqual(stored);
    serverAccepts(stored);
    let last: SegmentFilter | undefined;
    render(<Harness initial={stored} onValue={(f) => (last = f)} />);
    expect((screen.getAllByLabelText('Domain')[0] as HTMLInputElement).value).toBe('example.com');
    expect(screen.getByRole('checkbox', { name: 'Offers' })).toHaveProperty('checked', true);
    // Change the plan values and back: what is sent equals what was stored.
    const values = screen.getByLabelText('Values, separated by commas') as HTMLInputElement;
    expect(values.value).toBe('pro, team');
    fireEvent.change(values, { target: { value: 'pro, team, free' } });
    fireEvent.change(values, { target: { value: 'pro, team' } });
    expect(toApiFilter(last!)).toEqual(stored);
  });

  it('builds nested groups by keyboard-reachable buttons, and stops at three levels', () => {
    let last: SegmentFilter | undefined;
    render(<Harness initial={{ match: 'all', conditions: [] }} onValue={(f) => (last = f)} />);
    expect(screen.getByText('No conditions: every subscriber matches.')).toBeTruthy();
    const root = screen.getByRole('group', { name: 'Subscribers who match' });
    fireEvent.click(within(root).getAllByRole('button', { name: 'Add condition' }).at(-1)!);
    fireEvent.click(within(root).getAllByRole('button', { name: 'Add group' }).at(-1)!);
    const group = screen.getByRole('group', { name: 'Group 2' });
    expect(within(group).getByLabelText('Match')).toHaveProperty('value', 'any');
    fireEvent.click(within(group).getByRole('button', { name: 'Add group' }));
    const inner = screen.getByRole('group', { name: 'Group 2.2' });
    // The third level holds conditions only.
    expect(within(inner).getByRole('button', { name: 'Add group' })).toHaveProperty('disabled', true);
    expect(within(inner).getByText('Groups nest at most 3 levels deep.')).toBeTruthy();
    expect(last).toEqual({
      match: 'all',
      conditions: [
        { field: 'status', op: 'eq', value: 'active' },
        {
          match: 'any',
          conditions: [
            { field: 'status', op: 'eq', value: 'active' },
            { match: 'all', conditions: [{ field: 'status', op: 'eq', value: 'active' }] },
          ],
        },
      ],
    });
    serverAccepts(last!);
    // Removing the only condition of a group says what to do instead of sending an empty group.
    fireEvent.click(within(inner).getByRole('button', { name: 'Remove condition 1' }));
    expect(screen.getByText('A group needs at least one condition. Add one or remove the group.')).toBeTruthy();
  });

  it('changes operators and value inputs with the field, and names a half-filled condition', () => {
    let last: SegmentFilter | undefined;
    render(<Harness initial={{ match: 'all', conditions: [{ field: 'status', op: 'eq', value: 'active' }] }} onValue={(f) => (last = f)} />);
    fireEvent.change(screen.getByLabelText('Field'), { target: { value: 'metadata.' } });
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'number' } });
    const ops = [...(screen.getByLabelText('Operator') as HTMLSelectElement).options].map((o) => o.value);
    expect(ops).toEqual(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists']);
    expect(screen.getByText('Name the field with up to 64 letters, digits, "_" or "-".')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Field name'), { target: { value: 'score' } });
    fireEvent.change(screen.getByLabelText('Operator'), { target: { value: 'gt' } });
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: '7.5' } });
    expect(last!.conditions[0]).toEqual({ field: 'metadata.score', op: 'gt', type: 'number', value: 7.5 });
    fireEvent.change(screen.getByLabelText('Field'), { target: { value: 'created_at' } });
    fireEvent.change(screen.getByLabelText('Operator'), { target: { value: 'between' } });
    expect(screen.getByText('Enter both dates, the first before the second.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-03-01' } });
    fireEvent.change(screen.getByLabelText('Until (not included)'), { target: { value: '2026-04-01' } });
    expect(last!.conditions[0]).toEqual({ field: 'created_at', op: 'between', value: ['2026-03-01', '2026-04-01'] });
    expect(filterProblems(last!)).toEqual({});
    serverAccepts(last!);
  });

  it(`holds at most ${MAX_CONDITIONS} conditions: adding is refused in words, and too many loaded ones are named`, () => {
    const many = (n: number): SegmentFilter => ({
      match: 'all',
      conditions: [{ match: 'any', conditions: Array.from({ length: n }, () => ({ field: 'status', op: 'eq', value: 'active' }) as Condition) }],
    });
    const { unmount } = render(<Harness initial={many(MAX_CONDITIONS)} />);
    for (const button of screen.getAllByRole('button', { name: /Add (condition|group)/ })) expect(button).toHaveProperty('disabled', true);
    expect(screen.getByText(`${MAX_CONDITIONS} of ${MAX_CONDITIONS} conditions: the limit is reached.`)).toBeTruthy();
    unmount();
    expect(filterProblems(many(MAX_CONDITIONS + 1))['']).toBe(
      `A segment holds at most ${MAX_CONDITIONS} conditions. Remove some, or combine values in one condition.`,
    );
    expect(filterProblems(many(MAX_CONDITIONS + 1), 'de')['']).toContain('höchstens 50 Bedingungen');
  });

  it('starts each value input with a value the person then completes', () => {
    expect(emptyValue('tags')).toEqual([]);
    expect(filterProblems({ match: 'all', conditions: [{ field: 'tags', op: 'any', value: [] }] })).toEqual({ 'conditions.0': 'Choose at least one.' });
    expect(filterProblems({ match: 'all', conditions: [{ field: 'email', op: 'domain', value: 'a@example.com' }] })).toEqual({
      'conditions.0': 'Enter the domain only, like example.com.',
    });
  });
});
