import type { AutomationStep } from '../../api';

/** What starts an automation, as the dashboard names it; any other name is a custom event. */
export const EVENTS = [
  ['subscriber.created', 'A subscriber is added'],
  ['subscriber.confirmed', 'A subscriber confirms (double opt-in)'],
  ['tag.subscribed', 'A subscriber joins a topic'],
  ['tag.unsubscribed', 'A subscriber leaves a topic'],
] as const;

export const UNITS = [
  ['minutes', 60],
  ['hours', 3600],
  ['days', 86_400],
] as const;
export type Unit = (typeof UNITS)[number][0];

/** A delay in seconds as the largest unit that divides it: 172800 → 2 days. */
export function humanDelay(seconds: number): { value: number; unit: Unit } {
  for (const [unit, size] of [...UNITS].reverse()) if (seconds % size === 0) return { value: seconds / size, unit };
  return { value: Math.max(1, Math.round(seconds / 60)), unit: 'minutes' };
}

export const toSeconds = (value: number, unit: Unit) => value * UNITS.find(([u]) => u === unit)![1];

export function describeDelay(seconds: number): string {
  const { value, unit } = humanDelay(seconds);
  return `${value} ${value === 1 ? unit.slice(0, -1) : unit}`;
}

export const STEP_TYPES = [
  ['send_email', 'Send an email'],
  ['delay', 'Wait'],
  ['wait_for_event', 'Wait for an event'],
  ['condition', 'Continue only if'],
  ['add_tag', 'Add to a topic'],
  ['remove_tag', 'Remove from a topic'],
  ['exit', 'Exit'],
] as const;
export type StepType = (typeof STEP_TYPES)[number][0];

/** A new step of a type, with the first template or tag when there is one to pick. */
export function newStep(type: StepType, defaults: { templateId?: string; tagId?: string }): AutomationStep {
  switch (type) {
    case 'send_email':
      return { type, template_id: defaults.templateId ?? '' };
    case 'delay':
      return { type, seconds: 86_400 };
    case 'wait_for_event':
      return { type, event: '', timeout_seconds: 7 * 86_400, on_timeout: 'continue' };
    case 'condition':
      return { type, filter: { match: 'all', conditions: [{ field: 'tags', op: 'none', value: defaults.tagId ? [defaults.tagId] : [] }] } } as AutomationStep;
    case 'add_tag':
    case 'remove_tag':
      return { type, tag_id: defaults.tagId ?? '' };
    default:
      return { type: 'exit' };
  }
}
