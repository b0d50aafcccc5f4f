import type { Config } from '../../config/index.ts';
import { defineModule } from '../module.ts';
import { registerAdminSite } from './admin-site.ts';
import { registerAppCors } from './app-cors.ts';

/**
 * The admin dashboard in single-box mode (the built SPA at /admin/) and CORS for the web apps when they
 * are deployed on another origin than the API.
 */
export function createAdminSiteModule(deps: { config: Readonly<Config> }) {
  return defineModule({
    name: 'admin-site',
    services: {},
    hooks: (app) => registerAppCors(app, deps.config),
    rootRoutes: (app) => registerAdminSite(app, deps.config),
  });
}
