import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Resend's HTTP API, so tests and benchmarks run the real `resend` SDK (pointed here with
 * its baseUrl) without an account or network. It speaks the parts we use: POST /emails, POST /emails/batch
 * (at most 100), the domains endpoints, global Contacts (keyed by id or address) with their topic
 * subscriptions and Topics (resend ≥ 6.3: create, rename, delete), the payloads of its contact webhooks, idempotency keys, a team-wide request rate limit answered with 429
 * and ratelimit-* / retry-after headers, injectable failures, and a record of every accepted email.
 */

export interface AcceptedEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  headers: Record<string, string>;
  tags: { name: string; value: string }[];
  idempotencyKey: string | null;
  batch: boolean;
  /** The number of the request that carried it (emails of one batch request share it). */
  request: number;
  receivedAt: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  at: number;
}

export interface InjectedFailure {
  status: number;
  name: string;
  message?: string;
  headers?: Record<string, string>;
  /** Only requests whose path matches (default: every request). */
  path?: RegExp;
  /** Process the request normally (emails are accepted and recorded) but answer with this error. */
  afterAccept?: boolean;
}

interface FakeDomain {
  id: string;
  name: string;
  region: string;
  status: string;
  created_at: string;
  records: { record: string; name: string; type: string; value: string; ttl: string; status: string; priority?: number }[];
}

export interface FakeContact {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  unsubscribed: boolean;
  created_at: string;
  /** Topic id → subscription. */
  topics: Map<string, 'opt_in' | 'opt_out'>;
}

export interface FakeTopic {
  id: string;
  name: string;
  description?: string;
  default_subscription: 'opt_in' | 'opt_out';
  created_at: string;
}

