import { createContext, useContext } from 'react';
import type { Locale, Messages } from './i18n';

export interface Ui {
  locale: Locale;
  t: Messages;
  setLocale: (locale: Locale) => void;
}

export const UiContext = createContext<Ui | null>(null);

export function useUi(): Ui {
  const ui = useContext(UiContext);
  if (!ui) throw new Error('useUi needs the UiContext provider (see App)');
  return ui;
}
