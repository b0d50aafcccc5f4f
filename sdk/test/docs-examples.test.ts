import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The guide's TypeScript examples are the files of sdk/examples/, which `npm run typecheck` compiles
// against the SDK: an example that no longer type-checks fails the typecheck, and one edited only in
// the guide fails here.
const here = path.dirname(fileURLToPath(import.meta.url));
const examples = path.resolve(here, '../examples');
const guide = readFileSync(path.resolve(here, '../../docs-site/src/content/docs/guides/sdk.md'), 'utf8');
const blocks = [...guide.matchAll(/```ts title="([^"]+)"\n([\s\S]*?)\n```/g)].map((m) => ({ title: m[1]!, code: m[2]! }));

describe('the SDK guide', () => {
  it('shows every example file, and only example files', () => {
    expect(blocks.map((b) => b.title).sort()).toEqual(
      readdirSync(examples)
        .filter((f) => f.endsWith('.ts'))
        .sort(),
    );
    expect(guide).not.toMatch(/```(ts|typescript)\n/);
  });

  it.each(blocks)('shows $title exactly as the type-checked file', ({ title, code }) => {
    expect(code).toBe(readFileSync(path.join(examples, title), 'utf8').trimEnd());
  });
});
