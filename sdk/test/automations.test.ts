import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../server/test/support/context.ts';
import { NotFoundError, SubscribeFlowClient, ValidationError } from '../src/index.ts';
import { startApi } from './support.ts';

const WELCOME = '<mjml><mj-body><mj-section><mj-column><mj-text>Welcome</mj-text></mj-column></mj-section></mj-body></mjml>';

let ctx: TestContext;
let sf: SubscribeFlowClient;

beforeAll(async () => {
  const started = await startApi();
  ctx = started.ctx;
  sf = new SubscribeFlowClient({ apiKey: started.organization.key, baseUrl: started.baseUrl });
});
afterAll(async () => {
  await ctx?.close();
});

describe('automations and events through the SDK', () => {
  it('creates, versions, pauses and counts an automation, and records a custom event once per key', async () => {
    const template = await sf.templates.create({ name: 'Welcome', slug: 'welcome', category: 'marketing', subject: 'Welcome', mjml_content: WELCOME });
    const created = await sf.automations.create({ name: 'After purchase', event: 'purchased', template_id: template.id, delay_seconds: 3600 });
    expect(created).toMatchObject({ is_active: false, version: 1, steps: [{ type: 'delay', seconds: 3600 }, { type: 'send_email', template_id: template.id }] });
    expect((await sf.automations.activate(created.id)).is_active).toBe(true);
    const edited = await sf.automations.update(created.id, { steps: [{ type: 'send_email', template_id: template.id }] });
    expect(edited.version).toBe(2);
    const all = [];
    for await (const automation of sf.automations.listAll()) all.push(automation.id);
    // `triggers` is the reference SDK's name for the same resource.
    expect((await sf.triggers.get(created.id)).id).toBe(created.id);
    expect(all).toEqual([created.id]);
    expect((await sf.automations.stepCounts(created.id)).runs).toEqual({ active: 0, completed: 0, exited: 0 });

    const ada = await sf.subscribers.create({ email: 'ada@example.com' });
    const first = await sf.events.record({ email: 'ada@example.com', name: 'purchased', data: { plan: 'pro' }, idempotency_key: 'order-1' });
    expect(first.duplicate).toBe(false);
    expect(await sf.events.record({ subscriber_id: ada.id, name: 'purchased', idempotency_key: 'order-1' })).toEqual({ id: first.id, duplicate: true });
    expect((await sf.automations.runsOf(ada.id)).items).toEqual([]);
    await expect(sf.events.record({ email: 'nobody@example.com', name: 'purchased' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(sf.automations.create({ name: 'Bad', event: 'purchased', steps: [{ type: 'delay', seconds: 5 }] })).rejects.toBeInstanceOf(ValidationError);

    await sf.automations.pause(created.id);
    await sf.automations.delete(created.id);
    await expect(sf.automations.get(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
