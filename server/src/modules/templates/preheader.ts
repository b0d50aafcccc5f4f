/**
 * A campaign's preheader: the line inboxes show after the subject. It is plain text, put as a hidden
 * block at the start of the body of the compiled template, before any preview text the template has.
 * Every character that could be markup or a Liquid delimiter is written as an entity, so what the
 * author typed is shown as typed and never runs as a template. The text part leaves it out (htmlToText
 * drops the block by its marker).
 */
const HIDDEN_STYLE = 'display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all';

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '{': '&#123;', '}': '&#125;', '%': '&#37;' };

export const PREHEADER_MARKER = 'data-preheader';

export function withPreheader(compiledHtml: string, preheader: string | null | undefined): string {
  const words = preheader?.replace(/\s+/g, ' ').trim();
  if (!words) return compiledHtml;
  const block = `<div ${PREHEADER_MARKER} style="${HIDDEN_STYLE}">${words.replace(/[&<>"'{}%]/g, (c) => ENTITY[c]!)}</div>`;
  const body = /<body\b[^>]*>/i.exec(compiledHtml);
  if (!body) return block + compiledHtml;
  const at = body.index + body[0].length;
  return compiledHtml.slice(0, at) + block + compiledHtml.slice(at);
}
