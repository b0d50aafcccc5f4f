import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({
  apiKey: process.env.SUBSCRIBE_FLOW_API_KEY,
  baseUrl: 'https://api.example.com',
  timeout: 10_000, // per attempt, in milliseconds
  maxRetries: 3, // after the first attempt, for requests that are safe to repeat
});

// Per call: a caller's AbortSignal, another timeout, no retries.
const controller = new AbortController();
const tags = await sf.tags.list({ limit: 20 }, { signal: controller.signal, timeout: 2_000, maxRetries: 0 });
console.log(tags.items.length);
