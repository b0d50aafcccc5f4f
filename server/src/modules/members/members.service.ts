import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, forbidden, notFound } from '../../lib/errors.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { Role } from '../auth/index.ts';
import type { Executor } from '../../db/client.ts';
import type { MemberRepository } from './members.repository.ts';

/** The member acting: their user id and role in the organization. */
export interface Actor {
  userId: string;
  role: Role;
}

const lastOwner = () => conflict('last_owner', 'An organization needs at least one owner; make someone else owner first');
const ownerOnly = () => forbidden('owner_only', 'Only an owner can grant, change or remove the owner role');

function toMember(row: { id: string; role: string; created_at: Date; user_id: string; email: string; name: string | null; last_login_at: Date | null }) {
  return {
    id: row.id,
    role: row.role as Role,
    created_at: row.created_at,
    user: { id: row.user_id, email: row.email, name: row.name, last_login_at: row.last_login_at },
  };
}

export function createMemberService(deps: { db: Kysely<DB>; memberRepository: MemberRepository }) {
  const { db, memberRepository: repo } = deps;

  /** Refuses a change that would leave the organization without an owner. */
  async function keepAnOwner(trx: Executor, organizationId: string, leavingOwnerId: string): Promise<void> {
    const owners = await repo.lockOwners(trx, organizationId);
    if (owners.filter((id) => id !== leavingOwnerId).length === 0) throw lastOwner();
  }

  return {
    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(rows.map(toMember), limit);
    },

    /** Admins manage admins and viewers; only owners touch the owner role; the last owner stays owner. */
    async changeRole(organizationId: string, actor: Actor, memberId: string, role: Role) {
      const before = await db.transaction().execute(async (trx) => {
        const member = await repo.get(organizationId, memberId, trx);
        if (!member) throw notFound('member');
        if ((member.role === 'owner' || role === 'owner') && actor.role !== 'owner') throw ownerOnly();
        if (member.role === 'owner' && role !== 'owner') await keepAnOwner(trx, organizationId, member.id);
        await repo.setRole(trx, organizationId, memberId, role);
        return member.role;
      });
      const member = await repo.get(organizationId, memberId);
      if (!member) throw notFound('member');
      return { member: toMember(member), previousRole: before as Role };
    },

    async remove(organizationId: string, actor: Actor, memberId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const member = await repo.get(organizationId, memberId, trx);
        if (!member) throw notFound('member');
        if (member.role === 'owner') {
          if (actor.role !== 'owner') throw ownerOnly();
          await keepAnOwner(trx, organizationId, member.id);
        }
        await repo.delete(trx, organizationId, memberId);
      });
    },

    /** A member leaves on their own; an organization they are not in answers as if it did not exist. */
    async leave(organizationId: string, userId: string): Promise<string> {
      return db.transaction().execute(async (trx) => {
        const membership = await repo.findByUser(trx, organizationId, userId);
        if (!membership) throw notFound('organization');
        if (membership.role === 'owner') await keepAnOwner(trx, organizationId, membership.id);
        await repo.delete(trx, organizationId, membership.id);
        return membership.id;
      });
    },
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
