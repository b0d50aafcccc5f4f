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
    rootRoutes: async (app) => {
      // A person who opens the API's address in a browser wants the dashboard, wherever it is served.
      app.get('/', { schema: { hide: true }, config: { access: { public: true }, rateLimit: false } }, (_request, reply) =>
        reply.redirect(deps.config.ADMIN_APP_URL, 302),
      );
      await registerAdminSite(app, deps.config);
    },
  });
}
