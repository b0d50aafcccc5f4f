import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { JobHandlers } from '../jobs/context.ts';
import type { QueueName } from '../jobs/registry.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { EventConsumer } from './events/index.ts';

/**
 * Data a module expires: the daily retention job (jobs/maintenance.ts) runs every module's tasks, each
 * deleting in chunks what is older than its period and stopping early on shutdown.
 */
export interface RetentionTask {
  name: string;
  days: number;
  run(cutoff: Date, signal: AbortSignal): Promise<number>;
}

/**
 * Work a worker process runs beside its queues for as long as it runs (e.g. the outbox relay woken by
 * LISTEN/NOTIFY). `create` is called once per worker runtime that works `queue`; `stop` ends it at shutdown.
 */
export interface WorkerLoop {
  name: string;
  queue: QueueName;
  create(): { start(): Promise<void>; stop(): Promise<void> };
}

/**
 * What one module contributes to the processes, returned by the factory in its `index.ts`. The
 * composition root (container.ts) builds every module with the narrow dependencies its factory asks for
 * and lists them; app.ts, the worker and the relay take their parts from that list. Nothing here is
 * required: a module may be only services.
 */
export interface Module<Services extends object = object> {
  name: string;
  /** The module's public services, for other modules (passed to their factories) and the CLI. */
  services: Services;
  /**
   * App-wide hooks this module attaches (audit logging of every mutation, CORS for the web apps),
   * registered after the core plugins (validation, errors, rate limit, auth) and before any route.
   */
  hooks?: (app: FastifyInstance) => void | Promise<void>;
  /** Routes under /api/v1. */
  routes?: FastifyPluginAsync;
  /** Routes outside /api/v1: provider webhooks, links in emails, static sites. */
  rootRoutes?: FastifyPluginAsync;
  /**
   * Handlers of this module's jobs, built only by the worker (their names and payloads are defined in
   * the one registry, jobs/registry.ts). `metrics` are the worker's.
   */
  jobs?: (worker: { metrics: Metrics }) => Partial<JobHandlers>;
  /** Loops the worker runs beside the queues (jobs/worker.ts). */
  workerLoops?: readonly WorkerLoop[];
  /** Consumers of outbox events, handed every relayed batch inside the relay's transaction. */
  eventConsumers?: readonly EventConsumer[];
  /** Data this module expires daily. */
  retention?: readonly RetentionTask[];
  /**
   * Work done once when a serving process (api, worker) starts, before it serves: idempotent, since every
   * process runs it; a failure stops the start.
   */
  start?: () => Promise<void>;
  /** Releases what the module holds (subscriptions, provider connections) at shutdown. */
  close?: () => Promise<void>;
}

/** Names a module's contribution with the exact type of its services, for the composition root. */
export const defineModule = <Services extends object>(module: Module<Services>): Module<Services> => module;

/** A route plugin with its options, as one plugin to register (what `routes` and `rootRoutes` take). */
export const mount =
  <Options extends object>(plugin: (app: FastifyInstance, options: Options) => Promise<void>, options: Options): FastifyPluginAsync =>
  async (app) => {
    await app.register(plugin as never, options);
  };
