/**
 * `until` on the virtual clock: a promise that settles without the clock (host-side work, or one
 * already settled) settles before virtual time moves, on a busy cluster too, so a host script's
 * steps happen at the same virtual instants in every replay of a seed (the clock used to run on
 * until the loop yielded, which depended on the wall clock).
 */
import { describe, expect, it } from 'vitest';
import { type TickerMsg, ticker } from './fixtures/actors.ts';
import { simCluster } from './support/cluster.ts';

describe('until on the virtual clock', () => {
  it('does not move the clock for a promise that needs no event, however busy the cluster', async () => {
    const c = await simCluster(4);
    try {
      const t = await c.spawn('n1', ticker, undefined, { name: 'ticker' });
      // A timer every 1 ms: events are always due.
      c.tell(t, { type: 'start-repeat', key: 'busy', intervalMs: 1 } satisfies TickerMsg);
      await c.runFor(50);
      const before = c.now();
      await c.until(Promise.resolve(42));
      await c.until(c.network.heal());
      const chained = await c.until(
        (async () => {
          for (let i = 0; i < 100; i++) await Promise.resolve();
          await c.network.reset();
          return 'done';
        })(),
      );
      expect(chained).toBe('done');
      expect(c.now()).toBe(before);
    } finally {
      await c.stop();
    }
  });
});
