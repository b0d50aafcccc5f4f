// The order of the preference center's topics: the admins' positions, grouped by category. Applied once
// per organization and tags version (the repository's cache), not on every read.

/** Categories in the order of their first topic (topics come in the admins' order). */
export function categoriesOf(tags: { category: string | null }[]) {
  const categories: { name: string; display_name: string }[] = [];
  for (const tag of tags) {
    if (tag.category !== null && !categories.some((c) => c.name === tag.category)) categories.push({ name: tag.category, display_name: tag.category });
  }
  return categories;
}

/**
 * Topics grouped the way the page shows them: categories in the order of their first topic, topics in
 * the admins' order within each, topics without a category last.
 */
export function grouped<T extends { category: string | null }>(tags: T[], categories: { name: string }[]): T[] {
  const rank = (tag: T) => (tag.category === null ? categories.length : categories.findIndex((c) => c.name === tag.category));
  return tags
    .map((tag, index) => ({ tag, index }))
    .sort((a, b) => rank(a.tag) - rank(b.tag) || a.index - b.index)
    .map((entry) => entry.tag);
}
