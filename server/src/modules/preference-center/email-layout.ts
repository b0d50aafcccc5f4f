const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Longest name system mail greets by; longer ones get the plain greeting. */
export const GREETING_NAME_MAX = 40;
// Anything that could carry a link or markup: a scheme, a www. or domain-like word, an address, brackets.
const NOT_A_NAME = /[<>{}[\]()@:/\\|=_*#~`$%^&+;"]|\bwww\b|[\p{L}\p{N}-]\.[\p{L}]{2,}/iu;

/**
 * The name system mail may greet someone by, or null. Public forms let anyone type a name for any
 * address, so a name is shown only when it is short plain text: anything that looks like a link, an
 * address or markup would make confirmation mail a relay for someone else's message.
 */
export function greetingName(name: string | null | undefined): string | null {
  const clean = (name ?? '').replace(/\s+/g, ' ').trim();
  if (clean === '' || clean.length > GREETING_NAME_MAX || NOT_A_NAME.test(clean) || /[\p{C}]/u.test(clean)) return null;
  return clean;
}

/** A plain, accessible single-action message: heading, paragraphs, one button, and the link in full. */
export function renderActionEmail(input: { lang: string; heading: string; paragraphs: string[]; action: string; url: string; footer: string }) {
  const paragraphs = input.paragraphs.map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`).join('');
  const html =
    `<!doctype html><html lang="${input.lang}"><head><meta charset="utf-8"><title>${escapeHtml(input.heading)}</title></head>` +
    '<body style="margin:0;padding:24px;font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1f2937;background:#ffffff">' +
    `<h1 style="font-size:22px;margin:0 0 16px">${escapeHtml(input.heading)}</h1>${paragraphs}` +
    `<p style="margin:24px 0"><a href="${escapeHtml(input.url)}" style="display:inline-block;padding:12px 20px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:6px">${escapeHtml(input.action)}</a></p>` +
    `<p style="margin:0 0 16px;font-size:14px;color:#4b5563">${escapeHtml(input.url)}</p>` +
    `<p style="margin:0;font-size:14px;color:#4b5563">${escapeHtml(input.footer)}</p></body></html>`;
  const text = [input.heading, '', ...input.paragraphs.flatMap((p) => [p, '']), `${input.action}: ${input.url}`, '', input.footer, ''].join('\n');
  return { html, text };
}
