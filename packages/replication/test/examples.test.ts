import { describe, expect, it } from 'vitest';
import { main as antiEntropy } from '../examples/anti-entropy.ts';
import { main as availability } from '../examples/availability.ts';
import { main as kv } from '../examples/kv.ts';
import { main as transfer } from '../examples/transfer.ts';

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

describe('the README ring-change example', () => {
  it('a join moves three quarters of the partitions to n4, a leave empties n2, and every key is still read', async () => {
    const lines = await transfer();
    expect(lines[0]).toBe('before: keys at n1 n2 n3 n4: 300 300 300 0');
    const [, version, partitions, keys] = /^n4 joined: ring (\d+), (\d+) partitions and (\d+) keys received$/.exec(lines[1]!) ?? [];
    expect(Number(version)).toBe(3); // 2 began the change, 3 finished it
    expect(Number(partitions)).toBe(768); // n4 enters the preference list of 3 in 4 of 1024 partitions
    expect(Number(keys)).toBeGreaterThan(150);
    expect(lines[2]).toBe('n2 left: keys at n1 n2 n3 n4: 300 0 300 300');
    expect(lines[3]).toBe('user:42 [{"visits":42}]');
  });
});

describe('the README anti-entropy example', () => {
  it('a node restarted empty is refilled by anti-entropy, every key repaired, no read made', async () => {
    const lines = await antiEntropy();
    const [, held] = /^n3 holds (\d+) keys, 0 after a restart empty$/.exec(lines[0]!) ?? [];
    expect(Number(held)).toBeGreaterThan(200);
    expect(lines[1]).toMatch(new RegExp(`^5 s later: n3 holds ${held} keys; ${held} repaired in \\d+ exchanges$`));
  });
});
