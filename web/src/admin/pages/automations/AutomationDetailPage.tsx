import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, ApiRequestError, describeError, fieldErrors, unwrap, type Automation, type AutomationStep } from '../../api';
import { keys } from '../../keys';
import { navigate } from '../../router';
import { useOrganization } from '../../session';
import { Field, FormError, SelectField } from '../../ui/Fields';
import { Badge, formatNumber } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { ErrorState, Loading, QueryView } from '../../ui/States';
import { ConditionBuilder, type BuilderOptions } from '../../segments/ConditionBuilder';
import { filterProblems, serverProblems, toApiFilter, type SegmentFilter } from '../../segments/filter';
import { useBuilderOptions } from '../../segments/hooks';
import { EVENTS, humanDelay, newStep, STEP_TYPES, toSeconds, UNITS, type StepType, type Unit } from './steps';

type Options = BuilderOptions & { templates: { id: string; name: string }[] };

/** A delay in human units (minutes, hours, days), stored in seconds. */
function DelayInput({
  id,
  label,
  seconds,
  onChange,
  disabled,
}: {
  id: string;
  label: string;
  seconds: number;
  onChange: (seconds: number) => void;
  disabled: boolean;
}) {
  const { value, unit } = humanDelay(seconds);
  return (
    <div className="inline-fields">
      <Field
        id={`${id}-value`}
        label={label}
        type="number"
        min={1}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(toSeconds(Math.max(1, Number(e.currentTarget.value) || 1), unit))}
      />
      <SelectField id={`${id}-unit`} label="Unit" value={unit} disabled={disabled} onChange={(e) => onChange(toSeconds(value, e.currentTarget.value as Unit))}>
        {UNITS.map(([u]) => (
          <option key={u} value={u}>
            {u}
          </option>
        ))}
      </SelectField>
    </div>
  );
}

