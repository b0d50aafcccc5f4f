import { createServer } from 'node:http';
import { SubscribeFlowClient, verifyWebhook, WebhookVerificationError } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });

// Once: register the endpoint and keep its secret (shown only in this answer).
const endpoint = await sf.webhooks.create({ url: 'https://crm.example.com/hooks/subscribe-flow', events: ['subscriber.created', 'subscriber.unsubscribed'] });
const secret = endpoint.secret;

// The receiver: verify the raw body (exactly as received) before trusting it.
createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      const event = await verifyWebhook(Buffer.concat(chunks).toString('utf8'), request.headers, secret);
      console.log(event.type, event.data);
      response.writeHead(204).end();
    } catch (error) {
      response.writeHead(error instanceof WebhookVerificationError ? 400 : 500).end();
    }
  });
}).listen(3000);

// Deliveries that failed, a manual retry, and a replay of a day's events.
for await (const delivery of sf.webhooks.deliveriesAll(endpoint.id, { status: 'dead' })) {
  await sf.webhooks.retryDelivery(delivery.id);
}
await sf.webhooks.replay(endpoint.id, { from: '2027-03-01T00:00:00Z', to: '2027-03-02T00:00:00Z' });
