/**
 * A status line screen readers announce when its text changes. It is always in the page, even when
 * empty, because an announcement region added together with its text is often not read out.
 */
export function LiveRegion({ message, tone = 'status', id }: { message: string | null; tone?: 'status' | 'alert'; id?: string }) {
  return (
    <div id={id} role={tone} aria-live={tone === 'alert' ? 'assertive' : 'polite'} className={`sf-live sf-live--${tone}${message ? '' : ' sf-live--empty'}`}>
      {message}
    </div>
  );
}
