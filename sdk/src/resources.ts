import { multipart, paginate, type Transport, type UploadSource } from './http.ts';
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
  /**
   * Every subscriber matching `query` as CSV (default) or NDJSON, a stream read as the server writes it:
   * `Readable.fromWeb(await sf.subscribers.export()).pipe(createWriteStream('subscribers.csv'))` in Node,
   * or `new Response(stream).text()` for a small list.
   */
  export(query: QueryParams<'exportSubscribers'> = {}, options?: RequestOptions): Promise<ReadableStream<Uint8Array>> {
    return this.http.stream('exportSubscribers', { query }, options, query.format === 'ndjson' ? 'application/x-ndjson' : 'text/csv');
  }
}

/** Options of a CSV import (mapping, tags, update_existing, dry_run, delimiter, encoding). */
export interface ImportOptions {
  /** CSV header → email, first_name, last_name, tags, ignore or metadata.<key>; other columns are recognised by their header. */
  mapping?: Record<string, string>;
  metadata_types?: Record<string, 'string' | 'number' | 'boolean' | 'date'>;
  /** Tags every imported row is subscribed to (created private when new). */
  tags?: string[];
  /** Update names, metadata and tags of subscribers that exist (never their status); otherwise they are skipped. */
  update_existing?: boolean;
  /** Only report what the import would do; run it for real later with `start(id)`. */
  dry_run?: boolean;
  /** Detected from the header when not given. */
  delimiter?: ',' | ';' | '\t';
  /** Detected (UTF-8 with or without BOM, otherwise Latin-1) when not given. */
  encoding?: 'utf-8' | 'latin1';
  /** The file name shown in the list of imports (default import.csv). */
  fileName?: string;
}

