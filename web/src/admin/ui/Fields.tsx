import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';

function describedBy(id: string, hint?: ReactNode, error?: string | null) {
  return [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
}

function Frame({ id, label, hint, error, children }: { id: string; label: string; hint?: ReactNode; error?: string | null; children: ReactNode }) {
  return (
    <div className="sf-field">
      <label htmlFor={id} className="sf-field-label">
        {label}
      </label>
      {hint ? (
        <p id={`${id}-hint`} className="sf-field-hint">
          {hint}
        </p>
      ) : null}
      {children}
      {error ? (
        <p id={`${id}-error`} className="sf-field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function TextAreaField({
  id,
  label,
  hint,
  error,
  ...rest
}: TextareaHTMLAttributes<HTMLTextAreaElement> & { id: string; label: string; hint?: ReactNode; error?: string | null }) {
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <textarea id={id} className="sf-input textarea" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, hint, error)} {...rest} />
    </Frame>
  );
}

export function SelectField({
  id,
  label,
  hint,
  error,
  children,
  ...rest
}: SelectHTMLAttributes<HTMLSelectElement> & { id: string; label: string; hint?: ReactNode; error?: string | null }) {
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <select id={id} className="sf-input" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, hint, error)} {...rest}>
        {children}
      </select>
    </Frame>
  );
}

export function Field({
  id,
  label,
  hint,
  error,
  ...rest
}: InputHTMLAttributes<HTMLInputElement> & { id: string; label: string; hint?: ReactNode; error?: string | null }) {
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <input id={id} className="sf-input" aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, hint, error)} {...rest} />
    </Frame>
  );
}

export function Checkbox({ id, label, hint, ...rest }: InputHTMLAttributes<HTMLInputElement> & { id: string; label: string; hint?: ReactNode }) {
  return (
    <div className="checkbox">
      <input id={id} type="checkbox" aria-describedby={hint ? `${id}-hint` : undefined} {...rest} />
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p id={`${id}-hint`} className="sf-field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** A form-level error (one that names no field), announced when it appears. */
export function FormError({ message }: { message: string | null }) {
  return message ? (
    <p className="form-error" role="alert">
      {message}
    </p>
  ) : null;
}
