import { useEffect, useRef, useState } from 'react';
import { errorCode } from '@shared/api/errors';
import { Button } from '@shared/ui/Button';
import { LiveRegion } from '@shared/ui/LiveRegion';
import { api, type PreferenceView, type Topic } from '../api';
import { useUi } from '../context';
import { DataSection } from '../components/DataSection';
import { Frame } from '../components/Frame';
import { TopicList } from '../components/TopicList';

type Notice = { text: string; tone: 'status' | 'alert' } | null;

/**
 * The preference center: topics that save as they are switched, unsubscribe from everything (with a
 * short undo), resubscribe by confirmation email, and the person's data. Every outcome is said in one
 * live region.
 */
export function PreferencesPage(props: { token: string; view: PreferenceView; onDeleted: () => void }) {
  const { locale, t } = useUi();
  const [view, setView] = useState(props.view);
  const [notice, setNotice] = useState<Notice>(null);
  const [undo, setUndo] = useState<{ token: string; until: number } | null>(null);
  const [busy, setBusy] = useState<'unsubscribe' | 'undo' | 'resubscribe' | null>(null);
  const queues = useRef(new Map<string, Promise<unknown>>());
  const undoButton = useRef<HTMLButtonElement>(null);
  const query = { token: props.token };

  const texts = view.organization.texts[locale] ?? {};
  const receiving = view.subscriber.status === 'active' || view.subscriber.status === 'pending';
  const say = (text: string, tone: 'status' | 'alert' = 'status') => setNotice({ text, tone });
  const failure = (error: unknown) => say(errorCode(error) === 'rate_limited' ? t.tooMany : t.genericError, 'alert');

  useEffect(() => {
    if (undo) undoButton.current?.focus();
  }, [undo]);

  function setTopic(id: string, subscribed: boolean) {
    setView((current) => ({ ...current, tags: current.tags.map((tag) => (tag.id === id ? { ...tag, is_subscribed: subscribed } : tag)) }));
  }

  function toggle(topic: Topic, subscribed: boolean) {
    setTopic(topic.id, subscribed);
    // Changes to one topic go out in order, so quick double toggles end in the state last shown.
    const previous = queues.current.get(topic.id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const { error } = await api.PUT('/api/v1/preference-center/tags/{tag_id}', { params: { query, path: { tag_id: topic.id } }, body: { subscribed } });
      if (error) {
        setTopic(topic.id, !subscribed);
        say(t.saveFailed, 'alert');
        return;
      }
      say(`${texts.save ?? t.saved}: ${subscribed ? t.topicOn(topic.display_name) : t.topicOff(topic.display_name)}`);
    });
    queues.current.set(topic.id, next);
  }

  async function unsubscribeAll() {
    setBusy('unsubscribe');
    const { data, error } = await api.POST('/api/v1/preference-center/unsubscribe-all', { params: { query } });
    setBusy(null);
    if (error) return failure(error);
    setView((current) => ({ ...current, subscriber: { ...current.subscriber, status: data.status }, tags: current.tags.map((tag) => ({ ...tag, is_subscribed: false })) }));
    setUndo({ token: data.undo_token, until: new Date(data.undo_expires_at).getTime() });
    say(t.unsubscribedAll);
  }

  async function undoUnsubscribe() {
    if (!undo) return;
    setBusy('undo');
    const { error } = await api.POST('/api/v1/preference-center/unsubscribe-all/undo', { params: { query }, body: { undo_token: undo.token } });
    const fresh = error ? null : await api.GET('/api/v1/preference-center', { params: { query } });
    setBusy(null);
    setUndo(null);
    if (error) return errorCode(error) === 'undo_not_possible' || errorCode(error) === 'token_expired' ? say(t.undoFailed, 'alert') : failure(error);
    if (fresh?.data) setView(fresh.data);
    say(t.undone);
  }

  async function resubscribe() {
    setBusy('resubscribe');
    const { error } = await api.POST('/api/v1/preference-center/resubscribe', { params: { query }, body: { locale } });
    setBusy(null);
    if (error) return failure(error);
    say(t.resubscribeSent);
  }

  const undoOpen = undo !== null && undo.until > Date.now();
  return (
    <Frame organization={view.organization} title={texts.title ?? t.title}>
      <p className="pc-intro">{texts.intro ?? t.intro}</p>
      <p className="pc-muted">{t.greeting(view.subscriber.first_name)} · {t.signedInAs(view.subscriber.email)}</p>

      {view.subscriber.status === 'pending' ? (
        <div className="pc-banner">
          <p>{t.pending}</p>
          <Button busy={busy === 'resubscribe'} onClick={resubscribe}>{t.resendConfirmation}</Button>
        </div>
      ) : null}
      {!receiving && !undoOpen ? (
        <div className="pc-banner">
          <p>{t.notReceiving(view.organization.name)} {t.topicsDisabled}</p>
          <Button variant="primary" busy={busy === 'resubscribe'} onClick={resubscribe}>{t.resubscribe}</Button>
        </div>
      ) : null}

      <section aria-labelledby="pc-topics-heading" className="pc-section">
        <h2 id="pc-topics-heading" className="sf-visually-hidden">{t.topics}</h2>
        <TopicList view={view} disabled={!receiving} onToggle={toggle} />
      </section>

      <LiveRegion message={notice?.tone === 'status' ? notice.text : null} tone="status" />
      <LiveRegion message={notice?.tone === 'alert' ? notice.text : null} tone="alert" />

      <section className="pc-section pc-actions">
        {undoOpen ? (
          <Button ref={undoButton} variant="primary" busy={busy === 'undo'} onClick={undoUnsubscribe}>{t.undo}</Button>
        ) : receiving ? (
          <Button variant="secondary" busy={busy === 'unsubscribe'} onClick={unsubscribeAll}>{texts.unsubscribe_all ?? t.unsubscribeAll}</Button>
        ) : null}
      </section>

      <DataSection
        token={props.token} canManageData={view.can_manage_data} email={view.subscriber.email} organization={view.organization.slug}
        onSaid={say} onFailed={failure} onDeleted={props.onDeleted}
      />
    </Frame>
  );
}
