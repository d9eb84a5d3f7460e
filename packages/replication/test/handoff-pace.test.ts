/**
 * Hint handoff drains a backlog at the primary's pace: a window of `handoffBatchSize` hints in
 * flight, each acknowledgement sending the next, rather than one window per `handoffIntervalMs`
 * (the demo measured 30 s to hand a partition's hints back that way). Control: the backlog is many
 * windows long, so one window per round could not have delivered it in the time allowed.
 */
import { type SimulationCluster } from '@starling/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../src/index.ts';
import { cluster5, primaries, statsOf, sum } from './support/cluster.ts';

let cluster: SimulationCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('hint handoff pace', () => {
  it('hands over a backlog of many windows within one round', async () => {
    const batch = 8;
    const intervalMs = 10_000;
    const c = (cluster = await cluster5(31, { replication: { handoffBatchSize: batch, handoffIntervalMs: intervalMs, antiEntropy: false } }));
    const kv = new KvClient(c);
    const away = 'n5';
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`).filter((k) => primaries(c, k).includes(away)).slice(0, 20 * batch);
    expect(keys.length).toBe(20 * batch);
    await c.network.isolate(away);
    for (const k of keys) await c.until(kv.put(k, 'v', { node: primaries(c, k).find((n) => n !== away)!, fallbackAfterMs: 20 }));
    await c.runFor(100);
    const held = sum(await statsOf(c, kv), (s) => s.storage.hints);
    expect(held).toBe(keys.length);
    await c.network.heal();
    // The next round starts within intervalMs; 20 windows at one per round would take 20 rounds.
    await c.runFor(intervalMs + 1_000);
    const after = await statsOf(c, kv);
    expect(sum(after, (s) => s.storage.hints)).toBe(0);
    expect(sum(after, (s) => s.storage.handedOff)).toBe(keys.length);
  });
});
