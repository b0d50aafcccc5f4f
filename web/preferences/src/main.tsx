import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@shared/ui/ui.css';
import './styles.css';
import { loadView } from './api';
import { App, routeOf } from './App';

const route = routeOf(window.location);
// Ask for the page's data now (the server's preload hint has usually started it with the HTML) and wait
// for it briefly, so the first render is the page itself rather than a loading line replaced at once.
const initialView = route.page === 'preferences' ? loadView(route.token) : null;
const early = initialView ? await Promise.race([initialView, new Promise<null>((resolve) => setTimeout(resolve, 250, null))]) : null;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App route={route} initialView={initialView} initialData={early?.data ?? null} />
  </StrictMode>,
);