/** The fields of one step. */
function StepFields({
  step,
  index,
  options,
  errors,
  problems,
  disabled,
  onChange,
}: {
  step: AutomationStep;
  index: number;
  options: Options;
  errors: Record<string, string>;
  problems: Record<string, string>;
  disabled: boolean;
  onChange: (step: AutomationStep) => void;
}) {
  const id = `step-${index}`;
  const error = (field: string) => errors[`steps.${index}.${field}`];
  switch (step.type) {
    case 'send_email':
      return (
        <SelectField
          id={`${id}-template`}
          label="Template"
          value={step.template_id}
          disabled={disabled}
          error={error('template_id')}
          onChange={(e) => onChange({ ...step, template_id: e.currentTarget.value })}
        >
          <option value="">Choose a marketing template</option>
          {options.templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
      );
    case 'delay':
      return <DelayInput id={id} label="Wait for" seconds={step.seconds} disabled={disabled} onChange={(seconds) => onChange({ ...step, seconds })} />;
    case 'wait_for_event':
      return (
        <>
          <Field
            id={`${id}-event`}
            label="Event name"
            value={step.event}
            disabled={disabled}
            error={error('event')}
            onChange={(e) => onChange({ ...step, event: e.currentTarget.value })}
          />
          <DelayInput
            id={`${id}-timeout`}
            label="At most"
            seconds={step.timeout_seconds}
            disabled={disabled}
            onChange={(timeout_seconds) => onChange({ ...step, timeout_seconds })}
          />
          <SelectField
            id={`${id}-timeout-action`}
            label="If it does not come"
            value={step.on_timeout}
            disabled={disabled}
            onChange={(e) => onChange({ ...step, on_timeout: e.currentTarget.value as 'continue' | 'exit' })}
          >
            <option value="continue">continue</option>
            <option value="exit">exit</option>
          </SelectField>
        </>
      );
    case 'condition':
      return (
        <>
          <p className="muted small">The run goes on only when the subscriber matches these conditions at this step; otherwise it exits.</p>
          <ConditionBuilder
            label="Continue only for subscribers who match"
            value={step.filter as SegmentFilter}
            onChange={(filter) => onChange({ ...step, filter } as AutomationStep)}
            options={options}
            problems={problems}
            disabled={disabled}
          />
        </>
      );
    case 'add_tag':
    case 'remove_tag':
      return (
        <SelectField
          id={`${id}-tag`}
          label="Topic"
          value={step.tag_id}
          disabled={disabled}
          error={error('tag_id')}
          onChange={(e) => onChange({ ...step, tag_id: e.currentTarget.value })}
        >
          <option value="">Choose a topic</option>
          {options.tags.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
      );
    default:
      return <p className="muted">The run ends here.</p>;
  }
}

export default function AutomationDetailPage({ params }: { params: Record<string, string> }) {
  const id = params.id!;
  const { organizationId, can } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const canWrite = can('admin');
  const automation = useQuery({
    queryKey: keys.automations.detail(organizationId, id),
    queryFn: () => unwrap(api.GET('/api/v1/triggers/{id}', { params: { path: { id } } })),
  });
  const counts = useQuery({
    queryKey: [...keys.automations.detail(organizationId, id), 'steps'],
    queryFn: () => unwrap(api.GET('/api/v1/triggers/{id}/steps', { params: { path: { id } } })),
    refetchInterval: 5000,
  });
  const templates = useQuery({
    queryKey: keys.templates.list(organizationId, 'active'),
    queryFn: () => unwrap(api.GET('/api/v1/templates', { params: { query: { limit: 100 } } })),
  });
  const builderOptions = useBuilderOptions();
  const [showProblems, setShowProblems] = useState(false);
  const [steps, setSteps] = useState<AutomationStep[] | null>(null);
  const [name, setName] = useState('');
  const [newType, setNewType] = useState<StepType>('send_email');
  useEffect(() => {
    if (automation.data) {
      setSteps(automation.data.steps);
      setName(automation.data.name);
    }
  }, [automation.data]);

  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.automations.all(organizationId) });
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/triggers/{id}', {
          params: { path: { id } },
          body: {
            name: name.trim(),
            steps: (steps ?? []).map((step) =>
              step.type === 'condition' ? ({ ...step, filter: toApiFilter(step.filter as SegmentFilter) } as AutomationStep) : step,
            ),
          },
        }),
      ),
    onSuccess: async (saved: Automation) => {
      await refresh();
      setShowProblems(false);
      toast.success(saved.version !== automation.data?.version ? `Saved as version ${saved.version}; runs in flight finish on theirs.` : 'Saved.');
    },
  });
  const toggle = useMutation({
    mutationFn: (active: boolean) => unwrap(api.POST(active ? '/api/v1/triggers/{id}/activate' : '/api/v1/triggers/{id}/pause', { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (error) => toast.error(describeError(error)),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/triggers/{id}', { params: { path: { id } } })),
    onSuccess: async () => {
      await refresh();
      navigate('/automations');
    },
    onError: (error) => toast.error(describeError(error)),
  });

  if (automation.isError) return <ErrorState error={automation.error} onRetry={() => void automation.refetch()} />;
  if (automation.isPending || steps === null) return <Loading label="Loading the automation…" />;
  const a = automation.data;
  const errors = fieldErrors(save.error);
  const options: Options = {
    ...builderOptions,
    templates: (templates.data?.items ?? []).filter((t) => t.category === 'marketing'),
  };
  // Each condition step's problems: the builder's own checks (shown after a save attempt) and the server's.
  const stepProblems = (index: number): Record<string, string> => {
    const step = steps[index]!;
    if (step.type !== 'condition') return {};
    const fromServer = save.error instanceof ApiRequestError ? serverProblems(save.error.details, `steps.${index}.filter`) : {};
    return { ...fromServer, ...(showProblems ? filterProblems(step.filter as SegmentFilter) : {}) };
  };
  const invalidConditions = steps.some((step) => step.type === 'condition' && Object.keys(filterProblems(step.filter as SegmentFilter)).length > 0);
  const trySave = () => {
    if (invalidConditions) {
      setShowProblems(true);
      return;
    }
    save.mutate();
  };
  const dirty = JSON.stringify(steps) !== JSON.stringify(a.steps) || name.trim() !== a.name;
  const update = (index: number, step: AutomationStep) => setSteps(steps.map((s, i) => (i === index ? step : s)));
  const move = (index: number, by: -1 | 1) => {
    const next = [...steps];
    [next[index], next[index + by]] = [next[index + by]!, next[index]!];
    setSteps(next);
  };
  async function askDelete() {
    if (
      await confirm({
        title: 'Delete this automation?',
        message: 'Its runs end and their history is deleted. Emails already sent stay in the email log.',
        confirmLabel: 'Delete',
        danger: true,
      })
    )
      remove.mutate();
  }
  const actions = canWrite ? (
    <>
      {a.is_active ? (
        <Button busy={toggle.isPending} onClick={() => toggle.mutate(false)}>
          Pause
        </Button>
      ) : (
        <Button variant="primary" busy={toggle.isPending} onClick={() => toggle.mutate(true)}>
          Activate
        </Button>
      )}
      <Button variant="danger" onClick={() => void askDelete()}>
        Delete
      </Button>
    </>
  ) : null;
  const stepCount = (index: number) => counts.data?.steps.find((s) => s.index === index);
  return (
    <Page
      title={a.name}
      description={
        <>
          <Badge status={a.is_active ? 'active' : 'paused'} /> version {a.version}
        </>
      }
      back={{ to: '/automations', label: 'Automations' }}
      actions={actions}
    >
      <Section title="Runs">
        <QueryView query={counts} loadingLabel="Loading counts…">
          {(c) => (
            <ul className="inline-list">
              <li>
                in progress: <strong>{formatNumber(c.runs.active)}</strong>
              </li>
              <li>
                completed: <strong>{formatNumber(c.runs.completed)}</strong>
              </li>
              <li>
                exited: <strong>{formatNumber(c.runs.exited)}</strong>
              </li>
            </ul>
          )}
        </QueryView>
        <p className="muted small">
          Starts when: {EVENTS.find(([value]) => value === a.event)?.[1] ?? `your app reports "${a.event}"`}
          {a.tag_id ? ` (${options.tags.find((t) => t.id === a.tag_id)?.name ?? 'one topic'})` : ''} · re-entry: {a.reentry.replace(/_/g, ' ')}
        </p>
      </Section>
      <Section title="Steps">
        <Field id="automation-name" label="Name" value={name} disabled={!canWrite} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
        <ol className="step-list">
          {steps.map((step, index) => {
            const count = stepCount(index);
            return (
              <li key={index} className="card">
                <p>
                  <strong>
                    {index + 1}. {STEP_TYPES.find(([t]) => t === step.type)?.[1]}
                  </strong>
                  {count && !dirty ? (
                    <span className="muted small">
                      {' '}
                      · entered {formatNumber(count.entered)} · waiting {formatNumber(count.waiting)} · completed {formatNumber(count.completed)} · exited{' '}
                      {formatNumber(count.exited)}
                      {Object.keys(count.exit_reasons).length > 0
                        ? ` (${Object.entries(count.exit_reasons)
                            .map(([r, n]) => `${r.replace(/_/g, ' ')}: ${formatNumber(n)}`)
                            .join(', ')})`
                        : ''}
                    </span>
                  ) : null}
                </p>
                <StepFields
                  step={step}
                  index={index}
                  options={options}
                  errors={errors}
                  problems={stepProblems(index)}
                  disabled={!canWrite}
                  onChange={(next) => update(index, next)}
                />
                {canWrite ? (
                  <div className="inline-list">
                    <Button disabled={index === 0} onClick={() => move(index, -1)}>
                      Move up
                    </Button>
                    <Button disabled={index === steps.length - 1} onClick={() => move(index, 1)}>
                      Move down
                    </Button>
                    <Button variant="danger" disabled={steps.length === 1} onClick={() => setSteps(steps.filter((_, i) => i !== index))}>
                      Remove
                    </Button>
                  </div>
                ) : null}
              </li>
            );
          })}
        </ol>
        {canWrite ? (
          <>
            <div className="inline-fields">
              <SelectField id="new-step-type" label="Add a step" value={newType} onChange={(e) => setNewType(e.currentTarget.value as StepType)}>
                {STEP_TYPES.map(([t, label]) => (
                  <option key={t} value={t}>
                    {label}
                  </option>
                ))}
              </SelectField>
              <Button onClick={() => setSteps([...steps, newStep(newType, { templateId: options.templates[0]?.id, tagId: options.tags[0]?.id })])}>Add</Button>
            </div>
            <FormError
              message={save.isError ? describeError(save.error) : showProblems && invalidConditions ? 'A condition step needs your attention.' : null}
            />
            <Button variant="primary" disabled={!dirty} busy={save.isPending} onClick={trySave}>
              Save
            </Button>
            <p className="muted small">Changing the steps makes a new version: subscribers who enter from then on run it, runs in flight finish on theirs.</p>
          </>
        ) : null}
      </Section>
    </Page>
  );
}
