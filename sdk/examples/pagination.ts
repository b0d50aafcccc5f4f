import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });

// One page at a time…
const page = await sf.subscribers.list({ status: 'active', limit: 100 });
console.log(page.items.length, page.next_cursor);

// …or every item, the SDK following next_cursor as the loop asks for more.
for await (const subscriber of sf.subscribers.listAll({ tag: 'product-updates', limit: 100 })) {
  console.log(subscriber.email);
}
