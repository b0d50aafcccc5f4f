import { sql, type Kysely, type Transaction } from 'kysely';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { DB } from '../../db/types.ts';
import { newId, uuidv7Floor } from '../../lib/ids.ts';
import type { RelayedEvent } from '../events/index.ts';

export const DELIVERY_STATUSES = ['pending', 'failed', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What the API shows of an endpoint: never its secrets. */
const endpointColumns = [
  'id',
  'url',
  'description',
  'event_types',
  'enabled',
  'legacy_signature',
  'disabled_reason',
  'disabled_at',
  'failing_since',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;

export interface EndpointRow {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  legacy_signature: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const deliveryColumns = [
  'id',
  'endpoint_id',
  'event_id',
  'event_type',
  'event_created_at',
  'replay',
  'status',
  'attempts',
  'next_attempt_at',
  'last_status_code',
  'last_error',
  'last_duration_ms',
  'delivered_at',
  'created_at',
] as const;

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  event_created_at: Date;
  replay: boolean;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  delivered_at: Date | null;
  created_at: Date;
}

export interface AttemptRow {
  attempt: number;
  request_headers: Record<string, string>;
  status_code: number | null;
  response_snippet: string | null;
  duration_ms: number;
  error: string | null;
  created_at: Date;
}

/** A claimed attempt: the delivery with what sending it needs from its endpoint. */
export interface ClaimedDelivery {
  id: string;
  organization_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  event_created_at: Date;
  payload: unknown;
  attempts: number;
  url: string;
  enabled: boolean;
  legacy_signature: boolean;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
}

/** A delivery claimed for its first attempt in a batch; the endpoint is read once for the batch. */
export type ClaimedBatchDelivery = Pick<
  ClaimedDelivery,
  'id' | 'organization_id' | 'endpoint_id' | 'event_id' | 'event_type' | 'event_created_at' | 'payload' | 'attempts'
>;

/** What signing and sending need from an endpoint. */
export interface SendingEndpoint {
  id: string;
  organization_id: string;
  url: string;
  enabled: boolean;
  legacy_signature: boolean;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
}

/** How one attempt ended, as the delivery handler decided. */
export interface AttemptOutcome {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  requestHeaders: Record<string, string>;
  statusCode: number | null;
  responseSnippet: string | null;
  durationMs: number;
  error: string | null;
  /** 410 Gone: the receiver asked for no more deliveries. */
  gone: boolean;
}

/** Every query is filtered by the organization, except the worker's, which go by a delivery id it was given. */
export function createWebhookRepository(db: Kysely<DB>) {
  return {
    transaction: <T>(work: (trx: Transaction<DB>) => Promise<T>) => db.transaction().execute(work),

    async countEndpoints(organizationId: string): Promise<number> {
      const row = await db
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async insertEndpoint(
      organizationId: string,
      values: { url: string; description: string; event_types: string[]; enabled: boolean; legacy_signature: boolean; secret_encrypted: string },
    ): Promise<EndpointRow> {
      return db
        .insertInto('webhook_endpoints')
        .values({ id: newId(), organization_id: organizationId, ...values })
        .returning(endpointColumns)
        .executeTakeFirstOrThrow() as Promise<EndpointRow>;
    },

    async listEndpoints(organizationId: string, options: { limit: number; beforeId?: string }): Promise<EndpointRow[]> {
      let query = db.selectFrom('webhook_endpoints').select(endpointColumns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute() as Promise<EndpointRow[]>;
    },

    async findEndpoint(organizationId: string, id: string): Promise<EndpointRow | undefined> {
      return db
        .selectFrom('webhook_endpoints')
        .select(endpointColumns)
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst() as Promise<EndpointRow | undefined>;
    },

    /** Re-enabling clears the failure state, so a fixed receiver is not disabled again by its old failures. */
    async updateEndpoint(
      organizationId: string,
      id: string,
      patch: { url?: string; description?: string; event_types?: string[]; enabled?: boolean; legacy_signature?: boolean },
    ): Promise<EndpointRow | undefined> {
      const reenable = patch.enabled === true ? { disabled_reason: null, disabled_at: null, failing_since: null } : {};
      return db
        .updateTable('webhook_endpoints')
        .set({ ...patch, ...reenable, updated_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning(endpointColumns)
        .executeTakeFirst() as Promise<EndpointRow | undefined>;
    },

    async deleteEndpoint(organizationId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('webhook_endpoints').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** The current secret becomes the previous one, signing beside the new one until `overlapUntil`. */
    async rotateSecret(organizationId: string, id: string, sealed: string, overlapUntil: Date): Promise<EndpointRow | undefined> {
      return db
        .updateTable('webhook_endpoints')
        .set({
          previous_secret_encrypted: sql<string>`secret_encrypted`,
          previous_secret_expires_at: overlapUntil,
          secret_encrypted: sealed,
          updated_at: sql<Date>`now()`,
        })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning(endpointColumns)
        .executeTakeFirst() as Promise<EndpointRow | undefined>;
    },

    /**
     * One delivery per (event, enabled endpoint of its organization subscribed to its type), in one
     * statement for the whole relayed batch. The unique index makes a second relay of the same events a
     * no-op; only rows created now are returned (and get a job).
     */
    async createDeliveriesForEvents(trx: Transaction<DB>, events: readonly RelayedEvent[]): Promise<{ id: string; endpoint_id: string }[]> {
      if (events.length === 0) return [];
      const result = await sql<{ id: string; endpoint_id: string }>`
        insert into webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, event_created_at, payload, next_attempt_at)
        select webhook_delivery_id(), e.organization_id, w.id, e.id, e.type, e.created_at, e.payload, now()
        from unnest(${events.map((e) => e.id)}::uuid[]) as r(id)
        join events e on e.id = r.id
        join webhook_endpoints w on w.organization_id = e.organization_id and w.enabled
          and (w.event_types @> array[e.type] or w.event_types @> array['*'])
          -- An endpoint receives the events that happened after it was created; older ones only by replay
          -- (the relay may hand over an event after an endpoint was added, which would deliver it twice).
          and w.created_at <= e.created_at
        order by e.id, w.id
        on conflict (endpoint_id, event_id) where not replay do nothing
        returning id, endpoint_id`.execute(trx);
      return result.rows;
    },

    /** A delivery not made from the outbox (the test event). */
    async insertDelivery(organizationId: string, endpointId: string, event: { id: string; type: string; payload: unknown }): Promise<DeliveryRow> {
      return db
        .insertInto('webhook_deliveries')
        .values({
          id: newId(),
          organization_id: organizationId,
          endpoint_id: endpointId,
          event_id: event.id,
          event_type: event.type,
          event_created_at: sql<Date>`now()`,
          payload: JSON.stringify(event.payload),
          replay: true,
          next_attempt_at: sql<Date>`now()`,
        })
        .returning(deliveryColumns)
        .executeTakeFirstOrThrow() as Promise<DeliveryRow>;
    },

    /**
     * Every outbox event of the window that the endpoint subscribes to, delivered again as new deliveries
     * (at most `max`; the caller is told when the window held more). Events past their retention are gone.
     */
    async replay(organizationId: string, endpointId: string, window: { from: Date; to: Date }, max: number): Promise<{ ids: string[]; more: boolean }> {
      const result = await sql<{ id: string }>`
        insert into webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, event_created_at, payload, replay, next_attempt_at)
        select webhook_delivery_id(), e.organization_id, w.id, e.id, e.type, e.created_at, e.payload, true, now()
        from webhook_endpoints w
        join lateral (
          select id, organization_id, type, created_at, payload from events
          where organization_id = w.organization_id and id >= ${uuidv7Floor(window.from)}::uuid and id < ${uuidv7Floor(window.to)}::uuid
            and (w.event_types @> array[type] or w.event_types @> array['*'])
          order by id limit ${max + 1}
        ) e on true
        where w.organization_id = ${organizationId}::uuid and w.id = ${endpointId}::uuid
        order by e.id
        limit ${max}
        returning id`.execute(db);
      const total = await db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('organization_id', '=', organizationId)
        .where('id', '>=', uuidv7Floor(window.from))
        .where('id', '<', uuidv7Floor(window.to))
        .executeTakeFirstOrThrow();
      return { ids: result.rows.map((r) => r.id), more: Number(total.n) > result.rows.length && result.rows.length === max };
    },

    async listDeliveries(
      organizationId: string,
      endpointId: string,
      options: { limit: number; beforeId?: string; status?: DeliveryStatus; eventType?: string },
    ): Promise<DeliveryRow[]> {
      let query = db
        .selectFrom('webhook_deliveries')
        .select(deliveryColumns)
        .where('organization_id', '=', organizationId)
        .where('endpoint_id', '=', endpointId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.status) query = query.where('status', '=', options.status);
      if (options.eventType) query = query.where('event_type', '=', options.eventType);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute() as Promise<DeliveryRow[]>;
    },

    async findDelivery(organizationId: string, id: string): Promise<(DeliveryRow & { payload: unknown; attempt_log: AttemptRow[] }) | undefined> {
      const delivery = await db
        .selectFrom('webhook_deliveries')
        .select([...deliveryColumns, 'payload'])
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!delivery) return undefined;
      const attempts = await db
        .selectFrom('webhook_attempts')
        .select(['attempt', 'request_headers', 'status_code', 'response_snippet', 'duration_ms', 'error', 'created_at'])
        .where('delivery_id', '=', id)
        .orderBy('attempt')
        .execute();
      return { ...(delivery as DeliveryRow & { payload: unknown }), attempt_log: attempts as AttemptRow[] };
    },

    /** A delivery sent again by hand, whatever its state: due now, with one more attempt allowed. */
    async resetForRetry(organizationId: string, id: string): Promise<{ id: string; endpoint_id: string; attempts: number } | undefined> {
      return db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning(['id', 'endpoint_id', 'attempts'])
        .executeTakeFirst();
    },

    /**
     * Takes attempt `attempt` of a delivery: only when it is the next one and the delivery still waits, so
     * a job that runs twice sends once. If the worker dies before recording the outcome, the sweep starts
     * the next attempt once the lease has passed. Returns what sending needs, or nothing when there is nothing to do.
     */
    async claimAttempt(deliveryId: string, attempt: number, leaseSeconds: number): Promise<ClaimedDelivery | undefined> {
      // The lease keeps the sweep from starting the next attempt while this one is still in flight.
      const result = await sql<ClaimedDelivery>`
        with claimed as (
          update webhook_deliveries set attempts = ${attempt}, next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
          where id = ${deliveryId}::uuid and attempts = ${attempt - 1} and status in ('pending', 'failed')
          returning id, organization_id, endpoint_id, event_id, event_type, event_created_at, payload, attempts
        )
        select c.*, w.url, w.enabled, w.legacy_signature, w.secret_encrypted, w.previous_secret_encrypted, w.previous_secret_expires_at
        from claimed c join webhook_endpoints w on w.id = c.endpoint_id`.execute(db);
      return result.rows[0];
    },

    /**
     * Takes the first attempt of new deliveries to one endpoint (a relayed batch), in one statement, with
     * the same guard as `claimAttempt`: only deliveries still at attempt 0 and pending, so a batch job that
     * runs twice, or a sweep's single job beside it, sends each delivery once.
     */
    async claimFirstAttempts(endpointId: string, deliveryIds: readonly string[], leaseSeconds: number): Promise<ClaimedBatchDelivery[]> {
      const result = await sql<ClaimedBatchDelivery>`
        update webhook_deliveries set attempts = 1, next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
        where id = any(${deliveryIds}::uuid[]) and endpoint_id = ${endpointId}::uuid and attempts = 0 and status = 'pending'
        returning id, organization_id, endpoint_id, event_id, event_type, event_created_at, payload, attempts`.execute(db);
      return result.rows;
    },

    /**
     * The endpoint's oldest new deliveries not yet claimed by anyone, claimed for their first attempt.
     * The CTE is materialized: as a subquery of the UPDATE, LIMIT … SKIP LOCKED could be run again and
     * claim more than `limit` rows.
     */
    async claimNextFirstAttempts(endpointId: string, limit: number, leaseSeconds: number): Promise<ClaimedBatchDelivery[]> {
      const result = await sql<ClaimedBatchDelivery>`
        with next as materialized (
          select id from webhook_deliveries
          where endpoint_id = ${endpointId}::uuid and attempts = 0 and status = 'pending'
          order by id limit ${limit} for update skip locked
        )
        update webhook_deliveries d set attempts = 1, next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
        from next where d.id = next.id
        returning d.id, d.organization_id, d.endpoint_id, d.event_id, d.event_type, d.event_created_at, d.payload, d.attempts`.execute(db);
      return result.rows;
    },

    /** First attempts claimed but not sent (the job stopped): waiting again, due now. */
    async unclaimFirstAttempts(deliveryIds: readonly string[]): Promise<void> {
      if (deliveryIds.length === 0) return;
      await sql`
        update webhook_deliveries set attempts = 0, next_attempt_at = now()
        where id = any(${deliveryIds}::uuid[]) and attempts = 1 and status = 'pending'`.execute(db);
    },

    /** Whether any of these deliveries still waits for its first attempt. */
    async anyUnclaimed(deliveryIds: readonly string[]): Promise<boolean> {
      const row = await db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('id', '=', sql<string>`any(${deliveryIds}::uuid[])`)
        .where('attempts', '=', 0)
        .where('status', '=', 'pending')
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** What signing and sending need from an endpoint. */
    async endpointForSending(endpointId: string): Promise<SendingEndpoint | undefined> {
      return db
        .selectFrom('webhook_endpoints')
        .select(['id', 'organization_id', 'url', 'enabled', 'legacy_signature', 'secret_encrypted', 'previous_secret_encrypted', 'previous_secret_expires_at'])
        .where('id', '=', endpointId)
        .executeTakeFirst();
    },

    /** Records one attempt; see `recordAttempts`. */
    async recordAttempt(
      delivery: { id: string; endpoint_id: string; attempts: number },
      outcome: AttemptOutcome,
      disableAfterHours: number,
    ): Promise<{ disabledReason: string | null }> {
      return this.recordAttempts(delivery.endpoint_id, [{ delivery, outcome }], disableAfterHours);
    },

    /**
     * Records attempts to one endpoint: their log rows, the deliveries' new states and the endpoint's
     * failure state, in one transaction with one statement each, whatever their number. A failure starts
     * (or continues) the endpoint's failing period; any success ends it. When the period has lasted
     * `disableAfterHours`, or the receiver answered 410, the endpoint is disabled; the returned reason
     * tells the caller to notify the organization (only the call that disabled it).
     */
    async recordAttempts(
      endpointId: string,
      results: readonly { delivery: { id: string; attempts: number }; outcome: AttemptOutcome }[],
      disableAfterHours: number,
    ): Promise<{ disabledReason: string | null }> {
      if (results.length === 0) return { disabledReason: null };
      const deliveryIds = results.map((r) => r.delivery.id);
      const codes = results.map((r) => r.outcome.statusCode);
      const errors = results.map((r) => r.outcome.error);
      const durations = results.map((r) => r.outcome.durationMs);
      return db.transaction().execute(async (trx) => {
        await sql`
          insert into webhook_attempts (id, delivery_id, attempt, request_headers, status_code, response_snippet, duration_ms, error)
          select * from unnest(${results.map(() => newId())}::uuid[], ${deliveryIds}::uuid[], ${results.map((r) => r.delivery.attempts)}::int[],
            ${results.map((r) => JSON.stringify(r.outcome.requestHeaders))}::jsonb[], ${codes}::int[], ${results.map((r) => r.outcome.responseSnippet)}::text[],
            ${durations}::int[], ${errors}::text[])`.execute(trx);
        await sql`
          update webhook_deliveries d set status = u.status, next_attempt_at = u.next_attempt_at, last_status_code = u.status_code,
            last_error = u.error, last_duration_ms = u.duration_ms, delivered_at = case when u.status = 'succeeded' then now() else d.delivered_at end
          from unnest(${deliveryIds}::uuid[], ${results.map((r) => r.outcome.status)}::text[], ${results.map((r) => r.outcome.nextAttemptAt)}::timestamptz[],
            ${codes}::int[], ${errors}::text[], ${durations}::int[]) as u(id, status, next_attempt_at, status_code, error, duration_ms)
          where d.id = u.id`.execute(trx);
        const gone = results.some((r) => r.outcome.gone);
        if (!gone && results.some((r) => r.outcome.status === 'succeeded')) {
          await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', endpointId).where('failing_since', 'is not', null).execute();
          return { disabledReason: null };
        }
        const goneReason = 'The endpoint answered 410 Gone';
        const failing = `Every delivery failed for ${disableAfterHours} hours`;
        const disabled = await sql<{ disabled_reason: string }>`
          update webhook_endpoints set
            failing_since = coalesce(failing_since, now()),
            enabled = case when ${gone} or coalesce(failing_since, now()) <= now() - make_interval(hours => ${disableAfterHours}) then false else enabled end,
            disabled_reason = case when ${gone} then ${goneReason} else ${failing} end,
            disabled_at = now(), updated_at = now()
          where id = ${endpointId}::uuid and enabled
            and (${gone} or coalesce(failing_since, now()) <= now() - make_interval(hours => ${disableAfterHours}))
          returning disabled_reason`.execute(trx);
        if (disabled.rows.length === 0) {
          await trx
            .updateTable('webhook_endpoints')
            .set({ failing_since: sql<Date>`coalesce(failing_since, now())` })
            .where('id', '=', endpointId)
            .execute();
          return { disabledReason: null };
        }
        return { disabledReason: disabled.rows[0]!.disabled_reason };
      });
    },

    /** Deliveries whose endpoint was disabled before they were sent: dead, no attempt made. */
    async markUndeliverable(deliveryIds: string | readonly string[], reason: string): Promise<void> {
      const ids = typeof deliveryIds === 'string' ? [deliveryIds] : deliveryIds;
      if (ids.length > 0)
        await db.updateTable('webhook_deliveries').set({ status: 'dead', next_attempt_at: null, last_error: reason }).where('id', 'in', ids).execute();
    },

    /** Deliveries due for an attempt whose job may have been lost (Redis down when it was enqueued). */
    async dueDeliveries(limit: number): Promise<{ id: string; endpoint_id: string; attempts: number }[]> {
      return db
        .selectFrom('webhook_deliveries')
        .select(['id', 'endpoint_id', 'attempts'])
        .where('status', 'in', ['pending', 'failed'])
        .where('next_attempt_at', '<=', sql<Date>`now()`)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
    },

    /** Owners' and admins' addresses, for the notice that an endpoint was disabled. */
    async adminEmails(organizationId: string): Promise<{ email: string; name: string }[]> {
      return db
        .selectFrom('organization_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .innerJoin('organizations as o', 'o.id', 'm.organization_id')
        .select(['u.email', 'o.name'])
        .where('m.organization_id', '=', organizationId)
        .where('m.role', 'in', ['owner', 'admin'])
        .execute();
    },

    /** Delivery logs past retention, attempts with them. */
    async deleteDeliveriesBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      const floor = uuidv7Floor(cutoff);
      return deleteInChunks(
        async () =>
          (
            await db
              .deleteFrom('webhook_deliveries')
              .where('id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('id', '<', floor).limit(DELETE_CHUNK))
              .executeTakeFirst()
          ).numDeletedRows,
        signal,
      );
    },
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
