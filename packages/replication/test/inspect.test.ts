/**
 * Reading the store from the host (inspect.ts): a dump paged by partition holds exactly what one
 * whole dump does, and `divergence` tells replicas that agree from replicas that do not (a
 * primary missing a key, a hint not yet handed over). A malformed paged dump is refused, and the
 * node keeps serving.
 */
import { type ActorRef, type SimulationCluster, startCluster } from '@starling/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { createRing, DEFAULT_PARTITION_COUNT, divergence, dumpStore, dumpStores, KvClient, rootDivergence, treeRoots, type TreeRoots, type StorageDump, type StorageRequest, storageRef, storeKey, partitionOf, preferenceList, useReplication } from '../src/index.ts';
import { cluster5, primaries } from './support/cluster.ts';

let cluster: SimulationCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const ringOf = (c: SimulationCluster) => createRing(c.nodes.map((node) => ({ node, weight: 1 })));

describe('reading the store from the host', () => {
  it('a dump paged by partition equals a whole dump, for any page size', async () => {
    const c = (cluster = await cluster5(21));
    const kv = new KvClient(c);
    for (let i = 0; i < 200; i++) await c.until(kv.put(`key${i}`, `v${i}`));
    const whole = await c.until(c.ask<StorageRequest, StorageDump>(storageRef('n2'), (replyTo: ActorRef<StorageDump>) => ({ type: 'st-dump', replyTo }), { timeoutMs: 1_000 }));
    expect(Object.keys(whole.keys).length).toBeGreaterThan(50);
    for (const partitionsPerAsk of [1, 7, DEFAULT_PARTITION_COUNT]) {
      const paged = await c.until(dumpStore(c, 'n2', DEFAULT_PARTITION_COUNT, { partitionsPerAsk }));
      expect({ ...paged.keys }).toEqual({ ...whole.keys });
      expect({ ...paged.hints }).toEqual({ ...whole.hints });
    }
  });

  it('divergence: equal replicas converge; a primary that missed a write, or a hint still held, does not', async () => {
    const c = (cluster = await cluster5(22, { replication: { antiEntropy: false } }));
    const kv = new KvClient(c);
    await c.until(kv.put('agreed', 'v'));
    await c.runFor(100);
    const ring = ringOf(c);
    expect(divergence(await c.until(dumpStores(c, c.nodes, DEFAULT_PARTITION_COUNT)), ring, 3)).toMatchObject({ divergentKeys: 0, hints: 0 });

    const [p1, , p3] = primaries(c, 'missed') as [string, string, string];
    await c.network.isolate(p3);
    await c.until(kv.put('missed', 'v', { node: p1, sloppy: false, w: 2 }));
    await c.runFor(100);
    const d = divergence(await c.until(dumpStores(c, c.nodes, DEFAULT_PARTITION_COUNT)), ring, 3);
    expect(d).toMatchObject({ divergentKeys: 1, example: 'default/missed' });

    // A sloppy write of a key p3 replicates, while p3 is away: a hint held elsewhere.
    const hinted = Array.from({ length: 100 }, (_, i) => `hinted${i}`).find((k) => primaries(c, k).includes(p3))!;
    await c.until(kv.put(hinted, 'v', { node: primaries(c, hinted).find((n) => n !== p3)!, fallbackAfterMs: 50 }));
    await c.runFor(200);
    expect(divergence(await c.until(dumpStores(c, c.nodes, DEFAULT_PARTITION_COUNT)), ring, 3).hints).toBeGreaterThan(0);
  });

  it('splits a page that does not fit one message, and says which partition alone does not', async () => {
    const c = (cluster = await startCluster({ runtime: 'simulation', seed: 24, nodes: 3, maxMessageBytes: 64 * 1024, plugins: [useReplication({ antiEntropy: false })] }));
    const kv = new KvClient(c);
    for (let i = 0; i < 60; i++) await c.until(kv.put(`big${i}`, 'x'.repeat(4_000)));
    const whole = await c.until(c.ask<StorageRequest, StorageDump>(storageRef('n1'), (replyTo: ActorRef<StorageDump>) => ({ type: 'st-dump', replyTo }), { timeoutMs: 1_000 }));
    expect(whole.isTooLarge).toBe(true);
    const paged = await c.until(dumpStore(c, 'n1', DEFAULT_PARTITION_COUNT, { partitionsPerAsk: DEFAULT_PARTITION_COUNT }));
    // N = 3 on 3 nodes: every node holds every key.
    expect(Object.keys(paged.keys).length).toBe(60);
    // Three 30 KB values in one partition: that partition alone outgrows a message.
    const ring = ringOf(c);
    const target = partitionOf(ring, storeKey(undefined, 'crowd0'));
    const crowd = Array.from({ length: 20_000 }, (_, i) => `crowd${i}`).filter((k) => partitionOf(ring, storeKey(undefined, k)) === target).slice(0, 3);
    expect(crowd).toHaveLength(3);
    for (const k of crowd) await c.until(kv.put(k, 'y'.repeat(30_000)));
    await expect(c.until(dumpStore(c, 'n1', DEFAULT_PARTITION_COUNT))).rejects.toThrow(`partition ${target} of n1 does not fit one message`);
    // The node kept serving through all of it.
    expect((await c.until(kv.get('big7'))).values).toHaveLength(1);
  });

  it('divergence: a key only a node off its replicas holds is not converged', () => {
    const ring = createRing(['n1', 'n2', 'n3', 'n4', 'n5'].map((node) => ({ node, weight: 1 })));
    const key = 'default/stray';
    const replicas = preferenceList(ring, partitionOf(ring, key), 3);
    const off = ring.members.map((m) => m.node).find((n) => !replicas.includes(n))!;
    const clock = { entries: [{ id: 'x', counter: 1, values: ['v'] }], anonymous: [] };
    const dumpOf = (node: string, keys: Record<string, typeof clock>): StorageDump => ({ type: 'st-dump', node, replicaId: node, keys, hints: {} });
    expect(divergence({ [off]: dumpOf(off, { [key]: clock }) }, ring, 3)).toMatchObject({ keys: 1, divergentKeys: 1 });
    const all = Object.fromEntries(replicas.map((n) => [n, dumpOf(n, { [key]: clock })]));
    expect(divergence(all, ring, 3)).toMatchObject({ keys: 1, divergentKeys: 0 });
  });

  it('refuses a dump with malformed partitions and goes on serving', async () => {
    const c = (cluster = await cluster5(23));
    for (const partitions of ['all', [-1], [1.5], Array.from({ length: 70_000 }, () => 0)]) {
      // No answer: a malformed request is dropped (and counted), never half-served.
      const asked = c.ask<unknown, StorageDump>(storageRef('n1') as ActorRef<unknown>, (replyTo) => ({ type: 'st-dump', partitions, replyTo }), { timeoutMs: 200 });
      await expect(c.until(asked)).rejects.toMatchObject({ code: 'ASK_TIMEOUT' });
    }
    const kv = new KvClient(c);
    await c.until(kv.put('after', 'v', { node: 'n1' }));
    const page = await c.until(dumpStore(c, 'n1', DEFAULT_PARTITION_COUNT));
    expect(page.node).toBe('n1');
  });

  it('treeRoots: replicas of equal data keep equal Merkle roots; rootDivergence names a partition whose replicas do not', async () => {
    const off = await cluster5(24, { replication: { antiEntropy: false } });
    expect(await off.until(treeRoots(off, off.nodes))).toBeUndefined();
    await off.stop();
    const c = (cluster = await cluster5(23));
    const kv = new KvClient(c);
    for (let i = 0; i < 40; i++) await c.until(kv.put(`r${i}`, i, { w: 3 }));
    await c.runFor(200);
    const ring = ringOf(c);
    const roots = (await c.until(treeRoots(c, c.nodes)))!;
    expect(Object.keys(roots).sort()).toEqual([...c.nodes].sort());
    expect(rootDivergence(roots, ring, 3).differing).toEqual([]);
    // One replica's root off by a bit (a tree out of step with its data) is found, on that partition only.
    const p = partitionOf(ring, storeKey(undefined, 'r0'));
    const [first] = preferenceList(ring, p, 3);
    const own = roots[first!]!;
    const i = own.partitions.indexOf(p);
    expect(i).toBeGreaterThanOrEqual(0);
    const skewed: TreeRoots = { ...own, roots: own.roots.map((r, j) => (j === i ? `${r}1` : r)) };
    expect(rootDivergence({ ...roots, [first!]: skewed }, ring, 3).differing).toEqual([p]);
    // A primary missing a partition another holds counts as empty: different.
    const without: TreeRoots = { ...own, partitions: own.partitions.filter((x) => x !== p), roots: own.roots.filter((_, j) => j !== i) };
    expect(rootDivergence({ ...roots, [first!]: without }, ring, 3).differing).toEqual([p]);
  });
});

