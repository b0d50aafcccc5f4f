import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthService, UserRepository } from '../auth/index.ts';
import type { EmailProvider } from '../email/index.ts';
import type { MemberRepository } from '../members/index.ts';
import type { OrganizationRepository } from '../organizations/index.ts';
import { defineModule, mount } from '../module.ts';
import { createInvitationRepository } from './invitations.repository.ts';
import { invitationRoutes } from './invitations.routes.ts';
import { createInvitationService } from './invitations.service.ts';

/** Invitations to join an organization with a role: emailed, 7 days, single use; accepting signs the invitee in. */
export function createInvitationsModule(deps: {
  db: Kysely<DB>;
  config: Readonly<Config>;
  emailProvider: EmailProvider;
  memberRepository: MemberRepository;
  organizationRepository: OrganizationRepository;
  userRepository: UserRepository;
  auth: AuthService;
  auditLog: AuditLog;
  background: BackgroundTasks;
}) {
  const { db, config } = deps;
  const invitations = createInvitationService({
    db,
    config,
    invitationRepository: createInvitationRepository(db),
    memberRepository: deps.memberRepository,
    organizationRepository: deps.organizationRepository,
    userRepository: deps.userRepository,
    emailProvider: deps.emailProvider,
  });
  return defineModule({
    name: 'invitations',
    services: { invitations },
    routes: mount(invitationRoutes, { config, invitations, auth: deps.auth, auditLog: deps.auditLog, background: deps.background }),
  });
}
