import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@shared/ui/ui.css';
import '@shared/ui/overlays.css';
import './styles.css';
import { AdminApp } from './App';
import { createQueryClient } from './queryClient';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AdminApp queryClient={createQueryClient()} />
  </StrictMode>,
);
