import { useEffect, useMemo, useState } from 'react';
import { errorCode, errorDetail } from '@shared/api/errors';
import { chooseLocale, rememberLocale, rememberedLocale } from '@shared/i18n/locale';
import { Button } from '@shared/ui/Button';
import { loadView, type PreferenceView } from './api';
import { UiContext } from './context';
import { LOCALES, MESSAGES, type Locale } from './i18n';
import { Frame } from './components/Frame';
import { ConfirmPage } from './pages/ConfirmPage';
import { PreferencesPage } from './pages/PreferencesPage';
import { RequestLinkPage } from './pages/RequestLinkPage';

export type Route =
  | { page: 'preferences'; token: string; organization: string | null; unsubscribeFirst?: boolean; topics?: string[] }
  | { page: 'confirm'; token: string }
  | { page: 'request-link'; organization: string | null; problem?: 'invalid' | 'missing' };

/**
 * Reads the page from the URL: /confirm?token= confirms, ?token= manages (`view=unsubscribe`, from an
 * email's unsubscribe link, leads with the unsubscribe card; `topics=` names that email's topics),
 * anything else asks for a link
 * (`error=invalid_link` when a broken link brought the person here).
 */
export function routeOf(location: { pathname: string; search: string }): Route {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const organization = params.get('org');
  if (location.pathname.replace(/\/+$/, '').endsWith('/confirm') && token) return { page: 'confirm', token };
  if (token) {
    // The topics of the email whose unsubscribe link was followed (at most a few ids), for "this topic only".
    const topics = (params.get('topics') ?? '')
      .split(',')
      .filter((id) => /^[0-9a-f-]{36}$/i.test(id))
      .slice(0, 5);
    return { page: 'preferences', token, organization, unsubscribeFirst: params.get('view') === 'unsubscribe', topics };
  }
  return { page: 'request-link', organization, problem: params.get('error') === 'invalid_link' ? 'invalid' : 'missing' };
}

type ViewResult = Awaited<ReturnType<typeof loadView>>;
type State =
  | { kind: 'loading' }
  | { kind: 'ready'; view: PreferenceView }
  | { kind: 'link-problem'; problem: 'expired' | 'invalid'; organization: string | null; organizationName?: string | null }
  | { kind: 'failed' }
  | { kind: 'deleted'; view: PreferenceView };

/**
 * The preference app. The first view's request starts before React renders (see main.tsx), so the
 * page is interactive after one round trip.
 */
export function App(props: { route: Route; initialView?: Promise<ViewResult> | null; initialData?: PreferenceView | null }) {
  const { route } = props;
  const [chosen, setChosen] = useState<string | null>(() => rememberedLocale());
  const [state, setState] = useState<State>(() => (props.initialData ? { kind: 'ready', view: props.initialData } : { kind: 'loading' }));
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (route.page !== 'preferences' || (attempt === 0 && props.initialData)) return;
    let live = true;
    const request = attempt === 0 && props.initialView ? props.initialView : loadView(route.token);
    void request.then(({ data, error }) => {
      if (!live) return;
      if (data) return setState({ kind: 'ready', view: data });
      const code = errorCode(error);
      if (code === 'token_expired' || code === 'invalid_token') {
        return setState({
          kind: 'link-problem',
          problem: code === 'token_expired' ? 'expired' : 'invalid',
          organization: errorDetail(error, 'organization') ?? route.organization,
          organizationName: errorDetail(error, 'organization_name') ?? null,
        });
      }
      setState({ kind: 'failed' });
    });
    return () => {
      live = false;
    };
  }, [route, props.initialView, props.initialData, attempt]);

  const organizationLocale = state.kind === 'ready' || state.kind === 'deleted' ? state.view.organization.locale : null;
  const locale = chooseLocale(LOCALES, { chosen, browser: navigator.languages, organization: organizationLocale });
  const ui = useMemo(
    () => ({
      locale,
      t: MESSAGES[locale],
      setLocale: (next: Locale) => {
        rememberLocale(next);
        setChosen(next);
      },
    }),
    [locale],
  );

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  useEffect(() => {
    if (state.kind === 'ready') performance.mark('sf:interactive');
  }, [state.kind]);

  const t = ui.t;
  let page;
  if (route.page === 'confirm') page = <ConfirmPage token={route.token} />;
  else if (route.page === 'request-link') page = <RequestLinkPage problem={route.problem ?? 'missing'} organization={route.organization} />;
  else if (state.kind === 'loading')
    page = (
      <Frame title={t.title}>
        <p role="status">{t.loading}</p>
      </Frame>
    );
  else if (state.kind === 'link-problem')
    page = <RequestLinkPage problem={state.problem} organization={state.organization} organizationName={state.organizationName ?? null} />;
  else if (state.kind === 'failed') {
    page = (
      <Frame title={t.title}>
        <p role="alert">{t.genericError}</p>
        <Button
          variant="primary"
          onClick={() => {
            setState({ kind: 'loading' });
            setAttempt((n) => n + 1);
          }}
        >
          {t.retry}
        </Button>
      </Frame>
    );
  } else if (state.kind === 'deleted') {
    page = (
      <Frame title={t.deletedTitle} organization={state.view.organization} focusTitle>
        <p>{t.deletedBody}</p>
      </Frame>
    );
  } else {
    const { view } = state;
    page = (
      <PreferencesPage
        token={route.token}
        view={view}
        unsubscribeFirst={route.unsubscribeFirst}
        emailTopics={route.topics ?? []}
        onDeleted={() => setState({ kind: 'deleted', view })}
        // A link that expires while the page is open ends on the new-link form, naming the organization.
        onLinkExpired={() =>
          setState({ kind: 'link-problem', problem: 'expired', organization: view.organization.slug, organizationName: view.organization.name })
        }
      />
    );
  }
  return <UiContext.Provider value={ui}>{page}</UiContext.Provider>;
}
