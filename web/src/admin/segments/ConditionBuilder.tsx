import { useId, type ReactNode } from 'react';
import { Button } from '@shared/ui/Button';
import { labelOf } from '../ui/misc';
import {
  changeCondition,
  countConditions,
  FIELDS,
  isGroup,
  kindOf,
  listText,
  MAX_CONDITIONS,
  MAX_DEPTH,
  METADATA_TYPES,
  newCondition,
  newGroup,
  operators,
  pathKey,
  splitList,
  STATUSES,
  updateAt,
  valueKind,
  type Condition,
  type Group,
  type MetadataType,
  type Node,
  type Op,
  type Path,
  type SegmentFilter,
} from './filter';

export interface BuilderOptions {
  tags: readonly { id: string; name: string }[];
  /** Campaigns a "received / opened / clicked in" condition may name. */
  campaigns?: readonly { id: string; name: string }[];
}

interface Props {
  /** A label for the whole builder ("Subscribers who match"). */
  label: string;
  value: SegmentFilter;
  onChange: (next: SegmentFilter) => void;
  options: BuilderOptions;
  /** Problems keyed by node path (from `filterProblems` and `serverProblems`), shown beside the node. */
  problems?: Record<string, string>;
  disabled?: boolean;
}

/**
 * Edits a segment filter: conditions and nested AND/OR groups, each condition offering only the
 * operators that fit its field and the value input its operator needs. Everything is a native form
 * control in a labelled fieldset, so it works by keyboard and with a screen reader, and rows wrap on a
 * narrow screen. The limits (3 levels, 50 conditions) are enforced here: the buttons that would break
 * one are disabled and say why.
 */
export function ConditionBuilder({ label, value, onChange, options, problems = {}, disabled = false }: Props) {
  const root = value as Group;
  const total = countConditions(root);
  const full = total >= MAX_CONDITIONS;
  const set = (path: Path, replace: (node: Node) => Node | null) => onChange(updateAt(root, path, replace) as SegmentFilter);
  const id = useId().replace(/:/g, '');
  return (
    <div className="condition-builder">
      <GroupEditor
        id={`${id}-root`}
        legend={label}
        group={root}
        path={[]}
        depth={1}
        full={full}
        set={set}
        options={options}
        problems={problems}
        disabled={disabled}
      />
      <p className={`small ${full ? 'sf-field-error' : 'muted'}`} aria-live="polite">
        {total} of {MAX_CONDITIONS} conditions
        {full ? ': the limit is reached.' : ''}
      </p>
      {problems[''] ? (
        <p className="sf-field-error" role="alert">
          {problems['']}
        </p>
      ) : null}
    </div>
  );
}

interface NodeProps {
  id: string;
  path: Path;
  set: (path: Path, replace: (node: Node) => Node | null) => void;
  options: BuilderOptions;
  problems: Record<string, string>;
  disabled: boolean;
}

