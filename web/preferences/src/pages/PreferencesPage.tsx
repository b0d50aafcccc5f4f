import { useEffect, useRef, useState } from 'react';
import { errorCode } from '@shared/api/errors';
import { Button } from '@shared/ui/Button';
import { LiveRegion } from '@shared/ui/LiveRegion';
import { api, topicWords, type PreferenceView, type Topic } from '../api';
import { useUi } from '../context';
import { DataSection } from '../components/DataSection';
import { Frame } from '../components/Frame';
import { TopicList, type TopicNote } from '../components/TopicList';

type Notice = { text: string; tone: 'status' | 'alert' } | null;
type Reason = 'too_many' | 'not_relevant' | 'never_signed_up' | 'other';
const REASONS: Reason[] = ['too_many', 'not_relevant', 'never_signed_up', 'other'];

/**
 * The preference center: topics that save as they are switched, unsubscribe from everything (with a
 * short undo), resubscribe by confirmation email, and the person's data. Opened from an email's
 * "Unsubscribe" link (`unsubscribeFirst`), it leads with the unsubscribe card, which offers to stop
 * only that email's topics or everything. Every outcome is said next to the control that caused it,
 * where the person is looking. An admin's preview (`view.preview`) shows all of it and changes nothing.
 */
export function PreferencesPage(props: {
  token: string;
  view: PreferenceView;
  unsubscribeFirst?: boolean;
  /** Topics of the email whose unsubscribe link opened the page: the card offers to stop only these. */
  emailTopics?: string[];
  onDeleted: () => void;
  onLinkExpired: () => void;
}) {
  const { locale, t } = useUi();
  const [view, setView] = useState(props.view);
  const [notice, setNotice] = useState<Notice>(null);
  const [unsubscribeNotice, setUnsubscribeNotice] = useState<Notice>(null);
  const [topicNotes, setTopicNotes] = useState<Record<string, TopicNote>>({});
  const [reason, setReason] = useState<Reason | null>(null);
  const [undo, setUndo] = useState<{ token: string; until: number } | null>(null);
  const [busy, setBusy] = useState<'unsubscribe' | 'undo' | 'resubscribe' | null>(null);
  const [scope, setScope] = useState<'topics' | 'everything'>('topics');
  const queues = useRef(new Map<string, Promise<unknown>>());
  const undoButton = useRef<HTMLButtonElement>(null);
  const query = { token: props.token };

  const texts = view.organization.texts[locale] ?? {};
  const organization = view.organization.name;
  const receiving = view.subscriber.status === 'active' || view.subscriber.status === 'pending';
  const readOnly = view.preview;
  // The email's topics the person still gets: what "only these" would stop.
  const emailTopics = view.tags.filter((tag) => props.emailTopics?.includes(tag.id) && tag.is_subscribed);
  const topicNames = (topics: Topic[]) => {
    const names = topics.map((topic) => topicWords(topic, locale).name);
    return names.length > 1 ? `${names.slice(0, -1).join(', ')} ${t.and} ${names.at(-1)}` : (names[0] ?? '');
  };
  const offerTopics = receiving && emailTopics.length > 0;
  const say = (text: string, tone: 'status' | 'alert' = 'status') => setNotice({ text, tone });
  const failure = (error: unknown) => say(errorCode(error) === 'rate_limited' ? t.tooMany : t.genericError, 'alert');
  const unsubscribeFailure = (error: unknown) => {
    if (errorCode(error) === 'token_expired') return props.onLinkExpired();
    setUnsubscribeNotice({ text: errorCode(error) === 'rate_limited' ? t.tooMany : t.genericError, tone: 'alert' });
  };

  useEffect(() => {
    if (undo) undoButton.current?.focus();
  }, [undo]);

  function setTopic(id: string, subscribed: boolean) {
    setView((current) => ({ ...current, tags: current.tags.map((tag) => (tag.id === id ? { ...tag, is_subscribed: subscribed } : tag)) }));
  }
  const note = (id: string, text: string, tone: 'status' | 'alert') => setTopicNotes((notes) => ({ ...notes, [id]: { text, tone } }));

  function toggle(topic: Topic, subscribed: boolean) {
    setTopic(topic.id, subscribed);
    // Changes to one topic go out in order, so quick double toggles end in the state last shown.
    const previous = queues.current.get(topic.id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const { error } = await api.PUT('/api/v1/preference-center/tags/{tag_id}', { params: { query, path: { tag_id: topic.id } }, body: { subscribed } });
      if (error) {
        // The switch goes back to what is stored, and says why, right under it.
        setTopic(topic.id, !subscribed);
        const code = errorCode(error);
        if (code === 'token_expired') return props.onLinkExpired();
        note(topic.id, code === 'rate_limited' ? t.saveFailedTooMany : code === 'network_error' ? t.saveFailedOffline : t.saveFailed, 'alert');
        return;
      }
      note(topic.id, `${texts.save ?? t.saved}: ${subscribed ? t.topicOn(topic.display_name) : t.topicOff(topic.display_name)}`, 'status');
    });
    queues.current.set(topic.id, next);
  }

  /** Stops only the email's topics (with the reason, when given); the rest of the subscription stays. */
  async function unsubscribeTopics() {
    const leaving = emailTopics;
    setBusy('unsubscribe');
    const results = await Promise.all(
      leaving.map((topic) =>
        api.PUT('/api/v1/preference-center/tags/{tag_id}', {
          params: { query, path: { tag_id: topic.id } },
          body: { subscribed: false, ...(reason ? { reason } : {}) },
        }),
      ),
    );
    setBusy(null);
    const left = leaving.filter((_topic, index) => !results[index]!.error);
    for (const topic of left) setTopic(topic.id, false);
    const failed = results.find((result) => result.error);
    if (failed) return unsubscribeFailure(failed.error);
    setUnsubscribeNotice({ text: t.unsubscribedTopics(topicNames(left)), tone: 'status' });
  }

  async function unsubscribeAll() {
    setBusy('unsubscribe');
    const { data, error } = await api.POST('/api/v1/preference-center/unsubscribe-all', { params: { query: { ...query, ...(reason ? { reason } : {}) } } });
    setBusy(null);
    if (error) return unsubscribeFailure(error);
    setView((current) => ({
      ...current,
      subscriber: { ...current.subscriber, status: data.status },
      tags: current.tags.map((tag) => ({ ...tag, is_subscribed: false })),
    }));
    setTopicNotes({});
    setUndo({ token: data.undo_token, until: new Date(data.undo_expires_at).getTime() });
    setUnsubscribeNotice({ text: t.unsubscribedAllFrom(organization), tone: 'status' });
  }

  async function undoUnsubscribe() {
    if (!undo) return;
    setBusy('undo');
    const { error } = await api.POST('/api/v1/preference-center/unsubscribe-all/undo', { params: { query }, body: { undo_token: undo.token } });
    const fresh = error ? null : await api.GET('/api/v1/preference-center', { params: { query } });
    setBusy(null);
    setUndo(null);
    if (error) {
      const code = errorCode(error);
      return setUnsubscribeNotice({
        text: code === 'undo_not_possible' || code === 'token_expired' ? t.undoFailed : code === 'rate_limited' ? t.tooMany : t.genericError,
        tone: 'alert',
      });
    }
    if (fresh?.data) setView(fresh.data);
    setUnsubscribeNotice({ text: t.undone, tone: 'status' });
  }

  async function resubscribe() {
    setBusy('resubscribe');
    const { error } = await api.POST('/api/v1/preference-center/resubscribe', { params: { query }, body: { locale } });
    setBusy(null);
    if (error) return failure(error);
    say(t.resubscribeSent);
  }

  const undoOpen = undo !== null && undo.until > Date.now();
  const hadTopics = !receiving && view.tags.some((tag) => tag.is_subscribed);

  const unsubscribeControls = (
    <div className="pc-row">
      {undoOpen ? (
        <Button ref={undoButton} variant="primary" busy={busy === 'undo'} onClick={undoUnsubscribe}>
          {t.undo}
        </Button>
      ) : receiving && props.unsubscribeFirst && offerTopics ? (
        <Button variant="primary" disabled={readOnly} busy={busy === 'unsubscribe'} onClick={scope === 'topics' ? unsubscribeTopics : unsubscribeAll}>
          {t.unsubscribeButton}
        </Button>
      ) : receiving ? (
        <Button variant={props.unsubscribeFirst ? 'primary' : 'secondary'} disabled={readOnly} busy={busy === 'unsubscribe'} onClick={unsubscribeAll}>
          {texts.unsubscribe_all ?? t.unsubscribeAll}
        </Button>
      ) : null}
    </div>
  );
  const unsubscribeResult = (
    <>
      <LiveRegion message={unsubscribeNotice?.tone === 'status' ? unsubscribeNotice.text : null} tone="status" />
      <LiveRegion message={unsubscribeNotice?.tone === 'alert' ? unsubscribeNotice.text : null} tone="alert" />
    </>
  );
  const banners = (
    <>
      {readOnly ? (
        <div className="pc-banner pc-preview">
          <p>{t.previewBanner}</p>
        </div>
      ) : null}
      {view.subscriber.status === 'pending' ? (
        <div className="pc-banner">
          <p>{t.pending}</p>
          <Button busy={busy === 'resubscribe'} onClick={resubscribe}>
            {t.resendConfirmation}
          </Button>
        </div>
      ) : null}
      {!receiving && !undoOpen ? (
        <div className="pc-banner">
          <p>
            {t.notReceiving(organization)} {t.topicsDisabled}
          </p>
          <Button variant="primary" busy={busy === 'resubscribe'} onClick={resubscribe}>
            {t.resubscribe}
          </Button>
        </div>
      ) : null}
      <LiveRegion message={notice?.tone === 'status' ? notice.text : null} tone="status" />
      <LiveRegion message={notice?.tone === 'alert' ? notice.text : null} tone="alert" />
    </>
  );
  const topics = (
    <>
      {hadTopics ? <p className="pc-muted">{t.formerTopics}</p> : null}
      <TopicList view={view} disabled={!receiving} readOnly={readOnly} onToggle={toggle} notes={topicNotes} />
    </>
  );

  if (props.unsubscribeFirst) {
    return (
      <Frame organization={view.organization} title={t.unsubscribeHeading}>
        <p className="pc-muted">{t.signedInAs(view.subscriber.email)}</p>
        <section className="pc-card" aria-labelledby="pc-unsubscribe-heading">
          <h2 id="pc-unsubscribe-heading" className="pc-subtitle">
            {offerTopics && !undoOpen ? t.unsubscribeChoice : (texts.unsubscribe_all ?? t.unsubscribeAll)}
          </h2>
          {offerTopics && !undoOpen ? (
            <fieldset className="pc-choice">
              <legend className="sf-visually-hidden">{t.unsubscribeChoice}</legend>
              <label className="pc-option">
                <input type="radio" name="scope" value="topics" checked={scope === 'topics'} onChange={() => setScope('topics')} />
                <span>
                  {t.onlyTopics(topicNames(emailTopics))}
                  <span className="pc-option-hint">{t.onlyTopicsHint}</span>
                </span>
              </label>
              <label className="pc-option">
                <input type="radio" name="scope" value="everything" checked={scope === 'everything'} onChange={() => setScope('everything')} />
                <span>
                  {t.everything}
                  <span className="pc-option-hint">{t.everythingHint(organization)}</span>
                </span>
              </label>
            </fieldset>
          ) : receiving || undoOpen ? (
            <p>{t.unsubscribeLead(organization)}</p>
          ) : null}
          {receiving ? (
            <fieldset className="pc-reasons">
              <legend>{t.reasonLegend}</legend>
              {REASONS.map((r) => (
                <label key={r} className="pc-radio">
                  <input type="radio" name="reason" value={r} checked={reason === r} onChange={() => setReason(r)} />
                  {t.reasons[r]}
                </label>
              ))}
            </fieldset>
          ) : null}
          {unsubscribeControls}
          {unsubscribeResult}
        </section>
        {banners}
        <section aria-labelledby="pc-topics-heading" className="pc-section">
          <h2 id="pc-topics-heading" className="pc-subtitle">
            {t.orChooseTopics}
          </h2>
          {receiving ? <p className="pc-muted">{t.orChooseTopicsHint}</p> : null}
          {topics}
        </section>
        {readOnly ? null : (
          <DataSection
            token={props.token}
            canManageData={view.can_manage_data}
            email={view.subscriber.email}
            organization={view.organization.slug}
            onSaid={say}
            onFailed={failure}
            onDeleted={props.onDeleted}
          />
        )}
      </Frame>
    );
  }

  return (
    <Frame organization={view.organization} title={texts.title ?? t.title}>
      <p className="pc-intro">{texts.intro ?? t.intro}</p>
      <p className="pc-muted">
        {t.greeting(view.subscriber.first_name)} · {t.signedInAs(view.subscriber.email)}
      </p>
      {banners}
      <section aria-labelledby="pc-topics-heading" className="pc-section">
        <h2 id="pc-topics-heading" className="sf-visually-hidden">
          {t.topics}
        </h2>
        {topics}
      </section>
      <section className="pc-section pc-actions">
        {unsubscribeControls}
        {unsubscribeResult}
      </section>
      {readOnly ? null : (
        <DataSection
          token={props.token}
          canManageData={view.can_manage_data}
          email={view.subscriber.email}
          organization={view.organization.slug}
          onSaid={say}
          onFailed={failure}
          onDeleted={props.onDeleted}
        />
      )}
    </Frame>
  );
}
