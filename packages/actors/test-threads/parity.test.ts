/**
 * The same scenario in the simulation and on threads: a few actors per node exchanging messages,
 * a partition, a heal. Both runtimes reach the same final state.
 */
import { describe, expect, it } from 'vitest';
import { type Cluster, type ClusterConfig, halves, startCluster, usePlugin } from '@starling/actors';
import { sequencer, type SeqMsg, testPlugin } from '../test/fixtures/echo-plugin.ts';

async function scenario(runtime: 'simulation' | 'threads'): Promise<Record<string, string[]>> {
  const c: Cluster = await startCluster({ runtime, seed: 5, nodes: 4, plugins: [usePlugin(testPlugin)] } as ClusterConfig);
  try {
    const refs = await Promise.all(c.nodes.map((n) => c.spawn(n, sequencer, undefined, { name: 'seq' })));
    const dump = (i: number) => c.until(c.ask(refs[i]!, (replyTo): SeqMsg => ({ type: 'dump', replyTo }), { timeoutMs: 10_000 }));
    const blastAll = async (count: number, expected: number): Promise<void> => {
      for (const from of refs) for (const to of refs) if (from !== to) c.tell(from, { type: 'blast', to, count });
      // Wait for the outcome, not for time: each receiver ends up with the expected count.
      const settled = await c.runUntil(async () => (await Promise.all(refs.map((_, i) => dump(i)))).every((d) => d.length === expected), {
        timeoutMs: 20_000,
      });
      expect(settled).toBe(true);
    };
    await blastAll(3, 9);
    await c.network.partition(halves(c.nodes));
    // Across the cut nothing arrives; each node hears 3 more from its one peer on its side.
    await blastAll(3, 12);
    await c.network.heal();
    await blastAll(2, 18);
    const out: Record<string, string[]> = {};
    for (let i = 0; i < refs.length; i++) out[c.nodes[i]!] = [...(await dump(i))].sort();
    return out;
  } finally {
    await c.stop();
  }
}

describe('simulation and threads agree', () => {
  it('a partition scenario ends in the same state in both runtimes', async () => {
    const simulated = await scenario('simulation');
    const threaded = await scenario('threads');
    expect(threaded).toEqual(simulated);
    expect(simulated.n1).toHaveLength(18);
  });
});
