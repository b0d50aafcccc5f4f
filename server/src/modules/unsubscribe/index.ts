import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { EmailLinks } from '../email/index.ts';
import { defineModule, mount } from '../module.ts';
import { createUnsubscribeRepository } from './unsubscribe.repository.ts';
import { unsubscribeRoutes } from './unsubscribe.routes.ts';
import { createUnsubscribeService } from './unsubscribe.service.ts';

export type { UnsubscribeRequest, UnsubscribeService } from './unsubscribe.service.ts';

/** One-click unsubscribe (RFC 8058) at `/u/{token}`, the URL of every marketing email's List-Unsubscribe header. */
export function createUnsubscribeModule(deps: { db: Kysely<DB>; config: Readonly<Config>; tokens: TokenSigner; links: EmailLinks }) {
  const unsubscribe = createUnsubscribeService({ db: deps.db, unsubscribeRepository: createUnsubscribeRepository() });
  return defineModule({
    name: 'unsubscribe',
    services: { unsubscribe },
    rootRoutes: mount(unsubscribeRoutes, { config: deps.config, tokens: deps.tokens, links: deps.links, unsubscribe }),
  });
}
