import type { components, operations } from './generated/schema.ts';

/** An operation of the API by its operationId (as listed in the API reference). */
export type OperationId = keyof operations;

type JsonContent<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;

/** The JSON body an operation accepts. */
export type RequestBody<O extends OperationId> = operations[O] extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : operations[O] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The query parameters of an operation. */
export type QueryParams<O extends OperationId> = NonNullable<operations[O]['parameters']['query']>;

/** What a successful call answers (the body of its 2xx responses; undefined for 204). */
export type ResponseBody<O extends OperationId> = {
  [S in keyof operations[O]['responses']]: S extends 200 | 201 | 202 | 204 ? JsonContent<operations[O]['responses'][S]> : never;
}[keyof operations[O]['responses']];

/** A page of a cursor-paginated list. */
export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}

type Schemas = components['schemas'];
export type Subscriber = Schemas['Subscriber'];
export type Tag = Schemas['Tag'];
export type Template = Schemas['Template'];
export type Suppression = Schemas['Suppression'];
export type ApiKey = Schemas['ApiKey'];
export type SubscriberEmail = Schemas['SubscriberEmail'];
export type Segment = Schemas['Segment'];
export type SegmentFilter = Schemas['SegmentFilter'];
export type Campaign = Schemas['Campaign'];
export type Automation = Schemas['Trigger'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type Import = Schemas['Import'];

/** Options every call takes. */
export interface RequestOptions {
  /** Aborts the call (and any retry waiting to happen). */
  signal?: AbortSignal;
  /** Milliseconds one attempt may take before it fails with TimeoutError; overrides the client's. */
  timeout?: number;
  /** Retries after this call's first attempt; overrides the client's `maxRetries`. */
  maxRetries?: number;
  /**
   * Idempotency-Key for a creating or sending POST. The SDK makes one when not given, so that its own
   * retries never create or send twice; pass your own (e.g. your order id) to make your retries safe too.
   */
  idempotencyKey?: string;
}
