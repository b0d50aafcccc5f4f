import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@shared/ui/ui.css';
import './styles.css';
import { loadView } from './api';
import { App, routeOf } from './App';

const route = routeOf(window.location);
// Ask for the page's data now, in parallel with React's first render.
const initialView = route.page === 'preferences' ? loadView(route.token) : null;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App route={route} initialView={initialView} />
  </StrictMode>,
);
