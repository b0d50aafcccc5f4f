import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { Row } from '../../db/client.ts';
import { randomToken, sha256Hex } from '../../lib/crypto.ts';
import { conflict, forbidden, notFound, unauthorized } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { LINK_TOKEN } from '../auth/index.ts';
import { adminAppLink, invitationEmail } from '../auth/index.ts';
import type { Role, UserRepository } from '../auth/index.ts';
import type { EmailProvider } from '../email/index.ts';
import type { MemberRepository } from '../members/index.ts';
import type { Actor } from '../members/index.ts';
import type { OrganizationRepository } from '../organizations/index.ts';
import type { InvitationRepository, InvitationStatus } from './invitations.repository.ts';

export const INVITATION_TTL_DAYS = 7;
const TOKEN_BYTES = 32;

type InvitationRow = Row<'invitations', 'id' | 'email' | 'role' | 'invited_by_user_id' | 'expires_at' | 'accepted_at' | 'revoked_at' | 'sent_count' | 'created_at'>;

function statusOf(row: { accepted_at: Date | null; revoked_at: Date | null; expires_at: Date }): InvitationStatus {
  if (row.accepted_at) return 'accepted';
  if (row.revoked_at) return 'revoked';
  return row.expires_at.getTime() <= Date.now() ? 'expired' : 'pending';
}

const toInvitation = (row: InvitationRow) => ({ ...row, role: row.role as Role, status: statusOf(row) });
const newToken = () => {
  const token = randomToken(TOKEN_BYTES);
  return { token, hash: sha256Hex(token), expiresAt: new Date(Date.now() + INVITATION_TTL_DAYS * 86_400_000) };
};

type Deps = {
  db: Kysely<DB>;
  config: Pick<Readonly<Config>, 'ADMIN_APP_URL' | 'AUTH_EMAIL_FROM'>;
  invitationRepository: InvitationRepository;
  memberRepository: MemberRepository;
  organizationRepository: OrganizationRepository;
  userRepository: UserRepository;
  emailProvider: EmailProvider;
};

export function createInvitationService(deps: Deps) {
  const { db, config, invitationRepository: repo, memberRepository: members, userRepository: users } = deps;

  /** Sends the invitation email; called after the row is committed, never inside the transaction. */
  async function send(organizationId: string, invitation: InvitationRow, token: string): Promise<void> {
    const organization = await deps.organizationRepository.findById(organizationId);
    if (!organization) throw notFound('organization');
    const content = invitationEmail(adminAppLink(config.ADMIN_APP_URL, '/invitations/accept', token), organization.name, invitation.role, INVITATION_TTL_DAYS);
    await deps.emailProvider.send({
      from: config.AUTH_EMAIL_FROM, to: invitation.email, ...content, organizationId,
      idempotencyKey: `invitation-${invitation.id}-${invitation.sent_count}`,
    });
  }

  return {
    async list(organizationId: string, query: { limit?: number; cursor?: string; status?: InvitationStatus }) {
      const limit = query.limit ?? 50;
      const rows = await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor), status: query.status });
      return toPage(rows.map(toInvitation), limit);
    },

    async create(organizationId: string, actor: Actor, input: { email: string; role: Role }) {
      if (input.role === 'owner' && actor.role !== 'owner') throw forbidden('owner_only', 'Only an owner can invite another owner');
      const email = input.email.trim();
      if (await members.findByEmail(organizationId, email)) throw conflict('already_member', 'This address already belongs to a member');
      const { token, hash, expiresAt } = newToken();
      let invitation: InvitationRow;
      try {
        invitation = await repo.insert(db, {
          id: newId(), organization_id: organizationId, email, role: input.role, token_hash: hash, invited_by_user_id: actor.userId, expires_at: expiresAt,
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw conflict('invitation_exists', 'This address already has an open invitation; resend it instead');
        throw error;
      }
      await send(organizationId, invitation, token);
      return toInvitation(invitation);
    },

    /** A new link (the old one stops working) and another 7 days, for an invitation not yet accepted or revoked. */
    async resend(organizationId: string, id: string) {
      const { token, hash, expiresAt } = newToken();
      const invitation = await repo.rotate(organizationId, id, hash, expiresAt);
      if (!invitation) {
        if (await repo.exists(organizationId, id)) throw conflict('invitation_closed', 'The invitation was already accepted or revoked');
        throw notFound('invitation');
      }
      await send(organizationId, invitation, token);
      return toInvitation(invitation);
    },

    async revoke(organizationId: string, id: string): Promise<void> {
      if (await repo.revoke(organizationId, id)) return;
      if (await repo.exists(organizationId, id)) throw conflict('invitation_closed', 'The invitation was already accepted or revoked');
      throw notFound('invitation');
    },

    /**
     * Accepts an invitation: the link proves control of the address, so the invitee's account is found
     * or created, joins the organization with the invited role (an existing member keeps theirs) and is
     * signed in by the caller. The token works once.
     */
    /**
     * The invitation as its link's holder may see it before accepting: the organization's name, the role,
     * who sent it and when it expires. An unknown token is invalid_token, as when accepting.
     */
    async details(token: string) {
      if (!LINK_TOKEN.test(token)) throw unauthorized('invalid_token', 'The invitation link is not valid');
      const found = await repo.detailsByHash(sha256Hex(token));
      if (!found) throw unauthorized('invalid_token', 'The invitation link is not valid');
      return {
        organization: { name: found.organization_name }, role: found.role as Role, email: found.email,
        invited_by: found.inviter_email ? { email: found.inviter_email, name: found.inviter_name } : null,
        expires_at: found.expires_at, status: statusOf(found),
      };
    },

    async accept(token: string): Promise<{ userId: string; organizationId: string; role: Role; memberId: string }> {
      const invalid = () => unauthorized('invalid_token', 'The invitation link is not valid');
      if (!LINK_TOKEN.test(token)) throw invalid();
      const hash = sha256Hex(token);
      const found = await repo.findByHash(hash);
      if (!found) throw invalid();
      const explain = (row: { accepted_at: Date | null; revoked_at: Date | null; expires_at: Date }) => {
        const status = statusOf(row);
        if (status === 'accepted') return unauthorized('invitation_already_used', 'This invitation was already accepted; sign in instead');
        if (status === 'revoked') return unauthorized('invitation_revoked', 'This invitation was withdrawn');
        if (status === 'expired') return unauthorized('invitation_expired', 'This invitation has expired; ask for a new one');
        return invalid();
      };
      if (statusOf(found) !== 'pending') throw explain(found);
      return db.transaction().execute(async (trx) => {
        const user = await users.upsert(trx, { id: newId(), email: found.email });
        const consumed = await repo.consume(trx, hash, user.id);
        if (!consumed) throw explain((await repo.findByHash(hash)) ?? { accepted_at: null, revoked_at: null, expires_at: new Date(0) });
        await members.add(trx, { id: newId(), organization_id: consumed.organization_id, user_id: user.id, role: consumed.role as Role });
        const membership = (await members.findByUser(trx, consumed.organization_id, user.id))!;
        return { userId: user.id, organizationId: consumed.organization_id, role: membership.role as Role, memberId: membership.id };
      });
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;
