import { Transport } from './http.ts';
import {
  ApiKeys, Automations, Campaigns, Emails, Events, Imports, PreferenceCenter, Segments, Stats, Subscribers, Suppressions, Tags, Templates, Webhooks,
} from './resources.ts';

export interface ClientOptions {
  /** An API key (sf_live_… or sf_test_…). Keep it on your server: a key in a browser is a published key. */
  apiKey?: string;
  /** Where the API is, e.g. https://api.example.com (the same origin the API reference shows). */
  baseUrl: string;
  /** Milliseconds one attempt may take (default 30 000). */
  timeout?: number;
  /** Retries after the first attempt of a request that is safe to repeat (default 2). */
  maxRetries?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/**
 * The Subscribe Flow API client.
 *
 * ```ts
 * const sf = new SubscribeFlowClient({ apiKey: process.env.SF_API_KEY, baseUrl: 'https://api.example.com' });
 * const ada = await sf.subscribers.create({ email: 'ada@example.com', tags: ['product-updates'] });
 * ```
 */
export class SubscribeFlowClient {
  readonly subscribers: Subscribers;
  readonly tags: Tags;
  readonly templates: Templates;
  readonly emails: Emails;
  readonly suppressions: Suppressions;
  readonly apiKeys: ApiKeys;
  readonly stats: Stats;
  readonly segments: Segments;
  readonly campaigns: Campaigns;
  readonly automations: Automations;
  /** The same resource under the name the reference SDK and the API path use (`/api/v1/triggers`). */
  readonly triggers: Automations;
  readonly events: Events;
  readonly webhooks: Webhooks;
  readonly imports: Imports;
  private readonly publicHttp: Transport;

  constructor(options: ClientOptions) {
    if (!options.baseUrl) throw new TypeError('SubscribeFlowClient needs a baseUrl');
    const shared = {
      baseUrl: options.baseUrl,
      timeout: options.timeout ?? 30_000,
      maxRetries: options.maxRetries ?? 2,
      // Bound, so that a fetch replaced later (tests, instrumentation) is the one used.
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      headers: options.headers ?? {},
    } satisfies ConstructorParameters<typeof Transport>[0];
    const http = new Transport({ ...shared, ...(options.apiKey ? { apiKey: options.apiKey } : {}) });
    this.publicHttp = new Transport(shared);
    this.subscribers = new Subscribers(http);
    this.tags = new Tags(http);
    this.templates = new Templates(http);
    this.emails = new Emails(http);
    this.suppressions = new Suppressions(http);
    this.apiKeys = new ApiKeys(http);
    this.stats = new Stats(http);
    this.segments = new Segments(http);
    this.campaigns = new Campaigns(http);
    this.automations = new Automations(http);
    this.triggers = this.automations;
    this.events = new Events(http);
    this.webhooks = new Webhooks(http);
    this.imports = new Imports(http);
  }

  /** The preference center of the subscriber whose link carries `token`; sends no API key. */
  preferenceCenter(token: string): PreferenceCenter {
    return new PreferenceCenter(this.publicHttp, token);
  }
}