/** CSV imports of subscribers, run in the background: upload, watch, read the errors, cancel. */
export class Imports extends Resource {
  /**
   * Uploads a CSV file and queues its import (202: watch it with `get`). The file is a Blob or File
   * (in Node: `await fs.openAsBlob('people.csv')`), a web ReadableStream or a Node stream; a stream is
   * sent as it is read, never held in memory, and is not retried (browsers other than Chromium cannot
   * send a stream: give them the File). The client's timeout does not apply to an upload; pass
   * `{ timeout }` or a `signal` to bound it.
   */
  create(file: UploadSource, importOptions: ImportOptions = {}, options?: RequestOptions) {
    const { fileName, ...rest } = importOptions;
    const name = fileName ?? (typeof File !== 'undefined' && file instanceof File ? file.name : 'import.csv');
    const body = multipart({ options: JSON.stringify(rest) }, { field: 'file', name, type: 'text/csv', source: file });
    return this.http.call('createImport', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getImport', { params: { id } }, options);
  }
  list(query: QueryParams<'listImports'> = {}, options?: RequestOptions) {
    return this.http.call('listImports', { query }, options);
  }
  listAll(query: ListQuery<'listImports'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  /** Runs a completed dry run for real, on the same file. */
  start(id: string, options?: RequestOptions) {
    return this.http.call('startImport', { params: { id } }, options);
  }
  /** Cancels a queued or running import: nothing of it is applied. */
  cancel(id: string, options?: RequestOptions) {
    return this.http.call('cancelImport', { params: { id } }, options);
  }
  /** The rows that were not imported (CSV: row, column, reason; no values from the file), as a stream. */
  errors(id: string, options?: RequestOptions): Promise<ReadableStream<Uint8Array>> {
    return this.http.stream('getImportErrors', { params: { id } }, options, 'text/csv');
  }
}

/** Saved audiences: a filter over subscribers, counted and listed live. */
export class Segments extends Resource {
  create(body: RequestBody<'createSegment'>, options?: RequestOptions) {
    return this.http.call('createSegment', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getSegment', { params: { id } }, options);
  }
  list(query: QueryParams<'listSegments'> = {}, options?: RequestOptions) {
    return this.http.call('listSegments', { query }, options);
  }
  listAll(query: ListQuery<'listSegments'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  update(id: string, body: RequestBody<'updateSegment'>, options?: RequestOptions) {
    return this.http.call('updateSegment', { params: { id }, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('deleteSegment', { params: { id } }, options);
  }
  /** How many subscribers a filter matches, without saving it. */
  previewCount(filter: RequestBody<'previewSegmentCount'>['filter'], options?: RequestOptions) {
    return this.http.call('previewSegmentCount', { body: { filter } }, options);
  }
  /** How many subscribers the segment matches now. */
  count(id: string, options?: RequestOptions) {
    return this.http.call('countSegment', { params: { id } }, options);
  }
  /** A sample of the segment's members: the first 50 it matches, newest first (the count is `count`). */
  members(id: string, options?: RequestOptions) {
    return this.http.call('listSegmentMembers', { params: { id } }, options);
  }
}

/** Automations (the API's triggers): steps run for every subscriber an event brings in. */
export class Automations extends Resource {
  /** `{ name, event, template_id, delay_seconds? }` for one email, or `steps` for a sequence; created paused unless `is_active`. */
  create(body: RequestBody<'createTrigger'>, options?: RequestOptions) {
    return this.http.call('createTrigger', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getTrigger', { params: { id } }, options);
  }
  list(query: QueryParams<'listTriggers'> = {}, options?: RequestOptions) {
    return this.http.call('listTriggers', { query }, options);
  }
  listAll(query: ListQuery<'listTriggers'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  /** Changing steps, event, tag or conditions makes a new version; runs in flight keep theirs. */
  update(id: string, body: RequestBody<'updateTrigger'>, options?: RequestOptions) {
    return this.http.call('updateTrigger', { params: { id }, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('deleteTrigger', { params: { id } }, options);
  }
  activate(id: string, options?: RequestOptions) {
    return this.http.call('activateTrigger', { params: { id } }, options);
  }
  pause(id: string, options?: RequestOptions) {
    return this.http.call('pauseTrigger', { params: { id } }, options);
  }
  /** Runs by state and, per step, how many entered, wait, completed and exited (with reasons). */
  stepCounts(id: string, query: QueryParams<'getTriggerStepCounts'> = {}, options?: RequestOptions) {
    return this.http.call('getTriggerStepCounts', { params: { id }, query }, options);
  }
  /** One subscriber's runs with their steps, newest first. */
  runsOf(subscriberId: string, query: QueryParams<'listSubscriberAutomationRuns'> = {}, options?: RequestOptions) {
    return this.http.call('listSubscriberAutomationRuns', { params: { id: subscriberId }, query }, options);
  }
}

/** Custom events from your application: they start automations and resume runs waiting for them. */
export class Events extends Resource {
  /** Names the subscriber by `subscriber_id` or `email`; with `idempotency_key`, a repeat answers `duplicate: true`. */
  record(body: RequestBody<'recordEvent'>, options?: RequestOptions) {
    return this.http.call('recordEvent', { body }, options);
  }
}

/** Campaigns: one template sent to an audience (topics or a segment), now or at a time. */
export class Campaigns extends Resource {
  /** Creates a draft; nothing is sent until `send`. */
  create(body: RequestBody<'createCampaign'>, options?: RequestOptions) {
    return this.http.call('createCampaign', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getCampaign', { params: { id } }, options);
  }
  list(query: QueryParams<'listCampaigns'> = {}, options?: RequestOptions) {
    return this.http.call('listCampaigns', { query }, options);
  }
  listAll(query: ListQuery<'listCampaigns'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  /** Changes a draft or scheduled campaign. */
  update(id: string, body: RequestBody<'updateCampaign'>, options?: RequestOptions) {
    return this.http.call('updateCampaign', { params: { id }, body }, options);
  }
  /** Deletes a draft or scheduled campaign. */
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('deleteCampaign', { params: { id } }, options);
  }
  /** Sends now, or at `scheduled_at`; the idempotency key (yours, or one the SDK makes) means a retry never sends twice. */
  send(id: string, body: RequestBody<'sendCampaign'> = {}, options?: RequestOptions) {
    return this.http.call('sendCampaign', { params: { id }, body }, options);
  }
  pause(id: string, options?: RequestOptions) {
    return this.http.call('pauseCampaign', { params: { id } }, options);
  }
  resume(id: string, options?: RequestOptions) {
    return this.http.call('resumeCampaign', { params: { id } }, options);
  }
  /** Cancels a scheduled or sending campaign; emails already sent stay sent. */
  cancel(id: string, options?: RequestOptions) {
    return this.http.call('cancelCampaign', { params: { id } }, options);
  }
  /** A new draft with the same content and audience. */
  duplicate(id: string, options?: RequestOptions) {
    return this.http.call('duplicateCampaign', { params: { id } }, options);
  }
  /** Sends again to the recipients whose email failed. */
  retry(id: string, options?: RequestOptions) {
    return this.http.call('retryCampaign', { params: { id } }, options);
  }
  /** Sends a test to a few addresses (not counted in the stats). */
  test(id: string, emails: string[], options?: RequestOptions) {
    return this.http.call('testCampaign', { params: { id }, body: { emails } }, options);
  }
  /** How many subscribers the campaign would go to now, and how many are left out and why. */
  recipientCount(id: string, options?: RequestOptions) {
    return this.http.call('countCampaignRecipients', { params: { id } }, options);
  }
  /** One page of the recipients of a sent campaign with their status; see `recipientsAll`. */
  recipients(id: string, query: QueryParams<'listCampaignRecipients'> = {}, options?: RequestOptions) {
    return this.http.call('listCampaignRecipients', { params: { id }, query }, options);
  }
  recipientsAll(id: string, query: ListQuery<'listCampaignRecipients'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.recipients(id, { ...query, cursor }, options));
  }
  /** Progress of a sending campaign: queued, sent, failed. */
  progress(id: string, options?: RequestOptions) {
    return this.http.call('getCampaignProgress', { params: { id } }, options);
  }
  /** Deliveries, opens, clicks, bounces, complaints and unsubscribes. */
  stats(id: string, options?: RequestOptions) {
    return this.http.call('getCampaignStats', { params: { id } }, options);
  }
  /** An A/B test's state, its results per variant (human and machine numbers) and its winner. */
  abTest(id: string, options?: RequestOptions) {
    return this.http.call('getCampaignAbTest', { params: { id } }, options);
  }
  /** Chooses the A/B test's winner (0-based index) now and sends it to the rest. */
  chooseAbTestWinner(id: string, variant: number, options?: RequestOptions) {
    return this.http.call('chooseCampaignAbTestWinner', { params: { id }, body: { variant } }, options);
  }
}

/** Outgoing webhooks: endpoints that receive signed events, and their deliveries. */
export class Webhooks extends Resource {
  /** Creates an endpoint; the answer carries its signing secret, shown only now. */
  create(body: RequestBody<'createWebhook'>, options?: RequestOptions) {
    return this.http.call('createWebhook', { body }, options);
  }
  get(id: string, options?: RequestOptions) {
    return this.http.call('getWebhook', { params: { id } }, options);
  }
  list(query: QueryParams<'listWebhooks'> = {}, options?: RequestOptions) {
    return this.http.call('listWebhooks', { query }, options);
  }
  listAll(query: ListQuery<'listWebhooks'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  update(id: string, body: RequestBody<'updateWebhook'>, options?: RequestOptions) {
    return this.http.call('updateWebhook', { params: { id }, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.http.call('deleteWebhook', { params: { id } }, options);
  }
  /** The event types an endpoint can subscribe to. */
  eventTypes(options?: RequestOptions) {
    return this.http.call('listWebhookEventTypes', {}, options);
  }
  /** Sends a test event to the endpoint (delivered like any other, signed). */
  test(id: string, options?: RequestOptions) {
    return this.http.call('testWebhook', { params: { id } }, options);
  }
  /** A new signing secret; the previous one stays valid for a while so receivers can switch. */
  rotateSecret(id: string, options?: RequestOptions) {
    return this.http.call('rotateWebhookSecret', { params: { id } }, options);
  }
  /** One page of the endpoint's deliveries, newest first; see `deliveriesAll`. */
  deliveries(id: string, query: QueryParams<'listWebhookDeliveries'> = {}, options?: RequestOptions) {
    return this.http.call('listWebhookDeliveries', { params: { id }, query }, options);
  }
  /** Every delivery of the endpoint matching `query`, page after page. */
  deliveriesAll(id: string, query: ListQuery<'listWebhookDeliveries'> = {}, options?: RequestOptions) {
    return paginate((cursor) => this.deliveries(id, { ...query, cursor }, options));
  }
  getDelivery(deliveryId: string, options?: RequestOptions) {
    return this.http.call('getWebhookDelivery', { params: { delivery_id: deliveryId } }, options);
  }
  /** Delivers a failed or dead delivery again. */
  retryDelivery(deliveryId: string, options?: RequestOptions) {
    return this.http.call('retryWebhookDelivery', { params: { delivery_id: deliveryId } }, options);
  }
  /** Delivers again every event of a time window the endpoint subscribes to. */
  replay(id: string, body: RequestBody<'replayWebhook'>, options?: RequestOptions) {
    return this.http.call('replayWebhook', { params: { id }, body }, options);
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
