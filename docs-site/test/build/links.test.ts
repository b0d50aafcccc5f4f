import { describe, expect, it } from 'vitest';
import { VARIANTS, siteUrl } from '../../site.ts';
import { hrefs, ids, pageUrl, readSite, resolveTarget, siteFiles } from './output.ts';

/**
 * Every link that points inside the site (relative, root-relative or absolute on the site's origin) must reach a built file, and a `#fragment` must name an element
 * on the target page. External links (another origin, mailto:, tel:) are not followed.
 */
describe.each(VARIANTS)('links in the %s site', (variant) => {
  it('all resolve to a built page, asset and anchor', () => {
    const files = siteFiles(variant);
    const fileSet = new Set(files);
    const idCache = new Map<string, Set<string>>();
    const idsOf = (file: string) => {
      let found = idCache.get(file);
      if (!found) idCache.set(file, (found = ids(readSite(variant, file))));
      return found;
    };
    const broken: string[] = [];
    let checked = 0;
    for (const file of files.filter((f) => f.endsWith('.html'))) {
      // Absolute links to the site's own origin (canonical URL, sitemap) are checked too.
      const base = new URL(pageUrl(file), siteUrl(variant));
      for (const href of hrefs(readSite(variant, file))) {
        if (href === '' || /^(mailto|tel|javascript|data):/i.test(href)) continue;
        const url = new URL(href, base);
        if (url.origin !== base.origin) continue;
        checked++;
        const target = resolveTarget(fileSet, url.pathname);
        if (!target) {
          broken.push(`${file}: ${href} (no such file)`);
          continue;
        }
        const fragment = decodeURIComponent(url.hash.slice(1));
        if (fragment && target.endsWith('.html') && !idsOf(target).has(fragment)) {
          broken.push(`${file}: ${href} (no element with id "${fragment}")`);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });
});
