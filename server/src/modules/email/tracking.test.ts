import { describe, expect, it } from 'vitest';
import { createTokenSigner } from '../../lib/tokens.ts';
import { CLICK_PURPOSE, rewriteForTracking, rewriteTextForTracking, trackableUrl, trackingUrls, untrackedLinks } from './tracking.ts';

const signer = createTokenSigner(['unit-test-secret-that-is-long-enough-000']);
const ORG = '01900000-0000-7000-8000-000000000001';
const CAMPAIGN = '01900000-0000-7000-8000-000000000002';
const MESSAGE = '01900000-0000-7000-8000-000000000003';
const urls = trackingUrls(signer, 'https://api.example.net/', { organizationId: ORG, campaignId: CAMPAIGN, messageId: MESSAGE, sentAt: 1_765_000_000_000 });
const rewrite = (html: string) =>
  rewriteForTracking(html, { pixel: urls.pixel(), trap: urls.trap(), link: urls.link }, (url) => url.startsWith('https://api.example.net/u/'));
const tokenOf = (href: string) => signer.verify(href.split('/t/c/')[1]!, CLICK_PURPOSE);

describe('link rewriting for tracking', () => {
  it('signs the decoded address of double- and single-quoted links and keeps the other attributes', () => {
    const html = rewrite(`<body><a class="btn" href="https://shop.example/a?x=1&amp;y=2" target="_blank">A</a><a href='https://shop.example/b'>B</a></body>`);
    const hrefs = [...html.matchAll(/href=(["'])([^"']+)\1/g)].map((m) => m[2]!).filter((h) => h.includes('/t/c/'));
    expect(hrefs.map((h) => tokenOf(h).extra?.u)).toEqual(['https://shop.example/a?x=1&y=2', 'https://shop.example/b']);
    expect(html).toContain('class="btn"');
    expect(html).toContain('target="_blank"');
    expect(tokenOf(hrefs[0]!)).toMatchObject({ organizationId: ORG, subjectId: MESSAGE, extra: { c: CAMPAIGN, t: '1765000000' } });
  });

  it('leaves our own links, mailto, tel, anchors, relative links, data-notrack and links too long to sign as they are', () => {
    const long = `https://shop.example/${'x'.repeat(1500)}`;
    const near = `https://shop.example/?q=${'é'.repeat(600)}`;
    const links = [
      'https://api.example.net/u/abc.def',
      'mailto:a@example.com',
      'tel:+4930123',
      '#top',
      '/relative',
      'javascript:alert(1)',
      long,
      'https://user:pw@shop.example/',
    ];
    const html = `<body>${links.map((l) => `<a href="${l}">x</a>`).join('')}<a data-notrack href="https://shop.example/c">c</a><a href="${near}">n</a></body>`;
    const out = rewrite(html);
    for (const link of [...links, 'https://shop.example/c']) expect(out).toContain(`href="${link}"`);
    // Non-ASCII grows the token; whatever is rewritten must still verify.
    for (const match of out.matchAll(/href="([^"]+\/t\/c\/[^"]+)"/g)) expect(() => tokenOf(match[1]!)).not.toThrow();
  });

  it('adds the pixel and the hidden honeypot link once, before </body>, or at the end without one', () => {
    const out = rewrite('<html><body><p>Hi</p></body></html>');
    expect(out.match(/\/t\/o\//g)).toHaveLength(1);
    expect(out.match(/\/t\/h\//g)).toHaveLength(1);
    expect(out.endsWith('</body></html>')).toBe(true);
    expect(out).toMatch(/aria-hidden="true" tabindex="-1"/);
    expect(rewrite('<p>no body</p>')).toMatch(/^<p>no body<\/p><a href="[^"]+\/t\/h\/.+<img src="[^"]+\/t\/o\//);
  });

  it('accepts only absolute http(s) addresses without credentials as redirect targets', () => {
    expect(trackableUrl('https://example.com/a')).toBe(true);
    expect(trackableUrl('http://example.com')).toBe(true);
    for (const bad of [
      '//evil.example',
      'javascript:alert(1)',
      'data:text/html,x',
      'ftp://example.com',
      'https://a:b@example.com',
      '',
      'not a url',
      `https://example.com/${'a'.repeat(1500)}`,
    ]) {
      expect(trackableUrl(bad), bad).toBe(false);
    }
  });

  it('sends the addresses of the plain-text part through the same signed links as the HTML part, punctuation and brackets left outside', () => {
    const keep = (url: string) => url.startsWith('https://api.example.net/u/');
    const text = [
      'Sale (https://shop.example/a?x=1&y=2)',
      'See https://shop.example/b. Or https://en.example.org/wiki/Foo_(bar), then [https://shop.example/c]!',
      'Leave (https://api.example.net/u/abc.def) mailto:a@example.com ftp://files.example/x',
    ].join('\n');
    const out = rewriteTextForTracking(text, urls.link, keep);
    const tracked = [...out.matchAll(/https:\/\/api\.example\.net\/t\/c\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g)].map((m) => m[0]);
    expect(tracked.map((h) => tokenOf(h).extra?.u)).toEqual([
      'https://shop.example/a?x=1&y=2',
      'https://shop.example/b',
      'https://en.example.org/wiki/Foo_(bar)',
      'https://shop.example/c',
    ]);
    // The same address gets the same link id in both parts.
    const html = rewrite('<body><a href="https://shop.example/a?x=1&amp;y=2">Sale</a></body>');
    expect(html).toContain(`href="${tracked[0]}"`);
    expect(out.split('\n')[0]).toBe(`Sale (${tracked[0]})`);
    expect(out).toMatch(/\/t\/c\/[^ ]+\. Or /);
    expect(out).toContain(`${tracked[3]}]!`);
    expect(out).toContain('Leave (https://api.example.net/u/abc.def) mailto:a@example.com ftp://files.example/x');
    expect(out).not.toMatch(/https:\/\/shop\.example|https:\/\/en\.example/);
  });

  it('names the links the author marked data-notrack, so the text part can leave them as they are too', () => {
    expect([
      ...untrackedLinks(
        `<a href="https://a.example/x">a</a><a data-notrack href="https://b.example/?p=1&amp;q=2">b</a><a href='https://c.example' data-notrack>c</a>`,
      ),
    ]).toEqual(['https://b.example/?p=1&q=2', 'https://c.example']);
  });
});
