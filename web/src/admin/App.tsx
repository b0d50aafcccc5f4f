import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, type ComponentType, type LazyExoticComponent } from 'react';
import { ConfirmProvider } from '@shared/ui/Confirm';
import { ToastProvider } from '@shared/ui/Toasts';
import { ApiRequestError } from './api';
import { Shell } from './layout/Shell';
import { LoginPage } from './pages/auth/LoginPage';
import { matchPath, navigate, useLocation } from './router';
import { SessionProvider, useMe } from './session';
import { ErrorState, Loading } from './ui/States';

type Page = LazyExoticComponent<ComponentType<{ params: Record<string, string> }>>;

// Every page is its own chunk: the first load carries only the shell, the router and the API client.
const page = (load: () => Promise<{ default: ComponentType<{ params: Record<string, string> }> }>): Page => lazy(load);

const ROUTES: [string, Page][] = [
  ['/', page(() => import('./pages/OverviewPage'))],
  ['/subscribers', page(() => import('./pages/subscribers/SubscribersPage'))],
  ['/subscribers/new', page(() => import('./pages/subscribers/SubscriberFormPage'))],
  ['/subscribers/import', page(() => import('./pages/subscribers/ImportPage'))],
  ['/subscribers/:id', page(() => import('./pages/subscribers/SubscriberDetailPage'))],
  ['/subscribers/:id/edit', page(() => import('./pages/subscribers/SubscriberFormPage'))],
  ['/tags', page(() => import('./pages/TagsPage'))],
  ['/campaigns', page(() => import('./pages/campaigns/CampaignsPage'))],
  ['/campaigns/:id', page(() => import('./pages/campaigns/CampaignDetailPage'))],
  ['/segments', page(() => import('./pages/segments/SegmentsPage'))],
  ['/segments/new', page(() => import('./pages/segments/SegmentEditorPage'))],
  ['/segments/:id', page(() => import('./pages/segments/SegmentEditorPage'))],
  ['/automations', page(() => import('./pages/automations/AutomationsPage'))],
  ['/automations/:id', page(() => import('./pages/automations/AutomationDetailPage'))],
  ['/templates', page(() => import('./pages/templates/TemplatesPage'))],
  ['/templates/:id', page(() => import('./pages/templates/TemplateEditorPage'))],
  ['/emails', page(() => import('./pages/emails/EmailsPage'))],
  ['/emails/suppressions', page(() => import('./pages/emails/SuppressionsPage'))],
  ['/emails/:id', page(() => import('./pages/emails/EmailDetailPage'))],
  ['/mailbox', page(() => import('./pages/MailboxPage'))],
  ['/settings/organization', page(() => import('./pages/settings/OrganizationSettingsPage'))],
  ['/settings/email', page(() => import('./pages/settings/EmailSettingsPage'))],
  ['/settings/preference-center', page(() => import('./pages/settings/PreferenceCenterSettingsPage'))],
  ['/settings/api-keys', page(() => import('./pages/settings/ApiKeysPage'))],
  ['/settings/webhooks', page(() => import('./pages/settings/WebhooksPage'))],
  ['/settings/members', page(() => import('./pages/settings/MembersPage'))],
  ['/settings/audit-log', page(() => import('./pages/settings/AuditLogPage'))],
  ['/settings/billing', page(() => import('./pages/settings/BillingPage'))],
  ['/account', page(() => import('./pages/auth/AccountPage'))],
];

const PUBLIC_ROUTES: [string, Page][] = [
  ['/login/verify', page(() => import('./pages/auth/VerifyPage'))],
  ['/invitations/accept', page(() => import('./pages/auth/AcceptInvitationPage'))],
];
const NoOrganizationPage = lazy(() => import('./pages/auth/NoOrganizationPage'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'));

function resolve(routes: [string, Page][], path: string): { Page: Page; params: Record<string, string> } | null {
  for (const [pattern, Page] of routes) {
    const params = matchPath(pattern, path);
    if (params) return { Page, params };
  }
  return null;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function SignedInApp() {
  const { path } = useLocation();
  const me = useMe();
  if (me.isPending)
    return (
      <main className="centered">
        <Loading label="Loading your dashboard…" />
      </main>
    );
  if (me.isError) {
    if (me.error instanceof ApiRequestError && me.error.status === 401) {
      const next = `${window.location.pathname.replace(import.meta.env.BASE_URL.replace(/\/$/, ''), '') || '/'}${window.location.search}`;
      return <Redirect to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} />;
    }
    return (
      <main className="centered">
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  return (
    <SessionProvider me={me.data}>
      {(state) => {
        if (state === 'no-organization')
          return (
            <Suspense fallback={<Loading />}>
              <NoOrganizationPage />
            </Suspense>
          );
        if (path === '/settings') return <Redirect to="/settings/organization" />;
        const match = resolve(ROUTES, path);
        return (
          <Shell>
            <Suspense fallback={<Loading />}>{match ? <match.Page key={path} params={match.params} /> : <NotFoundPage />}</Suspense>
          </Shell>
        );
      }}
    </SessionProvider>
  );
}

function Routes() {
  const { path } = useLocation();
  if (path === '/login') return <LoginPage />;
  const publicMatch = resolve(PUBLIC_ROUTES, path);
  if (publicMatch)
    return (
      <Suspense
        fallback={
          <main className="centered">
            <Loading />
          </main>
        }
      >
        <publicMatch.Page params={publicMatch.params} />
      </Suspense>
    );
  return <SignedInApp />;
}

export function AdminApp({ queryClient }: { queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <ConfirmProvider>
          <Routes />
        </ConfirmProvider>
      </ToastProvider>
    </QueryClientProvider>
  );
}
