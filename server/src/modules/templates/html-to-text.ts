/**
 * The plain-text part of an email, derived from its HTML: block elements become line breaks, links keep
 * their address ("Label (https://…)"), images their alt text, and everything invisible (head, styles, comments, Outlook
 * conditionals) is dropped. Good enough for the text/plain alternative; not a general converter.
 */
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  middot: '·',
  copy: '©',
  reg: '®',
  hellip: '…',
  mdash: '—',
  ndash: '–',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

const stripTags = (html: string): string => html.replace(/<[^>]*>/g, '');

export function htmlToText(html: string): string {
  const text = html
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    // A campaign's preheader (preheader.ts) is for the inbox list, not for the text part.
    .replace(/<div data-preheader\b[^>]*>[^<]*<\/div>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a\s*>/gi, (_whole, _quote, href: string, label: string) => {
      const url = decodeEntities(href.trim());
      const words = decodeEntities(stripTags(label)).replace(/\s+/g, ' ').trim();
      return !words || words === url || url.startsWith('#') ? words || url : `${words} (${url})`;
    })
    // An image says what its alt text says; without one it says nothing (not its address).
    .replace(/<img\b[^>]*?\balt\s*=\s*(["'])(.*?)\1[^>]*>/gi, (_whole, _quote, alt: string) => ` ${alt} `)
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/(p|div|h[1-6]|li|tr|table|ul|ol|blockquote)\s*>/gi, '\n')
    .replace(/<(p|h[1-6])\b[^>]*>/gi, '\n');
  return decodeEntities(stripTags(text))
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
