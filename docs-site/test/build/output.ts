import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DOCS_ROOT } from '../../scripts/generate.ts';
import type { DocsVariant } from '../../site.ts';

/** Helpers for reading a built site. Paths are site paths with forward slashes, without a leading slash. */

export function outDir(variant: DocsVariant): string {
  return join(DOCS_ROOT, `dist-${variant}`);
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else out.push(full);
  }
  return out.sort();
}

export function siteFiles(variant: DocsVariant): string[] {
  const root = outDir(variant);
  return listFiles(root).map((f) => relative(root, f).split(sep).join('/'));
}

export function readSite(variant: DocsVariant, file: string): string {
  return readFileSync(join(outDir(variant), file), 'utf8');
}

/** The page URL a built HTML file answers (`start/quickstart/index.html` → `/start/quickstart/`). */
export function pageUrl(file: string): string {
  return `/${file.replace(/index\.html$/, '').replace(/\.html$/, '')}`;
}

/** Decoded Pagefind fragments: one per indexed page, with its URL and title. */
export function pagefindPages(variant: DocsVariant): { url: string; title: string; content: string }[] {
  const dir = join(outDir(variant), 'pagefind', 'fragment');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pf_fragment'))
    .sort()
    .map((f) => {
      const text = gunzipSync(readFileSync(join(dir, f)))
        .toString('utf8')
        .replace(/^pagefind_dcd/, '');
      const data = JSON.parse(text) as { url: string; content: string; meta?: { title?: string } };
      return { url: data.url, title: data.meta?.title ?? '', content: data.content };
    });
}

export function sitemapUrls(variant: DocsVariant): string[] {
  return siteFiles(variant)
    .filter((f) => /^sitemap.*\.xml$/.test(f))
    .flatMap((f) => [...readSite(variant, f).matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1] ?? ''));
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&quot;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>' };

function decodeEntities(text: string): string {
  return text.replace(/&(amp|quot|#39|lt|gt);/g, (m) => ENTITIES[m] ?? m).replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)));
}

/** Every `href` of an `<a>` or `<link>` element, as written. */
export function hrefs(html: string): string[] {
  return [...html.matchAll(/<(?:a|link)\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map((m) => decodeEntities(m[1] ?? m[2] ?? ''));
}

/** Every element id in the page. */
export function ids(html: string): Set<string> {
  return new Set([...html.matchAll(/\sid\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map((m) => decodeEntities(m[1] ?? m[2] ?? '')));
}

/** The built file that serves a site path, if any. */
export function resolveTarget(files: Set<string>, path: string): string | undefined {
  const clean = decodeURIComponent(path.replace(/^\//, ''));
  // Static hosts serve `/a/` from `a/index.html` and, like the 404 page's canonical `/404/`, from `a.html`.
  const candidates =
    clean === ''
      ? ['index.html']
      : clean.endsWith('/')
        ? [`${clean}index.html`, `${clean.slice(0, -1)}.html`]
        : [clean, `${clean}/index.html`, `${clean}.html`];
  return candidates.find((c) => files.has(c));
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
