import { sql, type Kysely } from 'kysely';
import { DELETE_CHUNK, deleteInChunks } from '../../db/chunked-delete.ts';
import { FREE_PLAN } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';

export interface BillingState {
  id: string;
  name: string;
  plan: string;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string | null;
  current_period_end: Date | null;
  past_due_since: Date | null;
  billing_email: string | null;
}

export interface SubscriptionState {
  plan: string;
  stripe_subscription_id: string;
  subscription_status: string;
  current_period_start: Date | null;
  current_period_end: Date | null;
  /** Past due (or unpaid): the grace period counts from the first time it was seen so. */
  past_due: boolean;
}

export interface ReceivedEvent {
  id: string;
  type: string;
  organization_id: string | null;
  customer_id: string | null;
  subscription_id: string | null;
}

const STATE_COLUMNS = [
  'id',
  'name',
  'plan',
  'stripe_customer_id',
  'stripe_subscription_id',
  'subscription_status',
  'current_period_end',
  'past_due_since',
  'billing_email',
] as const;

export function createBillingRepository(db: Kysely<DB>) {
  return {
    async state(organizationId: string): Promise<BillingState | undefined> {
      return db.selectFrom('organizations').select(STATE_COLUMNS).where('id', '=', organizationId).where('deleted_at', 'is', null).executeTakeFirst();
    },

    async organizationOfCustomer(customerId: string): Promise<BillingState | undefined> {
      return db.selectFrom('organizations').select(STATE_COLUMNS).where('stripe_customer_id', '=', customerId).executeTakeFirst();
    },

    /** Links the organization to its Stripe customer unless it has one already; the customer in force either way. */
    async linkCustomer(organizationId: string, customerId: string): Promise<string | null> {
      await db
        .updateTable('organizations')
        .set({ stripe_customer_id: customerId, updated_at: sql`now()` })
        .where('id', '=', organizationId)
        .where('stripe_customer_id', 'is', null)
        .execute();
      const row = await db.selectFrom('organizations').select('stripe_customer_id').where('id', '=', organizationId).executeTakeFirst();
      return row?.stripe_customer_id ?? null;
    },

    /**
     * Writes what Stripe says the subscription is now. `past_due_since` keeps the first moment the
     * subscription was seen past due (the grace period does not restart on every retry) and clears once paid.
     */
    async applySubscription(organizationId: string, state: SubscriptionState): Promise<void> {
      await db
        .updateTable('organizations')
        .set({
          plan: state.plan,
          stripe_subscription_id: state.stripe_subscription_id,
          subscription_status: state.subscription_status,
          current_period_start: state.current_period_start,
          current_period_end: state.current_period_end,
          past_due_since: state.past_due ? sql<Date>`coalesce(past_due_since, now())` : null,
          updated_at: sql`now()`,
        })
        .where('id', '=', organizationId)
        .execute();
    },

    /**
     * The first start with billing on, once per database: records it and puts every organization that
     * exists then without a subscription (on the free plan, the column's default) on `plan`, unless the
     * database shows billing was in use already (a Stripe customer or event). A later
     * start, or a second process starting at the same moment (it waits on the row's key), changes
     * nothing. Undefined when billing had been turned on before.
     */
    async activate(plan: string): Promise<{ organizations: number; billedBefore: boolean } | undefined> {
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('billing_activation')
          .values({ existing_plan: plan, organizations: 0 })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) return undefined;
        // An install that ran billing before this record existed has Stripe customers or events: its
        // organizations on Free are there by the plan, not by the switch, and stay on it.
        const billedBefore = await sql<{ found: boolean }>`
          select exists (select 1 from organizations where stripe_customer_id is not null) or exists (select 1 from stripe_events) as found`.execute(trx);
        if (billedBefore.rows[0]?.found) {
          await trx.updateTable('billing_activation').set({ existing_plan: FREE_PLAN }).execute();
          return { organizations: 0, billedBefore: true };
        }
        const moved = await trx
          .updateTable('organizations')
          .set({ plan, updated_at: sql`now()` })
          .where('plan', '=', FREE_PLAN)
          .where('stripe_subscription_id', 'is', null)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        const organizations = plan === FREE_PLAN ? 0 : Number(moved.numUpdatedRows);
        await trx.updateTable('billing_activation').set({ organizations }).execute();
        return { organizations, billedBefore: false };
      });
    },

    /** Records a received event; false when its id was received before (a redelivery). */
    async recordEvent(event: ReceivedEvent): Promise<boolean> {
      // The reference comes from the event (a checkout's client_reference_id): kept only when it names an organization.
      const organization = event.organization_id ? sql<string | null>`(select id from organizations where id = ${event.organization_id}::uuid)` : null;
      const result = await db
        .insertInto('stripe_events')
        .values({ ...event, organization_id: organization })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    /** Forgets a received event whose job could not be enqueued, so Stripe's redelivery is accepted. */
    async forgetEvent(id: string): Promise<void> {
      await db.deleteFrom('stripe_events').where('id', '=', id).where('applied_at', 'is', null).execute();
    },

    async event(id: string): Promise<ReceivedEvent | undefined> {
      return db.selectFrom('stripe_events').select(['id', 'type', 'organization_id', 'customer_id', 'subscription_id']).where('id', '=', id).executeTakeFirst();
    },

    async markApplied(id: string): Promise<void> {
      await db
        .updateTable('stripe_events')
        .set({ applied_at: sql`now()` })
        .where('id', '=', id)
        .execute();
    },

    /** Received events older than `cutoff`, deleted in chunks (retention). */
    async deleteEventsBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      return deleteInChunks(
        async () =>
          (
            await sql`
        delete from stripe_events where id in (select id from stripe_events where received_at < ${cutoff} limit ${DELETE_CHUNK})`.execute(db)
          ).numAffectedRows ?? 0n,
        signal,
      );
    },
  };
}

export type BillingRepository = ReturnType<typeof createBillingRepository>;
