import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { createMemberRepository } from './members.repository.ts';
import { memberRoutes } from './members.routes.ts';
import { createMemberService } from './members.service.ts';

export type { MemberRepository } from './members.repository.ts';
export type { Actor, MemberService } from './members.service.ts';

/** An organization's members and their roles (owner, admin, viewer); an organization always keeps an owner. */
export function createMembersModule(deps: { db: Kysely<DB> }) {
  const memberRepository = createMemberRepository(deps.db);
  const members = createMemberService({ db: deps.db, memberRepository });
  return defineModule({ name: 'members', services: { members, memberRepository }, routes: mount(memberRoutes, { members }) });
}
