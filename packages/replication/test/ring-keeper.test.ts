/**
 * Ring changes through the claimant, spread by gossip (principle 7), in simulation.
 */
import { type SimulationCluster, startCluster } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { type Ring, type RingChangeReply, type RingMessage, ringRef, useReplication } from '../src/index.ts';

async function ringAt(cluster: SimulationCluster, node: string): Promise<Ring> {
  const reply = await cluster.until(cluster.ask<RingMessage, { type: 'ring'; ring: Ring }>(ringRef(node), (replyTo) => ({ type: 'ring-get', replyTo }), { timeoutMs: 1_000 }));
  return reply.ring;
}

describe('the ring keeper', () => {
  simIt('a change asked of any node is committed by the claimant alone and reaches every node by gossip', 41, async (seed) => {
    const cluster = await startCluster({ runtime: 'simulation', seed, nodes: 5, network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } }, plugins: [useReplication()] });
    const before = await ringAt(cluster, 'n3');
    expect(before).toMatchObject({ version: 1, claimant: 'n1' });
    // Asked of n4, which is not the claimant: it forwards to n1, which commits version 2.
    const reply = await cluster.until(
      cluster.ask<RingMessage, RingChangeReply>(ringRef('n4'), (replyTo) => ({ type: 'ring-change', change: { kind: 'leave', node: 'n5' }, replyTo }), { timeoutMs: 1_000 }),
    );
    expect(reply).toEqual({ type: 'ring-committed', version: 2 });
    await cluster.runFor(20_000);
    const spread = await Promise.all(cluster.nodes.map((n) => ringAt(cluster, n)));
    for (const ring of spread) {
      // Version 2 began the leave; 3 ended it, once n5's partitions moved (nothing was stored here).
      expect(ring.version).toBe(3);
      expect(ring.next).toBeUndefined();
      expect(ring.members.map((m) => m.node)).toEqual(['n1', 'n2', 'n3', 'n4']);
    }
    const refused = await cluster.until(
      cluster.ask<RingMessage, RingChangeReply>(ringRef('n2'), (replyTo) => ({ type: 'ring-change', change: { kind: 'leave', node: 'nobody' }, replyTo }), { timeoutMs: 1_000 }),
    );
    expect(refused.type).toBe('ring-refused');
    await cluster.stop();
  });

  simIt('a forged ring, or one older than the current, is ignored', 42, async (seed) => {
    const cluster = await startCluster({ runtime: 'simulation', seed, nodes: 3, plugins: [useReplication()] });
    const ring = await ringAt(cluster, 'n1');
    cluster.tell(ringRef('n2'), { type: 'ring-state', ring: { ...ring, version: 9, owners: ['nobody'] } });
    cluster.tell(ringRef('n2'), { type: 'ring-state', ring: { ...ring, version: 0 } });
    await cluster.runFor(100);
    expect((await ringAt(cluster, 'n2')).version).toBe(1);
    await cluster.stop();
  });
});
