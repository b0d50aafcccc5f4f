import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DOCS_ROOT } from '../../scripts/generate.ts';
import { listMarkdown } from '../../scripts/lib/write.ts';
import { INTERNAL_DIR } from '../../site.ts';
import { pagefindPages, readSite, siteFiles, sitemapUrls } from './output.ts';

/** Site paths of the internal pages, from their sources (`internal/runbooks/stuck-queue.md` → `internal/runbooks/stuck-queue/`). */
async function internalPagePaths(): Promise<string[]> {
  const root = join(DOCS_ROOT, 'src/content/docs');
  const files = await listMarkdown(join(root, INTERNAL_DIR));
  return files.map((f) =>
    f
      .slice(root.length + 1)
      .split('\\')
      .join('/')
      .replace(/\.mdx?$/, '')
      .replace(/(^|\/)index$/, '')
      .concat('/'),
  );
}

describe('both sites build', () => {
  it.each(['public', 'internal'] as const)('builds the %s site with a home page, a 404 page and a search index', (variant) => {
    const files = siteFiles(variant);
    expect(files).toContain('index.html');
    expect(files).toContain('404.html');
    expect(files).toContain('pagefind/pagefind-entry.json');
    expect(files.some((f) => /^sitemap.*\.xml$/.test(f))).toBe(true);
  });
});

describe('the public site holds no internal page', () => {
  it('has internal pages in the source to keep out', async () => {
    expect((await internalPagePaths()).length).toBeGreaterThan(5);
  });

  it('renders no HTML file for an internal page', async () => {
    const files = siteFiles('public');
    expect(files.filter((f) => f.startsWith(`${INTERNAL_DIR}/`))).toEqual([]);
    for (const path of await internalPagePaths()) expect(files).not.toContain(`${path}index.html`);
  });

  it('mentions no internal path in any HTML, XML, JSON or script file', () => {
    const offenders = siteFiles('public')
      .filter((f) => /\.(html|xml|json|js|txt)$/.test(f))
      .filter((f) => readSite('public', f).includes(`/${INTERNAL_DIR}/`));
    expect(offenders).toEqual([]);
  });

  it('lists no internal page in the sitemap', () => {
    const urls = sitemapUrls('public');
    expect(urls.length).toBeGreaterThan(10);
    expect(urls.filter((u) => new URL(u).pathname.startsWith(`/${INTERNAL_DIR}/`))).toEqual([]);
  });

  it('indexes no internal page for search', () => {
    const pages = pagefindPages('public');
    expect(pages.length).toBeGreaterThan(10);
    expect(pages.filter((p) => p.url.startsWith(`/${INTERNAL_DIR}/`))).toEqual([]);
  });

  it('does not show the internal sidebar group', () => {
    // The home page is a splash page without a sidebar, so look at a page that has one.
    expect(readSite('internal', 'start/overview/index.html')).toContain('Decision records');
    expect(readSite('public', 'start/overview/index.html')).not.toContain('Decision records');
  });
});

describe('the internal site holds everything', () => {
  it('renders, lists and indexes every internal page', async () => {
    const files = siteFiles('internal');
    const sitemap = sitemapUrls('internal').map((u) => new URL(u).pathname);
    const indexed = pagefindPages('internal').map((p) => p.url);
    for (const path of await internalPagePaths()) {
      expect(files).toContain(`${path}index.html`);
      expect(sitemap).toContain(`/${path}`);
      expect(indexed).toContain(`/${path}`);
    }
  });

  it('contains every public page too', () => {
    const internal = new Set(siteFiles('internal'));
    const missing = siteFiles('public')
      .filter((f) => f.endsWith('.html'))
      .filter((f) => !internal.has(f));
    expect(missing).toEqual([]);
  });

  it('asks search engines not to index it', () => {
    expect(readSite('internal', 'index.html')).toMatch(/<meta name="robots" content="noindex, nofollow"/);
    expect(readSite('public', 'index.html')).not.toMatch(/name="robots"/);
  });
});
