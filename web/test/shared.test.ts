import { describe, expect, it } from 'vitest';
import { chooseLocale } from '../src/shared/i18n/locale';
import { accessibleAccent, contrastRatio, DEFAULT_ACCENT } from '../src/shared/ui/contrast';
import { routeOf } from '../preferences/src/App';
import { groupTopics } from '../preferences/src/components/TopicList';
import { preferenceView } from './support/fixtures';

describe('branding colours', () => {
  it('keep any accent at 4.5:1 or more against white', () => {
    for (const accent of ['#ffff00', '#87ceeb', '#ffffff', '#1d4ed8', '#000000', '#ff6600']) {
      expect(contrastRatio(accessibleAccent(accent), '#ffffff')).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('leave a dark enough accent unchanged and fall back for a missing or malformed one', () => {
    expect(accessibleAccent('#0f766e')).toBe('#0f766e');
    expect(accessibleAccent(null)).toBe(DEFAULT_ACCENT);
    expect(accessibleAccent('red')).toBe(DEFAULT_ACCENT);
  });
});

describe('choosing the language', () => {
  const locales = ['en', 'de'] as const;
  it("prefers the person's choice, then the browser, then the organization", () => {
    expect(chooseLocale(locales, { chosen: 'de', browser: ['en-US'], organization: 'en' })).toBe('de');
    expect(chooseLocale(locales, { browser: ['fr-FR', 'de-CH'], organization: 'en' })).toBe('de');
    expect(chooseLocale(locales, { browser: ['fr-FR'], organization: 'de' })).toBe('de');
    expect(chooseLocale(locales, { browser: ['fr'] })).toBe('en');
  });
});

describe('routing', () => {
  it('reads the page from the URL', () => {
    expect(routeOf({ pathname: '/preferences/', search: '?token=abc' })).toEqual({
      page: 'preferences',
      token: 'abc',
      organization: null,
      unsubscribeFirst: false,
      topics: [],
    });
    expect(routeOf({ pathname: '/preferences/', search: '?token=abc&view=unsubscribe' })).toEqual({
      page: 'preferences',
      token: 'abc',
      organization: null,
      unsubscribeFirst: true,
      topics: [],
    });
    // The email's topics: ids only, at most five; anything else is dropped.
    const ids = Array.from({ length: 7 }, (_, n) => `01900000-0000-7000-8000-00000000000${n}`);
    expect(routeOf({ pathname: '/preferences/', search: `?token=abc&view=unsubscribe&topics=${ids.join(',')},<script>` })).toMatchObject({
      topics: ids.slice(0, 5),
    });
    expect(routeOf({ pathname: '/preferences/confirm', search: '?token=abc' })).toEqual({ page: 'confirm', token: 'abc' });
    expect(routeOf({ pathname: '/preferences/', search: '?org=acme' })).toEqual({ page: 'request-link', organization: 'acme', problem: 'missing' });
    expect(routeOf({ pathname: '/preferences/', search: '?error=invalid_link&org=acme' })).toEqual({
      page: 'request-link',
      organization: 'acme',
      problem: 'invalid',
    });
  });
});

describe('grouping topics', () => {
  it('follows the category order and puts topics without one last', () => {
    const groups = groupTopics(preferenceView(), 'Other');
    expect(groups.map((g) => [g.label, g.topics.map((t) => t.name)])).toEqual([
      ['Newsletters', ['Weekly digest']],
      ['Other', ['Events']],
    ]);
  });
});
