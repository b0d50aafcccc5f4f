import { SubscribeFlowClient } from '@subscribe-flow/sdk';

const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });

// An audience: a saved segment (or a tag filter: { include_tags: [tagId] }).
const pro = await sf.segments.create({
  name: 'Pro customers',
  filter: { match: 'all', conditions: [{ field: 'metadata.plan', op: 'eq', value: 'pro' }] },
});
console.log('segment size', (await sf.segments.count(pro.id)).count);

const campaign = await sf.campaigns.create({ name: 'March product news', template_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', segment_id: pro.id });
const audience = await sf.campaigns.recipientCount(campaign.id);
console.log(`${audience.count} recipients; left out:`, audience.excluded);

await sf.campaigns.test(campaign.id, ['me@example.com']);
await sf.campaigns.send(campaign.id); // or { scheduled_at: '2027-03-01T09:00:00Z' }

const stats = await sf.campaigns.stats(campaign.id);
console.log(stats.sent, stats.delivered, stats.bounced);
for await (const recipient of sf.campaigns.recipientsAll(campaign.id, { status: 'failed' })) {
  console.log(recipient.email, recipient.reason);
}
