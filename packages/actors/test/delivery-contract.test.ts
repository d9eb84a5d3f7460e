/**
 * The delivery contract (DESIGN principle 5), observed through actors: at most once per send; FIFO
 * per link; duplicates only when the fault model duplicates; reordering only when it reorders.
 */
import { describe, expect } from 'vitest';
import type { ActorRef, NetworkRules, SimulationCluster } from '@starling/actors';
import { sequencer, type SeqMsg } from './fixtures/echo-plugin.ts';
import { simCluster } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

async function blast(seed: number, network: Partial<NetworkRules>, count = 500): Promise<{ c: SimulationCluster; got: number[] }> {
  const c = await simCluster(seed, { nodes: 2, network });
  const a = await c.spawn('n1', sequencer, undefined, { name: 's' });
  const b: ActorRef<SeqMsg> = await c.spawn('n2', sequencer, undefined, { name: 's' });
  c.tell(a, { type: 'blast', to: b, count });
  await c.runFor(10_000);
  const seen = await c.until(c.ask(b, (replyTo): SeqMsg => ({ type: 'dump', replyTo }), { timeoutMs: 1000 }));
  return { c, got: seen.map((s) => Number(s.split(':')[1])) };
}

const isSorted = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! <= x);

describe('delivery contract', () => {
  simIt('with random latency and no faults, every message arrives exactly once and in send order', 101, async (seed) => {
    const { c, got } = await blast(seed, { latency: { kind: 'exponential', minMs: 1, meanMs: 20 } });
    expect(got).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    await c.stop();
  });

  simIt('loss drops some messages, never duplicates, and keeps the survivors in order', 102, async (seed) => {
    const { c, got } = await blast(seed, { lossProbability: 0.2, latency: { kind: 'uniform', minMs: 1, maxMs: 30 } });
    expect(got.length).toBeGreaterThan(300);
    expect(got.length).toBeLessThan(500);
    expect(new Set(got).size).toBe(got.length);
    expect(isSorted(got)).toBe(true);
    expect((await c.network.links())['n1->n2']!.dropped.loss).toBe(500 - got.length);
    await c.stop();
  });

  simIt('duplication delivers some messages twice, still in order', 103, async (seed) => {
    const { c, got } = await blast(seed, { duplicateProbability: 0.2, latency: { kind: 'uniform', minMs: 1, maxMs: 30 } });
    const dups = got.length - new Set(got).size;
    expect(dups).toBeGreaterThan(50);
    expect(dups).toBe((await c.network.links())['n1->n2']!.duplicated);
    expect(new Set(got).size).toBe(500);
    expect(isSorted(got)).toBe(true);
    await c.stop();
  });

  simIt('only the reorder fault lets later messages overtake earlier ones', 104, async (seed) => {
    const { c, got } = await blast(seed, { reorderProbability: 0.3, reorderWindowMs: 50, latency: { kind: 'constant', ms: 5 } });
    expect(isSorted(got)).toBe(false);
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    await c.stop();
  });
});
