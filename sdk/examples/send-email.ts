import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });
const order = { id: 'order-1001', email: 'ada@example.com', total: '42.00' };

const queued = await sf.emails.send(
  { template_slug: 'order-confirmation', to: order.email, variables: { order_id: order.id, total: order.total } },
  { idempotencyKey: `order-confirmation-${order.id}` },
);
const email = await sf.emails.get(queued.id);
console.log(email.status);
