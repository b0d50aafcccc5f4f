export { SubscribeFlowClient, type ClientOptions } from './client.ts';
export {
  SubscribeFlowError, ValidationError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError,
  RateLimitError, ServerError, ConnectionError, TimeoutError, type ErrorDetail,
} from './errors.ts';
export { paginate } from './http.ts';
export type { ApiKeys, Emails, PreferenceCenter, Stats, Subscribers, Suppressions, Tags, Templates } from './resources.ts';
export type {
  OperationId, RequestBody, QueryParams, ResponseBody, Page, RequestOptions,
  Subscriber, Tag, Template, Suppression, ApiKey, SubscriberEmail,
} from './types.ts';
export type { paths, operations, components } from './generated/schema.ts';