function GroupEditor({
  id,
  legend,
  group,
  path,
  depth,
  full,
  onRemove,
  ...rest
}: NodeProps & { legend: string; group: Group; depth: number; full: boolean; onRemove?: () => void }) {
  const { set, problems, disabled } = rest;
  const problem = problems[pathKey(path)];
  const canNest = depth < MAX_DEPTH;
  const add = (node: Node) => set(path, (g) => ({ ...(g as Group), conditions: [...(g as Group).conditions, node] }));
  return (
    <fieldset className={`fieldset condition-group condition-group--${depth}`} aria-describedby={problem ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      <div className="inline-fields">
        <div className="sf-field">
          <label className="sf-field-label" htmlFor={`${id}-match`}>
            Match
          </label>
          <select
            id={`${id}-match`}
            className="sf-input"
            value={group.match}
            disabled={disabled}
            onChange={(e) => set(path, (g) => ({ ...(g as Group), match: e.currentTarget.value as 'all' | 'any' }))}
          >
            <option value="all">all of these (and)</option>
            <option value="any">any of these (or)</option>
          </select>
        </div>
        {onRemove && !disabled ? (
          <Button className="button-small" onClick={onRemove}>
            Remove group
          </Button>
        ) : null}
      </div>
      {group.conditions.length === 0 && depth === 1 ? <p className="muted small">No conditions: every subscriber matches.</p> : null}
      <ol className="condition-list">
        {group.conditions.map((node, index) => {
          const childPath = [...path, index];
          const childId = `${id}-${index}`;
          const remove = () => set(childPath, () => null);
          return (
            <li key={index}>
              {isGroup(node) ? (
                <GroupEditor
                  {...rest}
                  id={childId}
                  legend={`Group ${childPath.map((i) => i + 1).join('.')}`}
                  group={node}
                  path={childPath}
                  depth={depth + 1}
                  full={full}
                  onRemove={remove}
                />
              ) : (
                <ConditionEditor {...rest} id={childId} number={index + 1} condition={node} path={childPath} onRemove={remove} />
              )}
            </li>
          );
        })}
      </ol>
      {problem ? (
        <p id={`${id}-error`} className="sf-field-error">
          {problem}
        </p>
      ) : null}
      {!disabled ? (
        <div className="inline-list">
          <Button className="button-small" disabled={full} onClick={() => add(newCondition())}>
            Add condition
          </Button>
          <Button className="button-small" disabled={full || !canNest} onClick={() => add(newGroup(group.match === 'all' ? 'any' : 'all'))}>
            Add group
          </Button>
          {!canNest ? <span className="muted small">Groups nest at most {MAX_DEPTH} levels deep.</span> : null}
        </div>
      ) : null}
    </fieldset>
  );
}

function ConditionEditor({
  id,
  number,
  condition,
  path,
  onRemove,
  set,
  options,
  problems,
  disabled,
}: NodeProps & { number: number; condition: Condition; onRemove: () => void }) {
  const problem = problems[pathKey(path)];
  const change = (changes: Partial<Condition>) => set(path, (node) => changeCondition(node as Condition, changes));
  const kind = kindOf(condition.field);
  const errorId = problem ? `${id}-error` : undefined;
  return (
    <div className="condition-row" role="group" aria-label={`Condition ${number}`}>
      <div className="sf-field">
        <label className="sf-field-label" htmlFor={`${id}-field`}>
          Field
        </label>
        <select
          id={`${id}-field`}
          className="sf-input"
          value={kind === 'metadata' ? 'metadata.' : condition.field}
          disabled={disabled}
          onChange={(e) => change({ field: e.currentTarget.value === 'metadata.' ? 'metadata.' : e.currentTarget.value })}
        >
          {FIELDS.map((f) => (
            <option key={f.field} value={f.field}>
              {f.label}
            </option>
          ))}
        </select>
      </div>
      {kind === 'metadata' ? (
        <>
          <div className="sf-field">
            <label className="sf-field-label" htmlFor={`${id}-key`}>
              Field name
            </label>
            <input
              id={`${id}-key`}
              className="sf-input"
              value={condition.field.slice('metadata.'.length)}
              maxLength={64}
              placeholder="plan"
              disabled={disabled}
              aria-invalid={problem ? true : undefined}
              aria-describedby={errorId}
              onChange={(e) => change({ field: `metadata.${e.currentTarget.value.trim()}` })}
            />
          </div>
          <div className="sf-field">
            <label className="sf-field-label" htmlFor={`${id}-type`}>
              Type
            </label>
            <select
              id={`${id}-type`}
              className="sf-input"
              value={condition.type ?? 'string'}
              disabled={disabled}
              onChange={(e) => change({ type: e.currentTarget.value as MetadataType })}
            >
              {METADATA_TYPES.map(([type, text]) => (
                <option key={type} value={type}>
                  {text}
                </option>
              ))}
            </select>
          </div>
        </>
      ) : null}
      <div className="sf-field">
        <label className="sf-field-label" htmlFor={`${id}-op`}>
          Operator
        </label>
        <select id={`${id}-op`} className="sf-input" value={condition.op} disabled={disabled} onChange={(e) => change({ op: e.currentTarget.value as Op })}>
          {operators(condition.field, condition.type).map((o) => (
            <option key={o.op} value={o.op}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <ValueInput
        id={id}
        condition={condition}
        options={options}
        disabled={disabled}
        errorId={errorId}
        invalid={Boolean(problem)}
        onChange={(value) => change({ value })}
      />
      {!disabled ? (
        <Button className="button-small condition-remove" aria-label={`Remove condition ${number}`} onClick={onRemove}>
          Remove
        </Button>
      ) : null}
      {problem ? (
        <p id={errorId} className="sf-field-error condition-error">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

function ValueInput({
  id,
  condition,
  options,
  disabled,
  errorId,
  invalid,
  onChange,
}: {
  id: string;
  condition: Condition;
  options: BuilderOptions;
  disabled: boolean;
  errorId: string | undefined;
  invalid: boolean;
  onChange: (value: Condition['value']) => void;
}) {
  const kind = valueKind(condition);
  const value = condition.value;
  const inputId = `${id}-value`;
  const common = { className: 'sf-input', disabled, 'aria-invalid': invalid || undefined, 'aria-describedby': errorId };
  const labelled = (label: string, input: ReactNode) => (
    <div className="sf-field">
      <label className="sf-field-label" htmlFor={inputId}>
        {label}
      </label>
      {input}
    </div>
  );
  const list = Array.isArray(value) ? value.map(String) : [];
  const checkboxes = (legend: string, items: readonly { id: string; name: string }[], empty: string) => (
    <fieldset className="fieldset fieldset--plain condition-choices" aria-describedby={errorId}>
      <legend className="sf-field-label">{legend}</legend>
      {items.length === 0 ? <p className="muted small">{empty}</p> : null}
      <div className="checkbox-grid">
        {items.map((item) => (
          <div className="checkbox" key={item.id}>
            <input
              id={`${id}-choice-${item.id}`}
              type="checkbox"
              checked={list.includes(item.id)}
              disabled={disabled}
              onChange={(e) => onChange(e.currentTarget.checked ? [...list, item.id] : list.filter((v) => v !== item.id))}
            />
            <label htmlFor={`${id}-choice-${item.id}`}>{item.name}</label>
          </div>
        ))}
      </div>
    </fieldset>
  );
  switch (kind) {
    case 'none':
      return null;
    case 'status':
      return labelled(
        'Value',
        <select id={inputId} {...common} value={String(value ?? 'active')} onChange={(e) => onChange(e.currentTarget.value)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {labelOf(s)}
            </option>
          ))}
        </select>,
      );
    case 'statuses':
      return checkboxes(
        'Statuses',
        STATUSES.map((s) => ({ id: s, name: labelOf(s) })),
        '',
      );
    case 'tags':
      return checkboxes('Topics', options.tags, 'No topics yet: create one on the Tags page.');
    case 'campaigns':
      return checkboxes('Campaigns', options.campaigns ?? [], 'No campaigns yet.');
    case 'boolean':
      return labelled(
        'Value',
        <select id={inputId} {...common} value={String(value ?? true)} onChange={(e) => onChange(e.currentTarget.value === 'true')}>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>,
      );
    case 'number':
    case 'days':
      return labelled(
        kind === 'days' ? 'Days' : 'Value',
        <input
          id={inputId}
          {...common}
          type="number"
          inputMode="decimal"
          step={kind === 'days' ? 1 : 'any'}
          min={kind === 'days' ? 1 : undefined}
          value={typeof value === 'number' && Number.isFinite(value) ? value : ''}
          onChange={(e) => onChange(e.currentTarget.value === '' ? Number.NaN : Number(e.currentTarget.value))}
        />,
      );
    case 'date':
      return labelled('Date', <input id={inputId} {...common} type="date" value={String(value ?? '')} onChange={(e) => onChange(e.currentTarget.value)} />);
    case 'dates': {
      const [from = '', to = ''] = Array.isArray(value) ? value.map(String) : [];
      return (
        <>
          {labelled('From', <input id={inputId} {...common} type="date" value={from} onChange={(e) => onChange([e.currentTarget.value, to])} />)}
          <div className="sf-field">
            <label className="sf-field-label" htmlFor={`${id}-value-to`}>
              Until (not included)
            </label>
            <input id={`${id}-value-to`} {...common} type="date" value={to} onChange={(e) => onChange([from, e.currentTarget.value])} />
          </div>
        </>
      );
    }
    case 'texts':
      return labelled(
        'Values, separated by commas',
        <input id={inputId} {...common} value={listText(value)} maxLength={5000} onChange={(e) => onChange(splitList(e.currentTarget.value))} />,
      );
    default:
      return labelled(
        condition.op === 'domain' ? 'Domain' : 'Value',
        <input
          id={inputId}
          {...common}
          value={String(value ?? '')}
          maxLength={254}
          placeholder={condition.op === 'domain' ? 'example.com' : undefined}
          onChange={(e) => onChange(e.currentTarget.value)}
        />,
      );
  }
}
