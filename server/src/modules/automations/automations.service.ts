import { insertEvents } from '../events/index.ts';
import type { SegmentFilter, SegmentService } from '../segments/index.ts';
import { notFound, unprocessable, type ErrorDetail } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, encodeCursor, toPage } from '../../lib/pagination.ts';
import type { AutomationRepository, AutomationRow } from './automations.repository.ts';
import {
  BUILT_IN_TRIGGERS,
  MAX_EVENT_DATA_BYTES,
  MIN_DELAY_SECONDS,
  type CreateTriggerBody,
  type Step,
  type UpdateTriggerBody,
} from './automations.schemas.ts';

const isBuiltIn = (event: string): boolean => (BUILT_IN_TRIGGERS as readonly string[]).includes(event);
const invalid = (details: ErrorDetail[]) => unprocessable('invalid_automation', 'The automation is not valid', details);

/** The single-step form (`template_id`, `delay_seconds`) as steps. */
function stepsOf(input: { steps?: Step[] | undefined; template_id?: string | undefined; delay_seconds?: number | undefined }): Step[] | undefined {
  if (input.steps) return input.steps;
  if (!input.template_id) return undefined;
  const delay = input.delay_seconds ?? 0;
  return [...(delay > 0 ? [{ type: 'delay' as const, seconds: delay }] : []), { type: 'send_email' as const, template_id: input.template_id }];
}

