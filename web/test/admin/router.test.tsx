import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Link, matchPath, navigate, setSearch, useLocation } from '../../src/admin/router';

function Where() {
  const { path, search } = useLocation();
  return (
    <p data-testid="where">
      {path}?{search.toString()}
    </p>
  );
}

afterEach(() => window.history.replaceState(null, '', '/'));

describe('the router', () => {
  it('matches patterns with parameters and nothing else', () => {
    expect(matchPath('/subscribers/:id', '/subscribers/abc')).toEqual({ id: 'abc' });
    expect(matchPath('/subscribers/:id/edit', '/subscribers/a%20b/edit')).toEqual({ id: 'a b' });
    expect(matchPath('/subscribers/:id', '/subscribers')).toBeNull();
    expect(matchPath('/subscribers/new', '/subscribers/abc')).toBeNull();
    expect(matchPath('/', '/')).toEqual({});
  });

  it('navigates on plain clicks without reloading, and leaves modified clicks to the browser', () => {
    render(
      <>
        <Link to="/tags">Tags</Link>
        <Where />
      </>,
    );
    const link = screen.getByRole('link', { name: 'Tags' });
    expect(link.getAttribute('href')).toBe('/tags');
    fireEvent.click(link);
    expect(screen.getByTestId('where').textContent).toBe('/tags?');
    expect(window.location.pathname).toBe('/tags');

    act(() => navigate('/subscribers'));
    // Record whether the app left the click alone, then stop jsdom from attempting a real navigation.
    let leftToBrowser = false;
    const record = (event: MouseEvent) => {
      leftToBrowser = !event.defaultPrevented;
      event.preventDefault();
    };
    document.addEventListener('click', record);
    fireEvent.click(link, { ctrlKey: true });
    document.removeEventListener('click', record);
    expect(leftToBrowser).toBe(true);
    expect(screen.getByTestId('where').textContent).toBe('/subscribers?');
  });

  it('keeps filters in the query string, replacing the history entry', () => {
    render(<Where />);
    act(() => navigate('/subscribers?status=active'));
    const length = window.history.length;
    act(() => setSearch({ q: 'ada', status: undefined }));
    expect(screen.getByTestId('where').textContent).toBe('/subscribers?q=ada');
    expect(window.history.length).toBe(length);
    act(() => window.history.back());
  });
});
