import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({
  apiKey: process.env.SUBSCRIBE_FLOW_API_KEY,
  baseUrl: 'https://api.example.com',
});

const ada = await sf.subscribers.create({ email: 'ada@example.com', first_name: 'Ada', tags: ['product-updates'] });
await sf.subscribers.addTags(ada.id, ['release-notes']);
const same = await sf.subscribers.getByEmail('ada@example.com');
console.log(same.status, same.tags.map((tag) => tag.slug));
