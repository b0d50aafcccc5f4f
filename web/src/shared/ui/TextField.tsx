import type { InputHTMLAttributes } from 'react';

/** A labelled text input whose error, when there is one, is tied to it for assistive technology. */
export function TextField({
  id,
  label,
  hint,
  error,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { id: string; label: string; hint?: string; error?: string | null }) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="sf-field">
      <label htmlFor={id} className="sf-field-label">
        {label}
      </label>
      {hint ? (
        <p id={hintId} className="sf-field-hint">
          {hint}
        </p>
      ) : null}
      <input id={id} className="sf-input" aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {error ? (
        <p id={errorId} className="sf-field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
