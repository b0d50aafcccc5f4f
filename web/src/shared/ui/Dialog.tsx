import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

const focusables = (root: HTMLElement): HTMLElement[] => [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((element) => !element.closest('[inert]'));

/**
 * A modal dialog: focus moves into it (to the element marked `data-autofocus`, else the first control),
 * Tab stays inside, Escape closes, the rest of the page is inert while it is open, and focus returns
 * to whatever opened it.
 */
export function Dialog(props: {
  open: boolean;
  title: string;
  description?: ReactNode;
  onClose: () => void;
  children?: ReactNode;
  footer?: ReactNode;
  role?: 'dialog' | 'alertdialog';
  wide?: boolean;
}) {
  if (!props.open) return null;
  return createPortal(<DialogPanel {...props} />, document.body);
}

function DialogPanel({ title, description, onClose, children, footer, role = 'dialog', wide }: Parameters<typeof Dialog>[0]) {
  const panel = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const element = panel.current!;
    const host = element.parentElement!;
    // Everything else on the page becomes inert (not focusable, hidden from assistive technology).
    const madeInert = [...document.body.children].filter((child) => child !== host && !child.hasAttribute('inert')) as HTMLElement[];
    for (const child of madeInert) child.setAttribute('inert', '');
    const first = element.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(element)[0] ?? element;
    first.focus();
    return () => {
      for (const child of madeInert) child.removeAttribute('inert');
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close.current();
      return;
    }
    if (event.key !== 'Tab') return;
    const items = focusables(panel.current!);
    if (items.length === 0) {
      event.preventDefault();
      return;
    }
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <div
      className="sf-dialog-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget) close.current();
      }}
    >
      <div
        ref={panel}
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descriptionId : undefined}
        tabIndex={-1}
        className={`sf-dialog${wide ? ' sf-dialog--wide' : ''}`}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId} className="sf-dialog-title">
          {title}
        </h2>
        {description ? (
          <div id={descriptionId} className="sf-dialog-description">
            {description}
          </div>
        ) : null}
        {children}
        {footer ? <div className="sf-dialog-footer">{footer}</div> : null}
      </div>
    </div>
  );
}
