import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });

// After a purchase: a thank-you at once, a tip two days later.
const afterPurchase = await sf.automations.create({
  name: 'After purchase',
  event: 'purchased',
  reentry: 'always',
  is_active: true,
  steps: [
    { type: 'send_email', template_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
    { type: 'delay', seconds: 2 * 86_400 },
    { type: 'send_email', template_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c' },
  ],
});

// From your checkout: the same idempotency key again starts nothing.
await sf.events.record({ email: 'ada@example.com', name: 'purchased', data: { plan: 'pro' }, idempotency_key: 'order-4711' });

const counts = await sf.automations.stepCounts(afterPurchase.id);
console.log(counts.runs, counts.steps.map((s) => `${s.type}: ${s.completed} done, ${s.waiting} waiting`));