export interface FakeResendOptions {
  /** Requests allowed in any sliding window of `windowMs` (default 1000) across all endpoints. */
  rateLimit?: { requests: number; windowMs?: number } | null;
  /** When set, only this API key is accepted. */
  apiKey?: string;
  /** Keep html/text bodies of accepted emails (default true; benchmarks turn it off). */
  recordBodies?: boolean;
  /**
   * Answer this share (0–1) of the requests the limiter admits with 429 and Retry-After, as a provider
   * under load does; the request is not processed.
   */
  throttle?: { share: number; retryAfterSeconds?: number; random?: () => number } | null;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

const error = (status: number, name: string, message: string): Reply => ({ status, body: { statusCode: status, name, message } });

export function createFakeResend(options: FakeResendOptions = {}) {
  let rateLimit = options.rateLimit ?? null;
  let throttle = options.throttle ?? null;
  let requestNumber = 0;
  const recordBodies = options.recordBodies ?? true;
  const emails: AcceptedEmail[] = [];
  const requests: LoggedRequest[] = [];
  const failures: InjectedFailure[] = [];
  const domains = new Map<string, FakeDomain>();
  const contacts = new Map<string, FakeContact>();
  const topics = new Map<string, FakeTopic>();
  const idempotency = new Map<string, { hash: string; reply: Reply | null }>();
  // Timestamps of requests the limiter let through, oldest first.
  let admitted: number[] = [];
  let inFlight = 0;
  let server: http.Server | null = null;
  let url = '';
  const fake = {
    emails,
    requests,
    domains,
    contacts,
    topics,
    /** The contact with this address (compared case-insensitively), as Resend keys them. */
    contact(email: string): FakeContact | undefined {
      return [...contacts.values()].find((c) => c.email.toLowerCase() === email.toLowerCase());
    },
    /**
     * The webhook payload Resend sends about this contact, from what the fake holds now: `contact.updated`
     * and `contact.deleted` carry the contact, `contact.topics.updated` its topic subscriptions.
     */
    contactEvent(type: 'contact.updated' | 'contact.deleted' | 'contact.topics.updated', email: string, createdAt = new Date()) {
      const contact = fake.contact(email);
      if (!contact) throw new Error(`no fake contact ${email}`);
      const { topics: chosen, ...rest } = contact;
      const data =
        type === 'contact.topics.updated'
          ? { email: contact.email, topics: [...chosen].map(([id, subscription]) => ({ id, subscription })) }
          : { ...rest, updated_at: createdAt.toISOString() };
      return { type, created_at: createdAt.toISOString(), data };
    },
    /** Most requests being answered at the same moment (since the last reset). */
    mostInFlight: 0,
    /** Each answer waits this long before it goes out, as a distant provider's would. */
    answerDelayMs: 0,
    /** Called after an email is recorded and before the answer goes out. */
    onAccepted: null as null | ((email: AcceptedEmail) => void | Promise<void>),
    get url() {
      return url;
    },
    failNext(failure: InjectedFailure, times = 1) {
      for (let i = 0; i < times; i += 1) failures.push(failure);
    },
    setThrottle(next: FakeResendOptions['throttle']) {
      throttle = next ?? null;
    },
    setRateLimit(limit: FakeResendOptions['rateLimit']) {
      rateLimit = limit ?? null;
      admitted = [];
    },
    setDomainStatus(id: string, status: string) {
      const domain = domains.get(id);
      if (!domain) throw new Error(`no fake domain ${id}`);
      domain.status = status;
      for (const record of domain.records) record.status = status === 'verified' ? 'verified' : status;
    },
    /** Most requests that arrived within any window of `windowMs`, over the whole log. */
    maxRequestsInWindow(windowMs = 1000, filter: (r: LoggedRequest) => boolean = () => true): number {
      const times = requests
        .filter(filter)
        .map((r) => r.at)
        .sort((a, b) => a - b);
      let max = 0;
      for (let start = 0, end = 0; end < times.length; end += 1) {
        while (times[end]! - times[start]! >= windowMs) start += 1;
        max = Math.max(max, end - start + 1);
      }
      return max;
    },
    reset() {
      emails.length = 0;
      requests.length = 0;
      failures.length = 0;
      idempotency.clear();
      contacts.clear();
      topics.clear();
      admitted = [];
      fake.onAccepted = null;
      fake.mostInFlight = 0;
      fake.answerDelayMs = 0;
    },
    async start(port = 0): Promise<string> {
      server = http.createServer((req, res) => void handle(req, res));
      server.keepAliveTimeout = 30_000;
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return url;
    },
    async close(): Promise<void> {
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = null;
    },
  };

  /** Sliding-window limiter; returns the 429 reply when the request must wait. */
  function limit(now: number): Reply | null {
    if (!rateLimit) return null;
    const windowMs = rateLimit.windowMs ?? 1000;
    while (admitted.length > 0 && now - admitted[0]! >= windowMs) admitted.shift();
    const resetMs = admitted.length > 0 ? admitted[0]! + windowMs - now : windowMs;
    const headers = {
      'ratelimit-limit': String(rateLimit.requests),
      'ratelimit-remaining': String(Math.max(rateLimit.requests - admitted.length - 1, 0)),
      'ratelimit-reset': String(Math.max(Math.ceil(resetMs / 1000), 1)),
    };
    if (admitted.length >= rateLimit.requests) {
      return {
        ...error(429, 'rate_limit_exceeded', 'Too many requests. You can only make a limited number of requests per second.'),
        headers: { ...headers, 'ratelimit-remaining': '0', 'retry-after': headers['ratelimit-reset'] },
      };
    }
    admitted.push(now);
    return null;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const at = Date.now();
    inFlight += 1;
    fake.mostInFlight = Math.max(fake.mostInFlight, inFlight);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    let reply: Reply;
    try {
      reply = await route(method, path, raw, req.headers, at);
      if (fake.answerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.answerDelayMs));
    } catch (err) {
      reply = error(500, 'internal_server_error', (err as Error).message);
    } finally {
      inFlight -= 1;
    }
    requests.push({ method, path, status: reply.status, at });
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body));
  }

  async function route(method: string, path: string, raw: string, headers: http.IncomingHttpHeaders, at: number): Promise<Reply> {
    const auth = headers.authorization;
    if (!auth?.startsWith('Bearer ')) return error(401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (options.apiKey && auth.slice(7) !== options.apiKey) return error(403, 'invalid_api_key', 'API key is invalid.');

    const limited = limit(at);
    if (limited) return limited;
    if (throttle && (throttle.random ?? Math.random)() < throttle.share) {
      const seconds = String(throttle.retryAfterSeconds ?? 1);
      return {
        ...error(429, 'rate_limit_exceeded', 'Too many requests. You can only make a limited number of requests per second.'),
        headers: { 'retry-after': seconds, 'ratelimit-remaining': '0', 'ratelimit-reset': seconds },
      };
    }
    const failureIndex = failures.findIndex((f) => !f.path || f.path.test(path));
    const failure = failureIndex >= 0 ? failures.splice(failureIndex, 1)[0]! : null;
    const injected = failure ? { ...error(failure.status, failure.name, failure.message ?? failure.name), headers: failure.headers } : null;
    if (injected && !failure!.afterAccept) return injected;

    let body: unknown = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return error(400, 'validation_error', 'Invalid JSON body.');
      }
    }
    const reply = await dispatch(method, path, body, raw, headers, at);
    return injected ?? reply;
  }

  async function dispatch(method: string, path: string, body: unknown, raw: string, headers: http.IncomingHttpHeaders, at: number): Promise<Reply> {
    if (method === 'POST' && (path === '/emails' || path === '/emails/batch')) {
      return withIdempotency(headers['idempotency-key'] as string | undefined, `${path} ${raw}`, async () =>
        path === '/emails' ? sendOne(body, at, headers) : sendBatch(body, at, headers),
      );
    }
    if (method === 'POST' && path === '/domains') return createDomain(body);
    if (method === 'GET' && path === '/domains')
      return { status: 200, body: { object: 'list', has_more: false, data: [...domains.values()].map(({ records: _r, ...d }) => d) } };
    const match = /^\/domains\/([^/]+)(\/verify)?$/.exec(path);
    if (match) {
      const domain = domains.get(match[1]!);
      if (!domain) return error(404, 'not_found', 'Domain not found');
      if (method === 'GET' && !match[2]) return { status: 200, body: { object: 'domain', ...domain } };
      if (method === 'POST' && match[2]) {
        if (domain.status === 'not_started') fake.setDomainStatus(domain.id, 'pending');
        return { status: 200, body: { object: 'domain', id: domain.id } };
      }
      if (method === 'DELETE' && !match[2]) {
        domains.delete(domain.id);
        return { status: 200, body: { object: 'domain', id: domain.id, deleted: true } };
      }
    }
    const contactReply = contactsApi(method, path, body);
    if (contactReply) return contactReply;
    return error(405, 'method_not_allowed', `${method} ${path} is not supported by the fake`);
  }

  /** Contacts and Topics as Resend's API has them since contacts became global (no audience in the path). */
  function contactsApi(method: string, path: string, body: unknown): Reply | null {
    const input = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (path === '/topics' && method === 'POST') {
      if (typeof input.name !== 'string' || input.name.length === 0) return error(422, 'validation_error', 'Invalid `name` field.');
      if (input.default_subscription !== 'opt_in' && input.default_subscription !== 'opt_out')
        return error(422, 'validation_error', 'Invalid `default_subscription` field.');
      const topic: FakeTopic = {
        id: randomUUID(),
        name: input.name,
        ...(typeof input.description === 'string' ? { description: input.description } : {}),
        default_subscription: input.default_subscription,
        created_at: new Date().toISOString(),
      };
      topics.set(topic.id, topic);
      return { status: 201, body: { id: topic.id } };
    }
    if (path === '/topics' && method === 'GET') return { status: 200, body: { object: 'list', data: [...topics.values()] } };
    const topicMatch = /^\/topics\/([^/]+)$/.exec(path);
    if (topicMatch) {
      const topic = topics.get(decodeURIComponent(topicMatch[1]!));
      if (!topic) return error(404, 'not_found', 'Topic not found');
      if (method === 'GET') return { status: 200, body: { object: 'topic', ...topic } };
      if (method === 'PATCH') {
        if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length === 0))
          return error(422, 'validation_error', 'Invalid `name` field.');
        if (typeof input.name === 'string') topic.name = input.name;
        if (typeof input.description === 'string') topic.description = input.description;
        return { status: 200, body: { id: topic.id } };
      }
      if (method === 'DELETE') {
        topics.delete(topic.id);
        for (const contact of contacts.values()) contact.topics.delete(topic.id);
        return { status: 200, body: { object: 'topic', id: topic.id, deleted: true } };
      }
      return null;
    }
    if (path === '/contacts' && method === 'POST') {
      if (typeof input.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(input.email)) return error(422, 'validation_error', 'Invalid `email` field.');
      if (fake.contact(input.email)) return error(409, 'validation_error', 'Contact already exists.');
      const chosen = parseTopics(input.topics);
      if (typeof chosen === 'string') return error(422, 'validation_error', chosen);
      const contact: FakeContact = {
        id: randomUUID(),
        email: input.email,
        first_name: typeof input.first_name === 'string' ? input.first_name : null,
        last_name: typeof input.last_name === 'string' ? input.last_name : null,
        unsubscribed: input.unsubscribed === true,
        created_at: new Date().toISOString(),
        topics: new Map(chosen.map((t) => [t.id, t.subscription])),
      };
      contacts.set(contact.id, contact);
      return { status: 201, body: { object: 'contact', id: contact.id } };
    }
    const match = /^\/contacts\/([^/]+)(\/topics)?$/.exec(path);
    if (!match) return null;
    const key = decodeURIComponent(match[1]!);
    const contact = contacts.get(key) ?? fake.contact(key);
    if (!contact) return error(404, 'not_found', 'Contact not found');
    if (match[2]) {
      if (method === 'GET') {
        const data = [...contact.topics].map(([id, subscription]) => ({ id, name: topics.get(id)?.name ?? '', description: null, subscription }));
        return { status: 200, body: { object: 'list', has_more: false, data } };
      }
      if (method !== 'PATCH') return null;
      const chosen = parseTopics(body);
      if (typeof chosen === 'string') return error(422, 'validation_error', chosen);
      for (const t of chosen) contact.topics.set(t.id, t.subscription);
      return { status: 200, body: { id: contact.id } };
    }
    if (method === 'GET') {
      const { topics: _topics, ...rest } = contact;
      return { status: 200, body: { object: 'contact', ...rest, properties: {} } };
    }
    if (method === 'PATCH') {
      if (typeof input.unsubscribed === 'boolean') contact.unsubscribed = input.unsubscribed;
      if (input.first_name !== undefined) contact.first_name = typeof input.first_name === 'string' ? input.first_name : null;
      if (input.last_name !== undefined) contact.last_name = typeof input.last_name === 'string' ? input.last_name : null;
      return { status: 200, body: { object: 'contact', id: contact.id } };
    }
    if (method === 'DELETE') {
      contacts.delete(contact.id);
      return { status: 200, body: { object: 'contact', contact: contact.id, deleted: true } };
    }
    return null;
  }

  /** A list of topic subscriptions naming existing topics, or what is wrong with it. */
  function parseTopics(value: unknown): { id: string; subscription: 'opt_in' | 'opt_out' }[] | string {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return 'Invalid `topics` field.';
    const parsed: { id: string; subscription: 'opt_in' | 'opt_out' }[] = [];
    for (const item of value as { id?: unknown; subscription?: unknown }[]) {
      if (typeof item?.id !== 'string' || !topics.has(item.id)) return `Topic ${String(item?.id)} not found.`;
      if (item.subscription !== 'opt_in' && item.subscription !== 'opt_out') return 'Invalid `subscription` field.';
      parsed.push({ id: item.id, subscription: item.subscription });
    }
    return parsed;
  }

  async function withIdempotency(key: string | undefined, request: string, run: () => Promise<Reply>): Promise<Reply> {
    if (key === undefined) return run();
    if (key.length < 1 || key.length > 256) return error(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    const hash = createHash('sha256').update(request).digest('hex');
    const known = idempotency.get(key);
    if (known && known.hash !== hash) return error(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
    if (known && !known.reply) return error(409, 'concurrent_idempotent_requests', 'Same idempotency key used while original request is still in progress.');
    if (known) return known.reply!;
    idempotency.set(key, { hash, reply: null });
    const reply = await run();
    // Only successful answers are remembered; after an error the key may be used again.
    if (reply.status < 300) idempotency.set(key, { hash, reply });
    else idempotency.delete(key);
    return reply;
  }

  function invalidEmail(item: unknown): string | null {
    const email = item as Record<string, unknown> | null;
    if (!email || typeof email !== 'object') return 'The email must be an object.';
    for (const field of ['from', 'to', 'subject']) if (email[field] === undefined) return `Missing \`${field}\` field.`;
    const to = Array.isArray(email.to) ? email.to : [email.to];
    if (to.length > 50) return 'Too many recipients: at most 50.';
    if (!to.every((address) => typeof address === 'string' && /^[^@\s]+@[^@\s]+$/.test(address))) return 'Invalid `to` field.';
    if (typeof email.from !== 'string' || !/@/.test(email.from)) return 'Invalid `from` field.';
    if (email.html === undefined && email.text === undefined) return 'Missing `html` or `text` field.';
    return null;
  }

  async function accept(item: Record<string, unknown>, at: number, key: string | null, batch: boolean, request: number): Promise<string> {
    const id = randomUUID();
    const email: AcceptedEmail = {
      id,
      from: item.from as string,
      to: Array.isArray(item.to) ? (item.to as string[]) : [item.to as string],
      subject: item.subject as string,
      ...(recordBodies ? { html: item.html as string | undefined, text: item.text as string | undefined } : {}),
      headers: (item.headers as Record<string, string> | undefined) ?? {},
      tags: (item.tags as { name: string; value: string }[] | undefined) ?? [],
      idempotencyKey: key,
      batch,
      request,
      receivedAt: at,
    };
    emails.push(email);
    if (fake.onAccepted) await fake.onAccepted(email);
    return id;
  }

  async function sendOne(body: unknown, at: number, headers: http.IncomingHttpHeaders): Promise<Reply> {
    const problem = invalidEmail(body);
    if (problem) return error(422, 'validation_error', problem);
    const id = await accept(body as Record<string, unknown>, at, (headers['idempotency-key'] as string | undefined) ?? null, false, (requestNumber += 1));
    return { status: 200, body: { id } };
  }

  async function sendBatch(body: unknown, at: number, headers: http.IncomingHttpHeaders): Promise<Reply> {
    if (!Array.isArray(body) || body.length === 0) return error(422, 'validation_error', 'The body must be a non-empty array of emails.');
    if (body.length > 100) return error(422, 'validation_error', 'Too many emails: a batch holds at most 100.');
    const permissive = headers['x-batch-validation'] === 'permissive';
    const problems = body.map((item, index) => ({ index, message: invalidEmail(item) })).filter((p) => p.message !== null);
    if (problems.length > 0 && !permissive) return error(422, 'validation_error', `emails[${problems[0]!.index}]: ${problems[0]!.message}`);
    const key = (headers['idempotency-key'] as string | undefined) ?? null;
    const data: { id: string }[] = [];
    const request = (requestNumber += 1);
    for (const [index, item] of body.entries()) {
      if (problems.some((p) => p.index === index)) continue;
      data.push({ id: await accept(item as Record<string, unknown>, at, key, true, request) });
    }
    return { status: 200, body: permissive ? { data, errors: problems } : { data } };
  }

  function createDomain(body: unknown): Reply {
    const input = body as { name?: unknown; region?: unknown } | null;
    if (typeof input?.name !== 'string' || !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(input.name)) return error(422, 'validation_error', 'Invalid `name` field.');
    if ([...domains.values()].some((d) => d.name === input.name))
      return error(403, 'validation_error', `The domain ${input.name} has been registered already.`);
    const region = typeof input.region === 'string' ? input.region : 'us-east-1';
    const domain: FakeDomain = {
      id: randomUUID(),
      name: input.name,
      region,
      status: 'not_started',
      created_at: new Date().toISOString(),
      records: [
        {
          record: 'Verification',
          name: '_resend',
          type: 'TXT',
          ttl: 'Auto',
          status: 'not_started',
          value: `resend-verification=${randomBytes(12).toString('hex')}`,
        },
        { record: 'SPF', name: 'send', type: 'MX', ttl: 'Auto', status: 'not_started', value: `feedback-smtp.${region}.amazonses.com`, priority: 10 },
        { record: 'SPF', name: 'send', type: 'TXT', ttl: 'Auto', status: 'not_started', value: '"v=spf1 include:amazonses.com ~all"' },
        {
          record: 'DKIM',
          name: 'resend._domainkey',
          type: 'CNAME',
          ttl: 'Auto',
          status: 'not_started',
          value: `resend.${randomBytes(6).toString('hex')}.dkim.amazonses.com`,
        },
      ],
    };
    domains.set(domain.id, domain);
    return { status: 200, body: domain };
  }

  return fake;
}

export type FakeResend = ReturnType<typeof createFakeResend>;
