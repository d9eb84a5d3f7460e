import { describe, expect, it } from 'vitest';
import { main as availability } from '../examples/availability.ts';
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

describe('the README availability example', () => {
  it('writes go on with a node down; the session reads its write; the hints reach the node when it is back', async () => {
    const lines = await availability();
    expect(lines[0]).toBe('10 puts with n3 down, all acknowledged; session read of cart:7: [{"items":7}]');
    const held = Number(/^copies held for n3 as hints: (\d+)$/.exec(lines[1]!)?.[1]);
    expect(held).toBeGreaterThan(0);
    expect(lines[2]).toBe(`after n3 is back: hints held 0, keys at n3 ${held}`);
  });
});
