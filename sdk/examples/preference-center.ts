import { SubscribeFlowClient } from '@subscribe-flow/sdk';

// On your server: a signed link for a subscriber, for your own emails or your own page.
const sf = new SubscribeFlowClient({ apiKey: process.env.SUBSCRIBE_FLOW_API_KEY, baseUrl: 'https://api.example.com' });
const { token } = await sf.subscribers.generatePreferenceToken('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');

// Anywhere, even in the browser: the token is the credential, no API key is sent.
const center = new SubscribeFlowClient({ baseUrl: 'https://api.example.com' }).preferenceCenter(token);
const info = await center.getInfo();
for (const tag of info.tags) {
  if (tag.is_subscribed) await center.update(tag.id, false);
}
const everything = await center.export();
console.log(everything);
