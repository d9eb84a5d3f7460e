/**
 * Regression tests from the independent review of Merkle anti-entropy: repairs larger than a
 * message, and asks from a peer that would make a node build or send more than it should.
 * Simulation; seeds printed on failure.
 */
import type { ActorRef, SimulationCluster } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  type AntiEntropyMessage,
  antiEntropyRef,
  KvClient,
  partitionOf,
  preferenceList,
  type Ring,
  replicationPlugin,
  type StorageRequest,
  type StorageStats,
  storageRef,
} from '../src/index.ts';
import { AE_PARTITIONS, aeCluster, aeStatus } from './support/anti-entropy.ts';

const Q = AE_PARTITIONS;



async function storeKeys(cluster: SimulationCluster, node: string): Promise<number> {
  const s = await cluster.until(cluster.ask<StorageRequest, StorageStats>(storageRef(node), (replyTo: ActorRef<StorageStats>) => ({ type: 'st-stats', replyTo }), { timeoutMs: 5_000 }));
  return s.keys;
}

/** A partition `node` replicates, and `count` client keys (without the bucket) that fall in it. */
function keysIn(ring: Ring, node: string, count: number): { partition: number; keys: string[] } {
  const partition = [...Array(Q).keys()].find((p) => preferenceList(ring, p, 3).includes(node))!;
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (partitionOf(ring, `default/big${i}`) === partition) keys.push(`big${i}`);
  return { partition, keys };
}

describe('anti-entropy under hostile or oversized input', () => {
  simIt('a partition whose differing keys total more than a message (1 MiB) is still repaired: repairs travel in byte-capped parts', 9101, async (seed) => {
    const { cluster, ring } = await aeCluster(seed);
    const kv = new KvClient(cluster);
    const { keys } = keysIn(ring, 'n3', 60);
    const big = 'x'.repeat(24_000);
    for (const k of keys) await cluster.until(kv.put(k, `${big}${k}`));
    const before = await storeKeys(cluster, 'n3');
    expect(before).toBeGreaterThanOrEqual(60);
    await cluster.restartEmpty('n3');
    await cluster.runFor(30_000);
    // 60 keys of 24 KB: 1.4 MB, more than one message can carry.
    expect(await storeKeys(cluster, 'n3')).toBe(before);
    expect((await aeStatus(cluster, 'n3')).keysRepaired).toBe(before);
    await cluster.stop();
  }, 30_000);

  simIt('an ae-descend with an empty frontier is refused; one asking more than 12 levels a trip is malformed (counted, unanswered); the node keeps serving', 9102, async (seed) => {
    const { cluster, ring } = await aeCluster(seed);
    const p = [...Array(Q).keys()].find((x) => preferenceList(ring, x, 3).includes('n2'))!;
    const ask = (frontier: Uint32Array, levels: number) =>
      cluster.until(cluster.ask<AntiEntropyMessage, AntiEntropyMessage>(antiEntropyRef('n2'), (replyTo) => ({ type: 'ae-descend', xid: 'f2', seq: 1, partition: p, depth: 3, frontier, levels, replyTo }), { timeoutMs: 1_000 }));
    expect((await ask(new Uint32Array(0), 2)).type).toBe('ae-refused');
    expect((await ask(Uint32Array.of(0), 4)).type).toBe('ae-refused'); // past the tree's depth
    await expect(ask(new Uint32Array(0), 30_000_000)).rejects.toMatchObject({ code: 'ASK_TIMEOUT' });
    expect((await aeStatus(cluster, 'n2')).malformedMessages).toBe(1);
    expect((await ask(Uint32Array.of(0), 2)).type).toBe('ae-hashes');
    await cluster.stop();
  }, 30_000);

  simIt('an ae-root asking hashes 20 levels down is malformed; at depth 20 and 12 levels it is answered with at most 4 096 hashes', 9103, async (seed) => {
    const { cluster, ring } = await aeCluster(seed);
    const p = [...Array(Q).keys()].find((x) => preferenceList(ring, x, 3).includes('n2'))!;
    const ask = (levels: number) =>
      cluster.until(cluster.ask<AntiEntropyMessage, AntiEntropyMessage>(antiEntropyRef('n2'), (replyTo) => ({ type: 'ae-root', xid: `f3.${levels}`, seq: 1, partition: p, depth: 20, root: Uint32Array.of(1, 2), levels, replyTo }), { timeoutMs: 2_000 }));
    await expect(ask(20)).rejects.toMatchObject({ code: 'ASK_TIMEOUT' });
    const reply = await ask(12);
    expect(reply.type).toBe('ae-hashes');
    if (reply.type === 'ae-hashes') expect(reply.hashes.length / 2).toBe(4_096);
    expect((await aeStatus(cluster, 'n2')).malformedMessages).toBe(1);
    await cluster.stop();
  }, 30_000);

  it('antiEntropyLevelsPerRound is bounded: 1 to 12', () => {
    expect(() => replicationPlugin.options!({ antiEntropyLevelsPerRound: 40 })).toThrow(/antiEntropyLevelsPerRound/);
    expect(() => replicationPlugin.options!({ antiEntropyLevelsPerRound: 13 })).toThrow(/antiEntropyLevelsPerRound/);
    expect(replicationPlugin.options!({ antiEntropyLevelsPerRound: 12 }).antiEntropy?.levelsPerRound).toBe(12);
  });
});
