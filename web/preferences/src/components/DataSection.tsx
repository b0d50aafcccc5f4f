import { useId, useRef, useState } from 'react';
import { Button } from '@shared/ui/Button';
import { api } from '../api';
import { useUi } from '../context';

/**
 * The person's data: a JSON download of everything stored about them, and erasure behind an explicit
 * confirmation (a checkbox that must be ticked, then a separate button), since it cannot be undone.
 * Both need a link emailed on request (`canManageData`); with a link from a newsletter, which may have
 * been forwarded, the section offers to email that link instead.
 */
export function DataSection(props: {
  token: string;
  canManageData: boolean;
  email: string;
  organization: string;
  onSaid: (text: string) => void;
  onFailed: (error: unknown) => void;
  onDeleted: () => void;
}) {
  const { locale, t } = useUi();
  const [confirming, setConfirming] = useState(false);
  const [understood, setUnderstood] = useState(false);
  const [busy, setBusy] = useState<'export' | 'delete' | null>(null);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const checkboxId = useId();
  const query = { token: props.token };

  async function download() {
    setBusy('export');
    const { data, error } = await api.GET('/api/v1/preference-center/export', { params: { query } });
    setBusy(null);
    if (error) return props.onFailed(error);
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'my-subscription-data.json';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    props.onSaid(t.downloadStarted);
  }

  function openConfirmation() {
    setConfirming(true);
    setUnderstood(false);
    requestAnimationFrame(() => confirmHeading.current?.focus());
  }

  function cancel() {
    setConfirming(false);
    requestAnimationFrame(() => deleteButton.current?.focus());
  }

  async function erase() {
    if (!understood) return;
    setBusy('delete');
    const { error } = await api.DELETE('/api/v1/preference-center', { params: { query } });
    setBusy(null);
    if (error) return props.onFailed(error);
    props.onDeleted();
  }

  async function emailLink() {
    setBusy('export');
    const { error } = await api.POST('/api/v1/preference-center/request-link', { body: { email: props.email, organization: props.organization, locale } });
    setBusy(null);
    if (error) return props.onFailed(error);
    props.onSaid(t.dataLinkSent(props.email));
  }

  if (!props.canManageData) {
    return (
      <section aria-labelledby="pc-data-heading" className="pc-section pc-data">
        <h2 id="pc-data-heading" className="pc-subtitle">
          {t.yourData}
        </h2>
        <p className="pc-muted">{t.dataNeedsFreshLink}</p>
        <div className="pc-row">
          <Button busy={busy === 'export'} onClick={emailLink}>
            {t.emailDataLink}
          </Button>
        </div>
      </section>
    );
  }

  return (
    <section aria-labelledby="pc-data-heading" className="pc-section pc-data">
      <h2 id="pc-data-heading" className="pc-subtitle">
        {t.yourData}
      </h2>
      <p className="pc-muted">{t.dataIntro}</p>
      <div className="pc-row">
        <Button busy={busy === 'export'} onClick={download}>
          {t.download}
        </Button>
        {!confirming ? (
          <Button ref={deleteButton} variant="danger" onClick={openConfirmation}>
            {t.deleteData}
          </Button>
        ) : null}
      </div>
      {confirming ? (
        <div className="pc-confirm" role="group" aria-labelledby="pc-delete-heading">
          <h3 id="pc-delete-heading" ref={confirmHeading} tabIndex={-1} className="pc-confirm-title">
            {t.deleteHeading}
          </h3>
          <p>{t.deleteWarning}</p>
          <div className="pc-check">
            <input id={checkboxId} type="checkbox" checked={understood} onChange={(event) => setUnderstood(event.currentTarget.checked)} />
            <label htmlFor={checkboxId}>{t.deleteConfirm}</label>
          </div>
          <div className="pc-row">
            <Button variant="danger" busy={busy === 'delete'} aria-disabled={!understood || undefined} onClick={erase}>
              {t.deleteForever}
            </Button>
            <Button variant="link" onClick={cancel}>
              {t.cancel}
            </Button>
          </div>
        </div>
      ) : null}
    </section>
  );
}
