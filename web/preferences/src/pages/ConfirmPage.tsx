import { useEffect, useState } from 'react';
import { errorCode } from '@shared/api/errors';
import { Button } from '@shared/ui/Button';
import { LiveRegion } from '@shared/ui/LiveRegion';
import { api, type ConfirmationInfo } from '../api';
import { useUi } from '../context';
import { Frame } from '../components/Frame';

/**
 * The double-opt-in confirmation page. Opening it confirms nothing (mail scanners open links); the
 * person reads who is asking, for which topics and in which words, then clicks. The words shown are
 * the ones the server records with the consent.
 */
export function ConfirmPage(props: { token: string }) {
  const { locale, t } = useUi();
  const [info, setInfo] = useState<ConfirmationInfo | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirmed, setConfirmed] = useState<{ preferences_url: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    void api.GET('/api/v1/public/confirmation', { params: { query: { token: props.token } } }).then(({ data, error }) => {
      if (data) setInfo(data);
      else setProblem(errorCode(error));
    });
  }, [props.token]);

  async function confirm() {
    setBusy(true);
    const { data, error } = await api.POST('/api/v1/public/confirm', { body: { token: props.token, locale } });
    setBusy(false);
    if (data) return setConfirmed(data);
    const code = errorCode(error);
    if (code === 'token_expired' || code === 'invalid_token') return setProblem(code);
    setFailure(code === 'rate_limited' ? t.tooMany : t.genericError);
  }

  if (problem) {
    return (
      <Frame title={t.confirmTitle} organization={info?.organization}>
        <p role="alert">{problem === 'token_expired' ? t.confirmExpired : problem === 'invalid_token' ? t.confirmInvalid : t.genericError}</p>
      </Frame>
    );
  }
  if (!info)
    return (
      <Frame title={t.confirmTitle}>
        <p role="status">{t.loading}</p>
      </Frame>
    );
  if (confirmed) {
    return (
      <Frame title={t.confirmedTitle} organization={info.organization} focusTitle>
        <p>{t.confirmedBody(info.organization.name)}</p>
        <p>
          <a className="sf-button sf-button--secondary" href={confirmed.preferences_url}>
            {t.managePreferences}
          </a>
        </p>
      </Frame>
    );
  }
  return (
    <Frame title={t.confirmTitle} organization={info.organization}>
      <p className="pc-muted">{t.confirmFor(info.email)}</p>
      {info.topics.length > 0 ? (
        <>
          <h2 className="pc-subtitle">{t.confirmTopics}</h2>
          <ul className="pc-list">
            {info.topics.map((topic) => (
              <li key={topic}>{topic}</li>
            ))}
          </ul>
        </>
      ) : null}
      <p className="pc-consent">{info.consent[locale]}</p>
      <Button variant="primary" busy={busy} onClick={confirm}>
        {t.confirmButton}
      </Button>
      <LiveRegion message={failure} tone="alert" />
    </Frame>
  );
}
