import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Writes generated pages under `root`, touching only files whose content changed, and removes Markdown files
 * in the generator-owned directories that the generator no longer produces (a tag that disappeared from
 * the OpenAPI document must not leave a stale page behind).
 */
export async function writePages(root: string, files: Map<string, string>, ownedDirs: readonly string[]): Promise<string[]> {
  const changed: string[] = [];
  for (const dir of ownedDirs) {
    for (const file of await listMarkdown(join(root, dir))) {
      const key = relative(root, file).split(sep).join('/');
      if (!files.has(key)) {
        await rm(file);
        changed.push(`deleted ${key}`);
      }
    }
  }
  for (const [key, content] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const target = join(root, key);
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current === content) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    changed.push(`wrote ${key}`);
  }
  return changed;
}

export async function listMarkdown(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listMarkdown(full)));
    else if (/\.mdx?$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}
