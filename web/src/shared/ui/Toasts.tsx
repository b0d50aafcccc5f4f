import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

type Tone = 'success' | 'error';
interface Toast {
  id: number;
  tone: Tone;
  message: string;
}
interface Toaster {
  success: (message: string) => void;
  error: (message: string) => void;
}

const ToastContext = createContext<Toaster | null>(null);

export function useToast(): Toaster {
  const toaster = useContext(ToastContext);
  if (!toaster) throw new Error('useToast needs a <ToastProvider>');
  return toaster;
}

/**
 * Short notices after an action. Successes are announced politely and fade after a few seconds;
 * errors are announced at once and stay twice as long; each can be dismissed. Both regions are always
 * in the page, since a live region added together with its text is often not read out.
 */
export function ToastProvider({ children, durationMs = 5000 }: { children: ReactNode; durationMs?: number }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (tone: Tone, message: string) => {
      const id = nextId.current++;
      setToasts((list) => [...list.slice(-3), { id, tone, message }]);
      setTimeout(() => dismiss(id), tone === 'error' ? durationMs * 2 : durationMs);
    },
    [dismiss, durationMs],
  );

  const toaster = useMemo<Toaster>(() => ({ success: (m) => push('success', m), error: (m) => push('error', m) }), [push]);
  const region = (tone: Tone) => (
    <div role={tone === 'error' ? 'alert' : 'status'} aria-live={tone === 'error' ? 'assertive' : 'polite'} className="sf-toast-region">
      {toasts
        .filter((t) => t.tone === tone)
        .map((t) => (
          <div key={t.id} className={`sf-toast sf-toast--${tone}`}>
            <span>{t.message}</span>
            <button type="button" className="sf-toast-close" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
    </div>
  );

  return (
    <ToastContext.Provider value={toaster}>
      {children}
      <div className="sf-toasts">
        {region('error')}
        {region('success')}
      </div>
    </ToastContext.Provider>
  );
}
