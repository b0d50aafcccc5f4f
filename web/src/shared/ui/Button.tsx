import type { ComponentPropsWithRef } from 'react';

type Variant = 'primary' | 'secondary' | 'danger' | 'link';

/** A button in one of the house styles; `busy` keeps it focusable but refuses clicks while work runs. */
export function Button({
  variant = 'secondary',
  busy = false,
  className,
  onClick,
  ...rest
}: ComponentPropsWithRef<'button'> & { variant?: Variant; busy?: boolean }) {
  return (
    <button
      type="button"
      {...rest}
      aria-disabled={busy || rest['aria-disabled'] || undefined}
      className={`sf-button sf-button--${variant}${className ? ` ${className}` : ''}`}
      onClick={busy ? undefined : onClick}
    />
  );
}
