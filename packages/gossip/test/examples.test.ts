import { describe, expect, it } from 'vitest';
import { main as membership } from '../examples/membership.ts';

describe('the README gossip example', () => {
  it('n3 is suspected, declared dead, rejoins with a new node uid, and a broadcast reaches every node; the seed replays it', async () => {
    const lines = await membership();
    expect(lines.slice(0, 4).map((l) => l.replace(/ at \d+ ms$/, ''))).toEqual([
      'n1: n3 joined',
      'n1: n3 suspected',
      'n1: n3 dead',
      'n1: n3 joined again, with a new node uid',
    ]);
    expect(lines.slice(4)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => `${n} has ["hello, everyone"]`));
    expect(await membership()).toEqual(lines);
  });
});
