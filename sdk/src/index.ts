export { SubscribeFlowClient, type ClientOptions } from './client.ts';
export {
  SubscribeFlowError, ValidationError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError,
  RateLimitError, ServerError, ConnectionError, TimeoutError, type ErrorDetail,
} from './errors.ts';
export { paginate, type UploadSource } from './http.ts';
export { verifyWebhook, WebhookVerificationError, type WebhookEvent, type WebhookHeaders, type VerifyWebhookOptions } from './webhooks.ts';
export type {
  ApiKeys, Automations, Campaigns, Emails, Events, ImportOptions, Imports, PreferenceCenter, Segments, Stats, Subscribers, Suppressions, Tags, Templates, Webhooks,
} from './resources.ts';
export type {
  OperationId, RequestBody, QueryParams, ResponseBody, Page, RequestOptions,
  Subscriber, Tag, Template, Suppression, ApiKey, SubscriberEmail, Segment, SegmentFilter, Campaign, Automation, WebhookEndpoint, WebhookDelivery, Import,
} from './types.ts';
export type { paths, operations, components } from './generated/schema.ts';
