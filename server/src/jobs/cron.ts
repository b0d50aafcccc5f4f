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
export const retentionSchedule: Schedule = {
  name: 'retention-cleanup',
  expression: '30 3 * * *',
  job: (tick) => ({ name: 'retention.cleanup', payload: { day: day(tick) } }),
};

/** Enqueues the job of one tick of a schedule (what a node-cron task runs; tests call it directly). */
export async function enqueueTick(producer: JobProducer, schedule: Schedule, tick: Date): Promise<JobRequest> {
  const request = schedule.job(tick);
  await producer.enqueueMany([request]);
  return request;
}

/**
 * The most recent minute at or before `now` that `expression` (five fields, UTC) matches, or null when
 * none did in the last 400 days. It names the period a schedule should have enqueued last. Day of month
 * and day of week must both match, as node-cron decides; only numeric fields are understood (every
 * schedule here is written so).
 */
export function latestTick(expression: string, now: Date): Date | null {
  const fields = cron.parse(expression);
  const daysOfMonth = new Set(fields.dayOfMonth);
  const daysOfWeek = new Set(fields.dayOfWeek.map((d) => Number(d) % 7));
  const months = new Set(fields.month);
  // Minutes of the day the schedule runs at, latest first.
  const times = fields.hour.flatMap((h) => fields.minute.map((m) => h * 60 + m)).sort((a, b) => b - a);
  const nowMinute = now.getUTCHours() * 60 + now.getUTCMinutes();
  for (let back = 0; back <= 400; back += 1) {
    const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - back));
    if (!months.has(date.getUTCMonth() + 1) || !daysOfMonth.has(date.getUTCDate()) || !daysOfWeek.has(date.getUTCDay())) continue;
    const time = times.find((t) => t <= (back === 0 ? nowMinute : 24 * 60 - 1));
    if (time !== undefined) return new Date(date.getTime() + time * 60_000);
  }
  return null;
}

/** The connection the producer enqueues on: its `ready` event says Redis is back after an outage. */
type ReadySignal = { on(event: 'ready', listener: () => void): unknown };

/**
 * What each tick does, and the catch-up. A tick that cannot enqueue (Redis down) is logged as an error;
 * its period is not lost: at start and whenever the connection is ready again after a failed enqueue,
 * the latest due period of every schedule is enqueued. Job ids are derived from the period, so a
 * period that did get enqueued (by this or another cron process) is not enqueued twice.
 */
export function createCronRunner(deps: {
  producer: JobProducer;
  logger: Logger;
  metrics: Metrics;
  schedules: readonly Schedule[];
  connection?: ReadySignal;
  now?: () => Date;
}) {
  const { producer, logger, metrics, schedules } = deps;
  const now = deps.now ?? (() => new Date());
  // True until a catch-up succeeded, and again after any failed enqueue.
  let behind = true;

  async function tick(schedule: Schedule, date: Date): Promise<boolean> {
    try {
      const request = await enqueueTick(producer, schedule, date);
      metrics.cronEnqueued.inc({ schedule: schedule.name });
      logger.debug({ schedule: schedule.name, job: request.name }, 'enqueued');
      // Redis answers again: should a catch-up have failed or been missed, this makes it up.
      if (behind) void catchUp();
      return true;
    } catch (error) {
      behind = true;
      logger.error({ err: error, schedule: schedule.name, tick: date.toISOString() }, 'could not enqueue a scheduled job; it runs when Redis is back');
      return false;
    }
  }

  let running: Promise<boolean> | null = null;
  function catchUp(): Promise<boolean> {
    running ??= enqueueLatest().finally(() => {
      running = null;
    });
    return running;
  }

  async function enqueueLatest(): Promise<boolean> {
    const at = now();
    const due = schedules.flatMap((schedule) => {
      const date = latestTick(schedule.expression, at);
      return date ? [{ schedule, request: schedule.job(date) }] : [];
    });
    try {
      await producer.enqueueMany(due.map((d) => d.request));
      behind = false;
      logger.info({ schedules: due.map((d) => d.schedule.name) }, 'enqueued the latest due period of every schedule');
      return true;
    } catch (error) {
      behind = true;
      logger.error({ err: error }, 'could not enqueue the latest due periods; retrying when Redis is back');
      return false;
    }
  }

  deps.connection?.on('ready', () => {
    if (behind) void catchUp();
  });

  return { tick, catchUp };
}

/**
 * Starts every schedule in UTC and catches up on missed periods (createCronRunner); returns a stop
 * function. What cron does, and only that: each tick enqueues one job whose id is derived from the
 * tick, so any number of cron processes (a restart, a second replica) enqueue each period's work once.
 * The work itself runs in the worker.
 */
export function startCron(deps: Parameters<typeof createCronRunner>[0]): { tasks: ScheduledTask[]; catchUp(): Promise<boolean>; stop(): Promise<void> } {
  const runner = createCronRunner(deps);
  const tasks = deps.schedules.map((schedule) =>
    cron.schedule(
      schedule.expression,
      async ({ date }) => {
        await runner.tick(schedule, date);
      },
      { name: schedule.name, timezone: 'UTC', noOverlap: true },
    ),
  );
  void runner.catchUp();
  return {
    tasks,
    catchUp: runner.catchUp,
    async stop() {
      await Promise.all(tasks.map((task) => task.destroy()));
    },
  };
}
