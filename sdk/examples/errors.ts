import { NotFoundError, SubscribeFlowClient, SubscribeFlowError, ValidationError } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });
const signupId = 'signup-1234';

try {
  await sf.subscribers.create({ email: 'ada@example.com' }, { idempotencyKey: signupId });
} catch (error) {
  if (error instanceof SubscribeFlowError && error.code === 'subscriber_exists') {
    // Already on the list: fine for a signup form.
  } else if (error instanceof ValidationError) {
    for (const detail of error.details) console.warn(detail.field, detail.message);
  } else if (error instanceof SubscribeFlowError) {
    console.error(error.status, error.code, error.message, 'request id', error.requestId);
    throw error;
  } else {
    throw error;
  }
}

const missing = await sf.subscribers.getByEmail('nobody@example.com').catch((error: unknown) => {
  if (error instanceof NotFoundError) return null;
  throw error;
});
console.log(missing);
