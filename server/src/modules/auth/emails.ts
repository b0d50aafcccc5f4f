/**
 * The two system emails of sign-in: the login link and the invitation. They are plain and
 * self-contained (no organization footer: they are not marketing mail, and login links have no
 * organization). When the email engine offers system templates, these can move there.
 */
const escapeHtml = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Joins the admin app's base URL and a path, whether or not the base ends with a slash. */
export function adminAppLink(adminAppUrl: string, path: string, token: string): string {
  return `${adminAppUrl.replace(/\/+$/, '')}${path}?token=${encodeURIComponent(token)}`;
}

function layout(paragraphs: string[], link: string, button: string, footer: string): string {
  return [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a">',
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 18px;background:#2456d6;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(button)}</a></p>`,
    `<p style="color:#666;font-size:13px">${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('');
}

export function magicLinkEmail(link: string, ttlMinutes: number) {
  const footer = `This link works once and expires in ${ttlMinutes} minutes. If you did not ask to sign in, ignore this email.`;
  return {
    subject: 'Your Subscribe Flow sign-in link',
    text: `Sign in to Subscribe Flow:\n\n${link}\n\n${footer}\n`,
    html: layout(['Click the button to sign in to Subscribe Flow.'], link, 'Sign in', footer),
  };
}

export function invitationEmail(link: string, rawOrganizationName: string, role: string, ttlDays: number) {
  const organizationName = rawOrganizationName.replace(/[\r\n\t]+/g, ' ');
  const intro = `You have been invited to join ${organizationName} on Subscribe Flow as ${role === 'admin' ? 'an admin' : `a ${role}`}.`;
  const footer = `The invitation expires in ${ttlDays} days and signs you in when you accept it. If you did not expect it, ignore this email.`;
  return {
    subject: `Join ${organizationName} on Subscribe Flow`,
    text: `${intro}\n\nAccept the invitation:\n\n${link}\n\n${footer}\n`,
    html: layout([intro], link, 'Accept invitation', footer),
  };
}
