/** Consent-history entries in words, for the timeline and the overview. */
export function describeEvent(event: { action: string; tag: { name: string } | null; details: Record<string, unknown> }): string {
  const tag = event.tag?.name ?? 'a deleted tag';
  switch (event.action) {
    case 'created':
      return 'Subscriber created';
    case 'updated':
      return 'Profile updated';
    case 'confirmed':
      return 'Subscription confirmed (double opt-in)';
    case 'subscribe_requested':
      return 'Asked to subscribe (confirmation sent)';
    case 'email_changed':
      return 'Email address changed';
    case 'tag_subscribed':
      return `Subscribed to ${tag}`;
    case 'tag_unsubscribed':
      return `Unsubscribed from ${tag}`;
    case 'unsubscribed':
      return 'Unsubscribed from all email';
    case 'status_changed': {
      const from = typeof event.details.from === 'string' ? event.details.from : null;
      const to = typeof event.details.to === 'string' ? event.details.to : null;
      return to ? `Status changed${from ? ` from ${from}` : ''} to ${to}` : 'Status changed';
    }
    default:
      return event.action.replace(/_/g, ' ');
  }
}