/** The API's view: the stored row plus the single-step fields, derived from the steps. */
function toTrigger(row: AutomationRow) {
  const firstSend = row.steps.findIndex((s) => s.type === 'send_email');
  const delay = row.steps.slice(0, firstSend < 0 ? 0 : firstSend).reduce((sum, s) => sum + (s.type === 'delay' ? s.seconds : 0), 0);
  const send = firstSend >= 0 ? row.steps[firstSend] : undefined;
  return {
    id: row.id,
    name: row.name,
    event: row.trigger_event === 'custom' ? row.trigger_event_name! : row.trigger_event,
    tag_id: row.trigger_tag_id,
    template_id: send?.type === 'send_email' ? send.template_id : null,
    delay_seconds: delay,
    conditions: row.conditions as SegmentFilter | null,
    steps: row.steps,
    reentry: row.reentry,
    is_active: row.is_active,
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/**
 * Automations (the `/triggers` API): checking and storing them with their versions, per-step counts,
 * a subscriber's timeline, and custom events. Running them is automations.jobs.ts.
 */
export function createAutomationService(deps: { repository: AutomationRepository; segments: Pick<SegmentService, 'compile'> }) {
  const repo = deps.repository;

  /** Everything a step or the trigger names must be the organization's and make sense (422 naming it). */
  async function check(
    organizationId: string,
    input: { event: string; tag_id: string | null; steps: Step[]; conditions: SegmentFilter | null; delay_seconds?: number | undefined },
  ) {
    const details: ErrorDetail[] = [];
    if (input.delay_seconds !== undefined && input.delay_seconds > 0 && input.delay_seconds < MIN_DELAY_SECONDS)
      details.push({ field: 'delay_seconds', message: `is 0 or at least ${MIN_DELAY_SECONDS}` });
    if (input.tag_id && input.event !== 'tag.subscribed' && input.event !== 'tag.unsubscribed')
      details.push({ field: 'tag_id', message: 'only filters tag.subscribed and tag.unsubscribed' });
    const templateIds = input.steps.flatMap((s) => (s.type === 'send_email' ? [s.template_id] : []));
    const tagIds = [
      ...input.steps.flatMap((s) => (s.type === 'add_tag' || s.type === 'remove_tag' ? [s.tag_id] : [])),
      ...(input.tag_id ? [input.tag_id] : []),
    ];
    const [templates, tags] = await Promise.all([repo.templates(organizationId, templateIds), repo.tags(organizationId, tagIds)]);
    for (const [index, step] of input.steps.entries()) {
      if (step.type === 'send_email') {
        const category = templates.get(step.template_id);
        if (!category) details.push({ field: `steps.${index}.template_id`, message: 'no such template' });
        else if (category !== 'marketing')
          details.push({
            field: `steps.${index}.template_id`,
            message: 'is a transactional template; automations send marketing templates (they carry the unsubscribe footer)',
          });
      }
      if ((step.type === 'add_tag' || step.type === 'remove_tag') && !tags.has(step.tag_id))
        details.push({ field: `steps.${index}.tag_id`, message: 'no such tag' });
      if (step.type === 'condition') {
        try {
          await deps.segments.compile(organizationId, step.filter);
        } catch (error) {
          details.push({ field: `steps.${index}.filter`, message: error instanceof Error ? error.message : 'is not valid' });
        }
      }
    }
    if (input.tag_id && !tags.has(input.tag_id)) details.push({ field: 'tag_id', message: 'no such tag' });
    if (input.conditions) {
      try {
        await deps.segments.compile(organizationId, input.conditions);
      } catch (error) {
        details.push({ field: 'conditions', message: error instanceof Error ? error.message : 'is not valid' });
      }
    }
    if (details.length > 0) throw invalid(details);
  }

  async function get(organizationId: string, id: string) {
    const row = await repo.find(organizationId, id);
    if (!row) throw notFound('trigger');
    return row;
  }

  return {
    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(rows.map(toTrigger), limit);
    },

    async get(organizationId: string, id: string) {
      return toTrigger(await get(organizationId, id));
    },

    async create(organizationId: string, input: CreateTriggerBody) {
      const steps = stepsOf(input);
      if (!steps) throw invalid([{ field: 'steps', message: 'give steps, or template_id for a single email' }]);
      if (input.steps && input.template_id) throw invalid([{ field: 'template_id', message: 'give either steps or template_id, not both' }]);
      const row = {
        id: newId(),
        organization_id: organizationId,
        name: input.name,
        trigger_event: isBuiltIn(input.event) ? input.event : 'custom',
        trigger_tag_id: input.tag_id ?? null,
        trigger_event_name: isBuiltIn(input.event) ? null : input.event,
        conditions: input.conditions ?? null,
        reentry: input.reentry ?? 'never',
        is_active: input.is_active ?? false,
        steps,
      };
      await check(organizationId, {
        event: input.event,
        tag_id: row.trigger_tag_id,
        steps,
        conditions: row.conditions as SegmentFilter | null,
        delay_seconds: input.delay_seconds,
      });
      await repo.transaction((trx) => repo.insert(trx, { ...row, versionId: newId() }));
      return this.get(organizationId, row.id);
    },

    /** Changing the steps, the event or the conditions makes a new version; runs in flight keep theirs. */
    async update(organizationId: string, id: string, input: UpdateTriggerBody) {
      await repo.transaction(async (trx) => {
        const current = await repo.find(organizationId, id, { executor: trx, lock: true });
        if (!current) throw notFound('trigger');
        const currentView = toTrigger(current);
        const event = input.event ?? currentView.event;
        const explicitSteps = stepsOf({
          steps: input.steps,
          template_id: input.template_id,
          delay_seconds: input.delay_seconds ?? (input.template_id ? currentView.delay_seconds : undefined),
        });
        const steps = explicitSteps ?? current.steps;
        const next: AutomationRow = {
          ...current,
          name: input.name ?? current.name,
          trigger_event: isBuiltIn(event) ? event : 'custom',
          trigger_event_name: isBuiltIn(event) ? null : event,
          trigger_tag_id: input.tag_id !== undefined ? input.tag_id : current.trigger_tag_id,
          conditions: input.conditions !== undefined ? input.conditions : current.conditions,
          reentry: input.reentry ?? current.reentry,
          is_active: input.is_active ?? current.is_active,
          steps,
        };
        await check(organizationId, {
          event,
          tag_id: next.trigger_tag_id,
          steps,
          conditions: next.conditions as SegmentFilter | null,
          delay_seconds: input.delay_seconds,
        });
        const changed =
          JSON.stringify(steps) !== JSON.stringify(current.steps) ||
          next.trigger_event !== current.trigger_event ||
          next.trigger_event_name !== current.trigger_event_name ||
          next.trigger_tag_id !== current.trigger_tag_id ||
          JSON.stringify(next.conditions) !== JSON.stringify(current.conditions);
        await repo.update(trx, current, next, changed ? newId() : null);
      });
      return this.get(organizationId, id);
    },

    async setActive(organizationId: string, id: string, active: boolean) {
      return this.update(organizationId, id, { is_active: active });
    },

    async remove(organizationId: string, id: string): Promise<void> {
      if (!(await repo.remove(organizationId, id))) throw notFound('trigger');
    },

    /** Per step of a version (default: the current one): entered, waiting, completed, exited with reasons. */
    async stepCounts(organizationId: string, id: string, version?: number) {
      const row = await get(organizationId, id);
      const wanted = version ?? row.version;
      const versionId = await repo.versionId(organizationId, id, wanted);
      if (!versionId) throw notFound('version');
      const steps = wanted === row.version ? row.steps : await repo.versionSteps(versionId);
      const counts = await repo.counts(organizationId, versionId);
      const runs = { active: 0, completed: 0, exited: 0 };
      for (const r of counts.runs) runs[r.status as keyof typeof runs] = r.count;
      return {
        version: wanted,
        runs,
        steps: steps.map((step, index) => {
          const of = (status: string) => counts.steps.find((c) => c.step_index === index && c.status === status)?.count ?? 0;
          const exits = counts.exits.filter((e) => e.step_index === index);
          const exitedHere = exits.reduce((sum, e) => sum + e.count, 0);
          return {
            index,
            type: step.type,
            entered: of('waiting') + of('completed') + of('exited'),
            waiting: of('waiting'),
            completed: of('completed'),
            exited: exitedHere,
            exit_reasons: Object.fromEntries(exits.map((e) => [e.reason, e.count])),
          };
        }),
      };
    },

    /** A subscriber's runs with their steps, newest first (404 for a subscriber of another organization). */
    async timeline(organizationId: string, subscriberId: string, query: { limit?: number; cursor?: string }) {
      if (!(await repo.subscriberExists(organizationId, subscriberId))) throw notFound('subscriber');
      const limit = query.limit ?? 50;
      const rows = await repo.timeline(organizationId, subscriberId, { limit, beforeId: decodeCursor(query.cursor) });
      const items = rows.slice(0, limit).map((r) => ({
        id: r.id,
        automation: { id: r.automation_id, name: r.automation_name, version: r.version },
        status: r.status,
        test: r.test,
        exit_reason: r.exit_reason,
        next_step_at: r.status === 'active' ? r.next_at : null,
        entered_at: r.entered_at,
        finished_at: r.finished_at,
        steps: r.steps,
      }));
      return { items, next_cursor: rows.length > limit && items.length > 0 ? encodeCursor(items.at(-1)!.id) : null };
    },

    /**
     * Records a custom event of a subscriber and puts it in the outbox (`custom_event.received`), where
     * the relay hands it to the automations. A repeated idempotency key records nothing new.
     */
    async recordEvent(
      organizationId: string,
      input: {
        subscriber_id?: string | undefined;
        email?: string | undefined;
        name: string;
        data?: Record<string, unknown> | undefined;
        idempotency_key?: string | undefined;
      },
      options: { test?: boolean } = {},
    ) {
      if (!input.subscriber_id === !input.email)
        throw unprocessable('validation_error', 'The request is not valid', [{ field: 'subscriber_id', message: 'give subscriber_id or email (one of them)' }]);
      const data = input.data ?? {};
      if (Buffer.byteLength(JSON.stringify(data)) > MAX_EVENT_DATA_BYTES)
        throw unprocessable('validation_error', 'The request is not valid', [
          { field: 'data', message: `is larger than ${MAX_EVENT_DATA_BYTES} bytes as JSON` },
        ]);
      const subscriber = await repo.subscriberByRef(organizationId, { id: input.subscriber_id, email: input.email });
      if (!subscriber) throw notFound('subscriber');
      const id = newId();
      const key = input.idempotency_key ?? null;
      const created = await repo.transaction(async (trx) => {
        if (!(await repo.insertCustomEvent(trx, { id, organizationId, subscriberId: subscriber.id, name: input.name, idempotencyKey: key }))) return false;
        await insertEvents(trx, organizationId, [
          {
            type: 'custom_event.received',
            subjectId: subscriber.id,
            payload: {
              subscriber: { id: subscriber.id, email: subscriber.email },
              name: input.name,
              data,
              custom_event_id: id,
              // Sent with an sf_test_ key: the automations it starts or resumes are test runs.
              ...(options.test ? { test: true } : {}),
            },
          },
        ]);
        return true;
      });
      if (created) return { id, duplicate: false };
      return { id: (await repo.customEventByKey(organizationId, key!)) ?? id, duplicate: true };
    },
  };
}

export type AutomationService = ReturnType<typeof createAutomationService>;
