/**
 * The counter sampler adds up every start of every node: a restart neither loses what the ended
 * start counted nor counts it twice, however many restarts come.
 */
import { KvClient } from '@starling/replication';
import { expect, it } from 'vitest';
import { CounterSampler, startDemoCluster } from '../src/index.ts';

it('keeps the counts of ended starts, once each, across many restarts', async () => {
  const { cluster } = await startDemoCluster({ runtime: 'simulation', seed: 11, nodes: 3, n: 3, r: 2, w: 2 });
  try {
    const sampler = new CounterSampler(cluster, true);
    const kv = new KvClient(cluster);
    const sent = (): number => Object.values(sampler.totals().messagesByType).reduce((a, b) => a + b, 0);
    let previous = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20; i++) await cluster.until(kv.put(`k${i}`, round, { node: 'n1' }));
      await cluster.until(sampler.sample());
      const before = sent();
      expect(before).toBeGreaterThan(previous);
      // n2's start ends; what it counted stays in the totals.
      await cluster.until(cluster.restart('n2'));
      await cluster.until(sampler.sample());
      const after = sent();
      expect(after).toBeGreaterThanOrEqual(before);
      // Sampling again with next to no traffic adds next to nothing: the ended start is not added twice.
      for (let i = 0; i < 3; i++) await cluster.until(sampler.sample());
      expect(sent() - after).toBeLessThan(before / 10);
      previous = sent();
    }
  } finally {
    await cluster.stop();
  }
});
