import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { ApiKeyService } from '../api-keys/index.ts';
import type { UserRepository } from '../auth/index.ts';
import type { MemberRepository } from '../members/index.ts';
import type { OrganizationRepository } from '../organizations/index.ts';
import { defineModule, mount } from '../module.ts';
import { platformRoutes } from './platform.routes.ts';
import { createPlatformService } from './platform.service.ts';

export type { PlatformService } from './platform.service.ts';

/** What platform operators do across organizations (list, suspend, unsuspend) and the operator CLI. */
export function createPlatformModule(deps: {
  db: Kysely<DB>;
  organizationRepository: OrganizationRepository;
  userRepository: UserRepository;
  memberRepository: MemberRepository;
  apiKeys: ApiKeyService;
}) {
  const platform = createPlatformService(deps);
  return defineModule({ name: 'platform', services: { platform }, routes: mount(platformRoutes, { platform }) });
}
