/**
 * Verifies a webhook delivery as Standard Webhooks v1 defines it (https://www.standardwebhooks.com): the
 * `webhook-signature` header holds one or more `v1,<base64 HMAC-SHA256>` of `"<webhook-id>.<webhook-timestamp>.<body>"`,
 * keyed with the base64 bytes after `whsec_` of the endpoint's secret. Uses Web Crypto only (Node ≥ 20, browsers, edge).
 */

/** The delivery is not authentic, too old or too new, or its headers are missing. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** The headers of the request: a Headers object or a plain object (Node's `request.headers`). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** Seconds a delivery's timestamp may differ from now (default 300): an older one is a replay. */
  toleranceSeconds?: number;
  /** The current time, for tests. */
  now?: Date;
}

/** A verified delivery: the event the API sent. */
export interface WebhookEvent<D = Record<string, unknown>> {
  id: string;
  type: string;
  created_at: string;
  data: D;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

function fromBase64(value: string): Uint8Array<ArrayBuffer> {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Equal in time independent of where they differ. */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * Checks that `payload` (the raw request body, exactly as received: a string or bytes, never re-serialized
 * JSON) was signed with `secret` and is recent, and answers the parsed event; throws
 * WebhookVerificationError otherwise.
 *
 * ```ts
 * const event = await verifyWebhook(rawBody, request.headers, process.env.SUBSCRIBE_FLOW_WEBHOOK_SECRET!);
 * ```
 */
export async function verifyWebhook<D = Record<string, unknown>>(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent<D>> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('The webhook-id, webhook-timestamp or webhook-signature header is missing');
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(seconds)) throw new WebhookVerificationError('The webhook-timestamp header is not a number of seconds');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (seconds < now - tolerance) throw new WebhookVerificationError('The delivery is too old (a replay, or a clock far off)');
  if (seconds > now + tolerance) throw new WebhookVerificationError('The delivery is timestamped in the future');

  let keyBytes: Uint8Array<ArrayBuffer>;
  try {
    keyBytes = fromBase64(secret.replace(/^whsec_/, ''));
  } catch {
    throw new WebhookVerificationError('The secret is not a whsec_… signing secret');
  }
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const encoder = new TextEncoder();
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, signed));

  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    try {
      return equal(fromBase64(signature), expected);
    } catch {
      return false;
    }
  });
  if (!matches) throw new WebhookVerificationError('No signature matches the secret: wrong secret, or the body was changed');
  const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  try {
    return JSON.parse(text) as WebhookEvent<D>;
  } catch {
    throw new WebhookVerificationError('The body is not JSON');
  }
}
