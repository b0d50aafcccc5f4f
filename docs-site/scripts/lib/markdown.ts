/** Small helpers for writing Markdown that renders the same way whatever text a schema carries. */

/** Text from a schema, made safe for a Markdown paragraph: no raw HTML, no stray tags swallowed. */
export function prose(text: string): string {
  // Code spans are left alone: entities are not decoded inside them.
  return text
    .split(/(`+[^`]*?`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replaceAll('<', '&lt;').replaceAll('>', '&gt;')))
    .join('')
    .trim();
}

/** Text for one table cell: a single line, pipes escaped. */
export function cell(text: string): string {
  return prose(text)
    .replace(/\s*\n\s*/g, ' ')
    .replaceAll('|', '\\|');
}

/** Inline code that survives backticks inside the value. */
export function code(text: string): string {
  const value = String(text);
  const longest = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = value.startsWith('`') || value.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

/** Inline code inside a table cell (pipes must be escaped even inside code spans). */
export function cellCode(text: string): string {
  return code(text).replaceAll('|', '\\|');
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `| ${headers.join(' | ')} |`;
  const rule = `| ${headers.map(() => '---').join(' | ')} |`;
  return [head, rule, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function fence(lang: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${lang}\n${body.replace(/\n+$/, '')}\n${ticks}`;
}

/**
 * YAML frontmatter. Strings are written as JSON strings, which are valid YAML double-quoted scalars, so no
 * title or description can break the block.
 */
export function frontmatter(data: Record<string, unknown>): string {
  return `---\n${yamlLines(data, 0).join('\n')}\n---`;
}

function yamlLines(data: Record<string, unknown>, depth: number): string[] {
  const indent = '  '.repeat(depth);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      lines.push(`${indent}${key}:`, ...yamlLines(value as Record<string, unknown>, depth + 1));
    } else {
      lines.push(`${indent}${key}: ${JSON.stringify(value)}`);
    }
  }
  return lines;
}

/** Joins blocks with one blank line between them and ends the file with a single newline. */
export function document(blocks: readonly (string | undefined | false)[]): string {
  return `${blocks.filter((b): b is string => typeof b === 'string' && b.trim() !== '').join('\n\n')}\n`;
}

/** A URL- and filename-safe slug. */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The id Astro gives a heading: github-slugger's rules (letters, marks, digits, `_` and `-` kept; each space a `-`). */
export function headingId(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{Nd}\p{Nl} _-]/gu, '')
    .replace(/ /g, '-');
}
