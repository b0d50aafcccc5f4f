import { useState, type FormEvent } from 'react';
import { errorCode } from '@shared/api/errors';
import { Button } from '@shared/ui/Button';
import { LiveRegion } from '@shared/ui/LiveRegion';
import { TextField } from '@shared/ui/TextField';
import { api } from '../api';
import { useUi } from '../context';
import { Frame } from '../components/Frame';

export type LinkProblem = 'expired' | 'invalid' | 'missing';

/**
 * "Send me a new link": shown when the link is missing, expired or broken. It needs the organization,
 * which an expired link names and a bare page gets from `?org=`; the answer never says whether the
 * address is known.
 */
export function RequestLinkPage(props: { problem: LinkProblem; organization: string | null; organizationName?: string | null }) {
  const { locale, t } = useUi();
  const [email, setEmail] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [result, setResult] = useState<{ text: string; tone: 'status' | 'alert' } | null>(null);
  const [busy, setBusy] = useState(false);
  const explanation = { expired: t.requestExpired, invalid: t.requestInvalid, missing: t.requestMissing }[props.problem];

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!props.organization || busy) return;
    const address = email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      setFieldError(t.emailInvalid);
      return;
    }
    setFieldError(null);
    setBusy(true);
    const { error } = await api.POST('/api/v1/preference-center/request-link', { body: { email: address, organization: props.organization, locale } });
    setBusy(false);
    if (!error) return setResult({ text: t.linkSent(address), tone: 'status' });
    const code = errorCode(error);
    if (code === 'validation_error') return setFieldError(t.emailInvalid);
    setResult({ text: code === 'rate_limited' ? t.tooMany : t.genericError, tone: 'alert' });
  }

  return (
    <Frame title={t.requestTitle}>
      {props.organization ? (
        <>
          <p>{explanation}</p>
          {props.organizationName ? <p className="pc-muted">{t.requestFor(props.organizationName)}</p> : null}
          <form className="pc-form" noValidate onSubmit={submit}>
            <TextField
              id="pc-email" label={t.email} type="email" name="email" autoComplete="email" inputMode="email" required
              value={email} error={fieldError} onChange={(event) => setEmail(event.currentTarget.value)}
            />
            <Button type="submit" variant="primary" busy={busy}>{t.sendLink}</Button>
          </form>
          <LiveRegion message={result?.tone === 'status' ? result.text : null} tone="status" />
          <LiveRegion message={result?.tone === 'alert' ? result.text : null} tone="alert" />
        </>
      ) : (
        <p>{t.requestNoOrganization}</p>
      )}
    </Frame>
  );
}
