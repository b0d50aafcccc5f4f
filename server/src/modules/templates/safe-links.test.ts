import { describe, expect, it } from 'vitest';
import { neutralizeUnsafeLinks } from './safe-links.ts';

describe('unsafe links', () => {
  it('keeps http(s) links and turns script and data links inert, however they are written', () => {
    const html = [
      '<a href="https://x.test/a?b=1&amp;c=2">a</a>',
      "<a href='HTTP://x.test/'>b</a>",
      '<a href="javascript:alert(1)">c</a>',
      '<a href=" java&#115;cript:alert(1)">d</a>',
      '<a href="https&colon;//x.test">e</a>',
      '<a href="data:text/html,x">f</a>',
      '<img src="data:image/png;base64,AAAA">',
      '<img src="vbscript:x">',
    ].join('');
    expect(neutralizeUnsafeLinks(html)).toBe(
      [
        '<a href="https://x.test/a?b=1&amp;c=2">a</a>',
        "<a href='HTTP://x.test/'>b</a>",
        '<a href="#">c</a>',
        '<a href="#">d</a>',
        '<a href="https&colon;//x.test">e</a>',
        '<a href="#">f</a>',
        '<img src="data:image/png;base64,AAAA">',
        '<img src="#">',
      ].join(''),
    );
  });
});
