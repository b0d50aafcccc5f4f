import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import { EDIT_BASE_URL, REPOSITORY_URL, outDir, readVariant, siteUrl } from './site.ts';
import { sidebarFor } from './sidebar.ts';

const variant = readVariant();
// content.config.ts reads the same variable; normalise it so both agree even when it was unset.
process.env.DOCS_VARIANT = variant;

export default defineConfig({
  site: siteUrl(variant),
  // A project site on GitHub Pages lives under /<repository>/; the path of the site URL says so.
  base: new URL(siteUrl(variant)).pathname,
  outDir: outDir(variant),
  // Separate caches per variant: the content data store of one build must never feed the other.
  cacheDir: `./node_modules/.astro-${variant}`,
  integrations: [
    starlight({
      title: variant === 'internal' ? 'Subscribe Flow (internal)' : 'Subscribe Flow',
      description: 'Self-hosted email subscription and preference management.',
      social: [{ icon: 'github', label: 'GitHub', href: REPOSITORY_URL }],
      editLink: { baseUrl: EDIT_BASE_URL },
      sidebar: sidebarFor(variant),
      head: variant === 'internal' ? [{ tag: 'meta', attrs: { name: 'robots', content: 'noindex, nofollow' } }] : [],
    }),
  ],
});
