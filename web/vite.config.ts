import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './precompress.ts';

// Two single-page apps share this workspace: the preference center (`web/preferences`) and the admin
// dashboard (`web/admin`). Each builds on its own (`WEB_APP=<name> vite build`) into `dist/<name>`,
// self-contained, so each can be its own Cloudflare Pages project or be served by the API at /<name>/.
const here = path.dirname(fileURLToPath(import.meta.url));
const app = process.env.WEB_APP ?? 'preferences';
if (!['preferences', 'admin'].includes(app)) throw new Error(`WEB_APP must be "preferences" or "admin", not "${app}"`);

export default defineConfig({
  root: path.join(here, app),
  // Served by the API under /<app>/; a Pages project serves the app at its root (WEB_BASE=/).
  base: process.env.WEB_BASE ?? `/${app}/`,
  plugins: [react(), precompress()],
  resolve: { alias: { '@shared': path.join(here, 'src/shared') } },
  build: { outDir: path.join(here, 'dist', app), emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
