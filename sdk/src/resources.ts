import { paginate, type Transport } from './http.ts';
import type { QueryParams, RequestBody, RequestOptions, ResponseBody } from './types.ts';

/** A group of operations over the shared transport. */
class Resource {
  protected readonly http: Transport;
  constructor(http: Transport) {
    this.http = http;
  }
}

type ListQuery<O extends Parameters<Transport['call']>[0]> = Omit<QueryParams<O>, 'cursor'>;

/** People on your lists: create, find, update, tag, and list them all. */
export class Subscribers extends Resource {
  create(body: RequestBody<'createSubscriber'>, options?: RequestOptions) {
    return this.http.call('createSubscriber', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getSubscriber', { params: { id } }, options);
  }
  getByEmail(email: string, options?: RequestOptions) {
    return this.http.call('getSubscriberByEmail', { query: { email } }, options);
  }
  /** One page; see `listAll` to go through every subscriber. */
  list(query: QueryParams<'listSubscribers'> = {}, options?: RequestOptions) {
    return this.http.call('listSubscribers', { query }, options);
  }
  /** Every subscriber matching `query`, page after page: `for await (const s of sf.subscribers.listAll())`. */
  listAll(query: ListQuery<'listSubscribers'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  update(id: string, body: RequestBody<'updateSubscriber'>, options?: RequestOptions) {
    return this.http.call('updateSubscriber', { params: { id }, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('deleteSubscriber', { params: { id } }, options);
  }
  /** Subscribes to topics by slug (created when missing, as the API does). */
  addTags(id: string, tags: RequestBody<'addSubscriberTags'>['tags'], options?: RequestOptions) {
    return this.http.call('addSubscriberTags', { params: { id }, body: { tags } }, options);
  }
  removeTag(id: string, slug: string, options?: RequestOptions) {
    return this.http.call('removeSubscriberTag', { params: { id, slug } }, options);
  }
  /** A signed preference-center link and token for this subscriber (for your own emails). */
  generatePreferenceToken(id: string, body: RequestBody<'createPreferenceToken'> = {}, options?: RequestOptions) {
    return this.http.call('createPreferenceToken', { params: { id }, body }, options);
  }
  /** Creates or updates many subscribers in one request; each item is answered on its own. */
  batch(body: RequestBody<'batchUpsertSubscribers'>, options?: RequestOptions) {
    return this.http.call('batchUpsertSubscribers', { body }, options);
  }
  /** The subscriber's consent and activity history, newest first. */
  events(id: string, query: QueryParams<'listSubscriberEvents'> = {}, options?: RequestOptions) {
    return this.http.call('listSubscriberEvents', { params: { id }, query }, options);
  }
  /** Emails sent to the subscriber, newest first. */
  emails(id: string, query: QueryParams<'listSubscriberEmails'> = {}, options?: RequestOptions) {
    return this.http.call('listSubscriberEmails', { params: { id }, query }, options);
  }
}

/** Topics subscribers opt in to. */
export class Tags extends Resource {
  create(body: RequestBody<'createTag'>, options?: RequestOptions) {
    return this.http.call('createTag', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getTag', { params: { id } }, options);
  }
  getByName(name: string, options?: RequestOptions) {
    return this.http.call('getTagByName', { params: { name } }, options);
  }
  list(query: QueryParams<'listTags'> = {}, options?: RequestOptions) {
    return this.http.call('listTags', { query }, options);
  }
  listAll(query: ListQuery<'listTags'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  update(id: string, body: RequestBody<'updateTag'>, options?: RequestOptions) {
    return this.http.call('updateTag', { params: { id }, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('deleteTag', { params: { id } }, options);
  }
}

/** Email templates: MJML with Liquid variables. */
export class Templates extends Resource {
  create(body: RequestBody<'createTemplate'>, options?: RequestOptions) {
    return this.http.call('createTemplate', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getTemplate', { params: { id } }, options);
  }
  list(query: QueryParams<'listTemplates'> = {}, options?: RequestOptions) {
    return this.http.call('listTemplates', { query }, options);
  }
  listAll(query: ListQuery<'listTemplates'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  update(id: string, body: RequestBody<'updateTemplate'>, options?: RequestOptions) {
    return this.http.call('updateTemplate', { params: { id }, body }, options);
  }
  /** Archives the template (emails already sent keep their content). */
  archive(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('archiveTemplate', { params: { id } }, options);
  }
  /** Renders subject, HTML and text with sample or a subscriber's variables, without sending. */
  preview(id: string, body: RequestBody<'previewTemplate'> = {}, options?: RequestOptions) {
    return this.http.call('previewTemplate', { params: { id }, body }, options);
  }
}

/** Transactional email from a template. */
export class Emails extends Resource {
  /** Queues one email; the idempotency key (yours, or one the SDK makes) means a retry never sends twice. */
  send(body: RequestBody<'sendEmail'>, options?: RequestOptions) {
    return this.http.call('sendEmail', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getEmail', { params: { id } }, options);
  }
}

/** Addresses that receive no email at all. */
export class Suppressions extends Resource {
  list(query: QueryParams<'listSuppressions'> = {}, options?: RequestOptions) {
    return this.http.call('listSuppressions', { query }, options);
  }
  listAll(query: ListQuery<'listSuppressions'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  add(body: RequestBody<'addSuppression'>, options?: RequestOptions) {
    return this.http.call('addSuppression', { body }, options);
  }
  remove(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('removeSuppression', { params: { id } }, options);
  }
}

/** API keys of the organization (their secrets are shown once, on creation). */
export class ApiKeys extends Resource {
  list(query: QueryParams<'listApiKeys'> = {}, options?: RequestOptions) {
    return this.http.call('listApiKeys', { query }, options);
  }
  create(body: RequestBody<'createApiKey'>, options?: RequestOptions) {
    return this.http.call('createApiKey', { body }, options);
  }
  revoke(id: string, options?: RequestOptions) {
    return this.http.call('revokeApiKey', { params: { id } }, options);
  }
}

/** Counts and growth, as the dashboard shows them. */
export class Stats extends Resource {
  overview(options?: RequestOptions) {
    return this.http.call('getStatsOverview', {}, options);
  }
  growth(query: QueryParams<'getSubscriberGrowth'> = {}, options?: RequestOptions) {
    return this.http.call('getSubscriberGrowth', { query }, options);
  }
}

/**
 * The subscriber's own preference center, authorized by the signed token of their link (no API key):
 * what a custom preference page built on your site calls.
 */
export class PreferenceCenter {
  private readonly http: Transport;
  private readonly token: string;
  constructor(http: Transport, token: string) {
    this.http = http;
    this.token = token;
  }

  getInfo(options?: RequestOptions) {
    return this.http.call('getPreferenceCenter', { query: { token: this.token } }, options);
  }
  /** Subscribes to or unsubscribes from one topic. */
  update(tagId: string, subscribed: boolean, options?: RequestOptions) {
    return this.http.call('setPreferenceTag', { params: { tag_id: tagId }, query: { token: this.token }, body: { subscribed } }, options);
  }
  unsubscribeAll(options?: RequestOptions) {
    return this.http.call('unsubscribeAll', { query: { token: this.token } }, options);
  }
  undoUnsubscribeAll(undoToken: string, options?: RequestOptions) {
    return this.http.call('undoUnsubscribeAll', { query: { token: this.token }, body: { undo_token: undoToken } }, options);
  }
  /** Everything stored about the subscriber, as JSON (GDPR access). */
  export(options?: RequestOptions) {
    return this.http.call('exportPreferenceData', { query: { token: this.token } }, options);
  }
  /** Erases the subscriber (GDPR erasure); the address stays suppressed so it is never mailed again. */
  delete(options?: RequestOptions): Promise<void> {
    return this.http.call('deletePreferenceData', { query: { token: this.token } }, options);
  }
}

export type { ResponseBody };
