import { describe, expect, it } from 'vitest';
import { main as kv } from '../examples/kv.ts';

describe('the README store example', () => {
  it('concurrent puts become siblings and a put with the read context resolves them; the seed replays it', async () => {
    const lines = await kv();
    expect(lines[0]).toMatch(/^put acknowledged by n\d, n\d(, n\d)?$/);
    expect(JSON.parse(lines[1]!.slice('siblings: '.length)).sort((a: { items: number }, b: { items: number }) => a.items - b.items)).toEqual([{ items: 4 }, { items: 5 }]);
    expect(lines[2]).toBe('resolved: [{"items":9}]');
    expect(await kv()).toEqual(lines);
  });
});
