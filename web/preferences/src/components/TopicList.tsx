import { Switch } from '@shared/ui/Switch';
import { useUi } from '../context';
import { topicWords, type PreferenceView, type Topic } from '../api';

/** Public topics grouped by category, in the API's order (the admins'); topics without a category come last. */
export function groupTopics(view: Pick<PreferenceView, 'categories' | 'tags'>, otherLabel: string) {
  const groups = view.categories.map((category) => ({
    key: category.name,
    label: category.display_name,
    topics: view.tags.filter((t) => t.category === category.name),
  }));
  const rest = view.tags.filter((t) => t.category === null);
  if (rest.length > 0) groups.push({ key: '', label: otherLabel, topics: rest });
  return groups.filter((group) => group.topics.length > 0);
}

export type TopicNote = { text: string; tone: 'status' | 'alert' };

/**
 * The topic switches. While the person receives nothing (unsubscribed from all), every switch shows
 * off and cannot be used, whatever topics they had: that is what they will get. Each switch says the
 * outcome of its own change right under it (saved, or why not).
 */
export function TopicList(props: {
  view: PreferenceView;
  disabled: boolean;
  /** A preview: shows each topic's state, but nothing can be switched. */
  readOnly?: boolean;
  onToggle: (topic: Topic, subscribed: boolean) => void;
  notes?: Record<string, TopicNote>;
}) {
  const { locale, t } = useUi();
  const groups = groupTopics(props.view, props.view.categories.length > 0 ? t.otherTopics : t.topics);
  if (groups.length === 0) return <p>{t.noTopics}</p>;
  return (
    <div className="pc-topics">
      {groups.map((group) => (
        <fieldset key={group.key} className="pc-group">
          <legend className="pc-legend">{group.label}</legend>
          {group.topics.map((topic) => (
            <div key={topic.id} className="pc-topic">
              <Switch
                id={`topic-${topic.id}`}
                label={topicWords(topic, locale).name}
                description={topicWords(topic, locale).description}
                checked={(props.readOnly || !props.disabled) && topic.is_subscribed}
                disabled={props.disabled || props.readOnly === true}
                onChange={(checked) => props.onToggle(topic, checked)}
              />
              <p id={`topic-${topic.id}-note`} role="status" className={`pc-note${props.notes?.[topic.id]?.tone === 'alert' ? ' pc-note--alert' : ''}`}>
                {props.notes?.[topic.id]?.text ?? ''}
              </p>
            </div>
          ))}
        </fieldset>
      ))}
    </div>
  );
}
