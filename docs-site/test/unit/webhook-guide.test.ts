import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DOCS_ROOT } from '../../scripts/generate.ts';

/**
 * The verification code in the webhooks guide is what customers copy, so it is run here exactly as
 * published: against the guide's own test vector and against fresh signatures made the way the
 * Standard Webhooks specification says.
 */
const guide = await readFile(join(DOCS_ROOT, 'src/content/docs/guides/webhooks.md'), 'utf8');

function codeBlock(title: string): string {
  const match = guide.match(new RegExp('```\\w+ title="' + title.replace('.', '\\.') + '"\\n([\\s\\S]*?)\\n```'));
  if (!match?.[1]) throw new Error(`no code block titled ${title} in the webhooks guide`);
  return match[1];
}

const vector = Object.fromEntries(
  codeBlock('test-vector.txt')
    .split('\n')
    .map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    }),
) as Record<'secret' | 'webhook-id' | 'webhook-timestamp' | 'webhook-signature' | 'body', string>;

const NOW = Number(vector['webhook-timestamp']);
const vectorHeaders = {
  'webhook-id': vector['webhook-id'],
  'webhook-timestamp': vector['webhook-timestamp'],
  'webhook-signature': vector['webhook-signature'],
};

function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

type Case = { name: string; secret: string; headers: Record<string, string>; body: string; now: number; valid: boolean };

function cases(): Case[] {
  const other = `whsec_${randomBytes(32).toString('base64')}`;
  const body = vector.body;
  const base = { secret: vector.secret, headers: vectorHeaders, body, now: NOW };
  const fresh = sign(other, 'msg_2', NOW, body);
  return [
    { ...base, name: 'the test vector', valid: true },
    { ...base, name: 'a changed body', body: body.replace('ada@', 'eve@'), valid: false },
    { ...base, name: 'a changed id', headers: { ...vectorHeaders, 'webhook-id': 'msg_other' }, valid: false },
    { ...base, name: 'a timestamp more than 5 minutes old', now: NOW + 301, valid: false },
    { ...base, name: 'a timestamp more than 5 minutes ahead', now: NOW - 301, valid: false },
    { ...base, name: 'a timestamp 4 minutes old', now: NOW + 240, valid: true },
    { ...base, name: 'the wrong secret', secret: other, valid: false },
    { ...base, name: 'a missing signature header', headers: { 'webhook-id': 'x', 'webhook-timestamp': String(NOW) }, valid: false },
    {
      ...base,
      name: 'two signatures during rotation, one valid',
      secret: other,
      headers: { 'webhook-id': 'msg_2', 'webhook-timestamp': String(NOW), 'webhook-signature': `${vector['webhook-signature']} ${fresh}` },
      valid: true,
    },
    {
      ...base,
      name: 'a v1a (asymmetric) entry only',
      headers: { ...vectorHeaders, 'webhook-signature': vector['webhook-signature'].replace('v1,', 'v1a,') },
      valid: false,
    },
  ];
}

describe('webhooks guide', () => {
  it('publishes a test vector that is really signed with its secret', () => {
    expect(sign(vector.secret, vector['webhook-id'], NOW, vector.body)).toBe(vector['webhook-signature']);
  });

  it('the Node.js example accepts genuine deliveries and rejects the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-node-'));
    const file = join(dir, 'verify-webhook.mjs');
    await writeFile(file, codeBlock('verify-webhook.mjs'));
    const { verifyWebhook } = (await import(pathToFileURL(file).href)) as {
      verifyWebhook: (secret: string, headers: Record<string, string>, body: Buffer, now: number) => void;
    };
    for (const c of cases()) {
      const run = () => verifyWebhook(c.secret, c.headers, Buffer.from(c.body), c.now);
      if (c.valid) expect(run, c.name).not.toThrow();
      else expect(run, c.name).toThrow();
    }
  });

  const python = spawnSync('python3', ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)']).status === 0;

  it.runIf(python)('the Python example accepts genuine deliveries and rejects the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-python-'));
    await writeFile(join(dir, 'verify_webhook.py'), codeBlock('verify_webhook.py'));
    await writeFile(join(dir, 'cases.json'), JSON.stringify(cases()));
    const harness = [
      'import json',
      'from verify_webhook import verify_webhook',
      'results = {}',
      'for c in json.load(open("cases.json")):',
      '    try:',
      '        verify_webhook(c["secret"], c["headers"], c["body"].encode(), now=c["now"])',
      '        results[c["name"]] = True',
      '    except ValueError:',
      '        results[c["name"]] = False',
      'print(json.dumps(results))',
    ].join('\n');
    const result = spawnSync('python3', ['-c', harness], { cwd: dir, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const outcomes = JSON.parse(result.stdout) as Record<string, boolean>;
    expect(outcomes).toEqual(Object.fromEntries(cases().map((c) => [c.name, c.valid])));
  });
});
