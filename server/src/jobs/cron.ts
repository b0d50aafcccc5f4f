import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { JobProducer } from './producer.ts';
import type { JobRequest } from './registry.ts';

/** One schedule: a cron expression (UTC) and the job one of its ticks stands for. */
export interface Schedule {
  name: string;
  expression: string;
  job(tick: Date): JobRequest;
}

const pad = (n: number) => String(n).padStart(2, '0');
const day = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
/** A tick rounded down to `everyMinutes`, as text without ':' (BullMQ job ids cannot hold one). */
export function minuteTick(date: Date, everyMinutes = 1): string {
  const minutes = date.getUTCMinutes() - (date.getUTCMinutes() % everyMinutes);
  return `${day(date)}T${pad(date.getUTCHours())}${pad(minutes)}Z`;
}

/** The daily cleanup of data past retention, for every module's retention tasks. */
export const retentionSchedule: Schedule = { name: 'retention-cleanup', expression: '30 3 * * *', job: (tick) => ({ name: 'retention.cleanup', payload: { day: day(tick) } }) };

/** Enqueues the job of one tick of a schedule (what a node-cron task runs; tests call it directly). */
export async function enqueueTick(producer: JobProducer, schedule: Schedule, tick: Date): Promise<JobRequest> {
  const request = schedule.job(tick);
  await producer.enqueueMany([request]);
  return request;
}

/**
 * Starts every schedule in UTC; returns a stop function. What cron does, and only that: each tick
 * enqueues one job whose id is derived from the tick, so any number of cron processes (a restart, a
 * second replica) enqueue each period's work once. The work itself runs in the worker.
 */
export function startCron(deps: { producer: JobProducer; logger: Logger; metrics: Metrics; schedules: readonly Schedule[] }): { tasks: ScheduledTask[]; stop(): Promise<void> } {
  const tasks = deps.schedules.map((schedule) => cron.schedule(schedule.expression, async ({ date }) => {
    try {
      const request = await enqueueTick(deps.producer, schedule, date);
      deps.metrics.cronEnqueued.inc({ schedule: schedule.name });
      deps.logger.debug({ schedule: schedule.name, job: request.name }, 'enqueued');
    } catch (error) {
      deps.logger.error({ err: error, schedule: schedule.name }, 'could not enqueue a scheduled job');
    }
  }, { name: schedule.name, timezone: 'UTC', noOverlap: true }));
  return {
    tasks,
    async stop() {
      await Promise.all(tasks.map((task) => task.destroy()));
    },
  };
}
