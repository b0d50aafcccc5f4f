/**
 * Settings shared by the Astro config and the content collection config. The docs are built twice from one
 * source: `public` for customers and operators, `internal` for the team (everything public plus the pages
 * under `src/content/docs/internal/`). The variant is chosen with the DOCS_VARIANT environment variable and
 * defaults to `public`, so a build that forgets to set it can never publish internal pages.
 */

export type DocsVariant = 'public' | 'internal';

export const VARIANTS: readonly DocsVariant[] = ['public', 'internal'];

/** The folder (relative to `src/content/docs/`) that holds internal-only pages. */
export const INTERNAL_DIR = 'internal';

/** Where "Edit page" links point. Starlight appends the page's path relative to `docs-site/`. */
export const EDIT_BASE_URL = 'https://github.com/subscribe-flow/subscribe-flow/edit/main/docs-site/';

/** The repository shown in the header. */
export const REPOSITORY_URL = 'https://github.com/subscribe-flow/subscribe-flow';

/** Production URLs of the two sites; DOCS_SITE_URL overrides it for previews. */
const SITE_URLS: Record<DocsVariant, string> = {
  public: 'https://docs.subscribe-flow.example',
  internal: 'https://internal-docs.subscribe-flow.example',
};

export function readVariant(env: Record<string, string | undefined> = process.env): DocsVariant {
  const raw = (env.DOCS_VARIANT ?? 'public').trim() || 'public';
  if (raw === 'public' || raw === 'internal') return raw;
  throw new Error(`DOCS_VARIANT must be "public" or "internal", got "${raw}"`);
}

export function siteUrl(variant: DocsVariant, env: Record<string, string | undefined> = process.env): string {
  return env.DOCS_SITE_URL?.trim() || SITE_URLS[variant];
}

export function outDir(variant: DocsVariant): string {
  return `./dist-${variant}`;
}

/**
 * Glob patterns for the docs collection, relative to `src/content/docs/`. Files starting with `_` are
 * ignored as Starlight's own loader does. The public build leaves the internal folder out of the collection
 * itself, so its pages are never rendered, listed in the sidebar, put in the sitemap or indexed for search.
 */
export function docsPatterns(variant: DocsVariant): string[] {
  const all = '**/[^_]*.{md,mdx}';
  return variant === 'internal' ? [all] : [all, `!${INTERNAL_DIR}/**`];
}
