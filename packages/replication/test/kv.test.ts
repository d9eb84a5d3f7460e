/**
 * The store as a user meets it, in simulation: put/get/delete through the host client, siblings
 * and their resolution, strict quorums with the replicas that answered, and bad input.
 */
import { type ActorRef, isolate, selectActor, type SimulationCluster, startCluster, usePlugin } from '@starling/actors';
import { useGossip } from '@starling/gossip';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  coordinatorRef,
  createRing,
  KvClient,
  KvError,
  type KvRequest,
  partitionOf,
  preferenceList,
  type PutReply,
  storeKey,
  useReplication,
} from '../src/index.ts';
import { kvUser, type KvUserMsg, kvUserPlugin } from './fixtures/kv-user.ts';

async function kvCluster(seed: number, nodes = 5): Promise<SimulationCluster> {
  return startCluster({
    runtime: 'simulation',
    seed,
    nodes,
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    plugins: [useReplication()],
  });
}

/** The primaries of a key, as every node computes them. */
function primaries(cluster: SimulationCluster, key: string, n = 3): string[] {
  const ring = createRing(cluster.nodes.map((node) => ({ node, weight: 1 })));
  return preferenceList(ring, partitionOf(ring, storeKey(undefined, key)), n);
}

describe('the key-value store', () => {
  simIt('a put is read back from every coordinator; a delete makes it absent', 31, async (seed) => {
    const cluster = await kvCluster(seed);
    const kv = new KvClient(cluster);
    const put = await cluster.until(kv.put('cart:42', { items: 3 }, { node: 'n1' }));
    expect(put.replicas.length).toBeGreaterThanOrEqual(2);
    for (const r of put.replicas) expect(primaries(cluster, 'cart:42')).toContain(r);
    for (const node of cluster.nodes) {
      const got = await cluster.until(kv.get('cart:42', { node }));
      expect(got.values).toEqual([{ items: 3 }]);
    }
    const got = await cluster.until(kv.get('cart:42'));
    await cluster.until(kv.delete('cart:42', { context: got.context }));
    const after = await cluster.until(kv.get('cart:42'));
    expect(after.values).toEqual([]);
    expect(after.isDeleted).toBe(true);
    const never = await cluster.until(kv.get('never-written'));
    expect(never).toMatchObject({ values: [], isDeleted: false });
    await cluster.stop();
  });

  simIt('two clients writing one key concurrently get siblings, never a silent overwrite; a put with the context resolves them', 32, async (seed) => {
    const cluster = await kvCluster(seed);
    const alice = new KvClient(cluster, { name: 'alice' });
    const bob = new KvClient(cluster, { name: 'bob' });
    const base = await cluster.until(alice.put('doc', 'v0'));
    // Both start from v0 and write without seeing each other.
    await cluster.until(Promise.all([alice.put('doc', 'alice', { context: base.context, node: 'n1' }), bob.put('doc', 'bob', { context: base.context, node: 'n4' })]));
    const both = await cluster.until(alice.get('doc'));
    expect([...both.values].sort()).toEqual(['alice', 'bob']);
    await cluster.until(bob.put('doc', 'merged', { context: both.context }));
    expect((await cluster.until(alice.get('doc'))).values).toEqual(['merged']);
    await cluster.stop();
  });

  simIt("interleaved writes through one coordinator create no false siblings (Riak 1.x's sibling explosion)", 33, async (seed) => {
    const cluster = await kvCluster(seed);
    const [coordinator] = primaries(cluster, 'counter');
    const a = new KvClient(cluster, { name: 'a', nodes: [coordinator!] });
    const b = new KvClient(cluster, { name: 'b', nodes: [coordinator!] });
    const start = await cluster.until(a.get('counter'));
    // Each client writes on top of its own last put only: a1 ∥ b1, then a2 > a1 and b2 > b1.
    const a1 = await cluster.until(a.put('counter', 'a1', { context: start.context }));
    const b1 = await cluster.until(b.put('counter', 'b1', { context: start.context }));
    expect([...(await cluster.until(a.get('counter'))).values].sort()).toEqual(['a1', 'b1']);
    const a2 = await cluster.until(a.put('counter', 'a2', { context: a1.context }));
    expect([...(await cluster.until(a.get('counter'))).values].sort()).toEqual(['a2', 'b1']);
    await cluster.until(b.put('counter', 'b2', { context: b1.context }));
    expect([...(await cluster.until(a.get('counter'))).values].sort()).toEqual(['a2', 'b2']);
    expect(a2.dot.id.startsWith(`${coordinator}@`)).toBe(true);
    await cluster.stop();
  });

  simIt('a put reaching a node that is not a primary is forwarded to one, which mints the dot', 34, async (seed) => {
    const cluster = await kvCluster(seed);
    const owners = primaries(cluster, 'forwarded');
    const outsider = cluster.nodes.find((n) => !owners.includes(n))!;
    const kv = new KvClient(cluster, { nodes: [outsider] });
    const put = await cluster.until(kv.put('forwarded', 'x'));
    expect(owners).toContain(put.dot.id.split('@')[0]);
    await cluster.stop();
  });

  simIt('with two of three primaries cut off, a strict-quorum put is unknown and a get fails, each naming the replicas that answered', 35, async (seed) => {
    const cluster = await kvCluster(seed);
    const [p1, p2, p3] = primaries(cluster, 'k');
    await cluster.network.partition(isolate(cluster.nodes, p2!));
    await cluster.network.grudge(p1!, p3!);
    await cluster.network.grudge(p3!, p1!);
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const put = await cluster.until(kv.put('k', 'v', { timeoutMs: 300, sloppy: false }).catch((e: unknown) => e));
    expect(put).toBeInstanceOf(KvError);
    expect(put).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'unknown', replicas: [p1] });
    const get = await cluster.until(kv.get('k', { timeoutMs: 300, sloppy: false }).catch((e: unknown) => e));
    expect(get).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'failed', replicas: [p1] });
    await cluster.stop();
  });

  simIt('with membership and sloppy quorum off, a coordinator fails fast when fewer than W primaries are up (nothing is written); with it on, fallbacks take the write', 36, async (seed) => {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 5,
      hostFailureDetector: false,
      network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
      plugins: [useGossip(), useReplication()],
    });
    await cluster.runFor(3_000);
    const [p1, p2, p3] = primaries(cluster, 'k2');
    await cluster.kill(p2!);
    await cluster.kill(p3!);
    await cluster.runFor(60_000); // gossip declares them dead
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const put = await cluster.until(kv.put('k2', 'v', { sloppy: false }).catch((e: unknown) => e));
    expect(put).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'failed', replicas: [p1] });
    expect((await cluster.until(kv.get('k2', { sloppy: false }).catch((e: unknown) => e)))).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'failed' });
    const sloppy = await cluster.until(kv.put('k2', 'v'));
    expect(sloppy.replicas[0]).toBe(p1);
    expect(sloppy.hinted.length).toBeGreaterThanOrEqual(1);
    expect(sloppy.hinted).not.toContain(p2);
    expect(sloppy.hinted).not.toContain(p3);
    expect((await cluster.until(kv.get('k2'))).values).toEqual(['v']);
    await cluster.stop();
  });

  simIt('an actor inside the cluster writes and reads through its node\'s coordinator', 38, async (seed) => {
    const cluster = await startCluster({ runtime: 'simulation', seed, nodes: 5, plugins: [useReplication(), usePlugin(kvUserPlugin)] });
    const user = await cluster.spawn('n3', kvUser, undefined, { name: 'app' });
    const said = await cluster.until(cluster.ask(user, (replyTo: ActorRef<string>): KvUserMsg => ({ type: 'write-then-read', key: 'from-inside', value: 'hello', replyTo }), { timeoutMs: 10_000 }));
    expect(said).toBe('read ["hello"]');
    await cluster.stop();
  });

  simIt('bad requests get INVALID_REQUEST; malformed messages are dropped and the node keeps serving', 37, async (seed) => {
    const cluster = await kvCluster(seed);
    const kv = new KvClient(cluster);
    for (const attempt of [
      () => kv.put('', 'x'),
      () => kv.put('k', null),
      () => kv.put('k', 'x', { r: 4, n: 3 }),
      () => kv.put('k', 'x', { n: 9 }),
      () => kv.get('x'.repeat(2_000)),
    ]) {
      await expect(cluster.until<unknown>(attempt())).rejects.toMatchObject({ code: 'INVALID_REQUEST', outcome: 'failed' });
    }
    const junk: unknown[] = [null, 7, { type: 'kv-put' }, { type: 'kv-get', key: 3 }, { type: 'st-written' }, { type: 'st-read', reqId: 1 }, { type: 'st-write', reqId: 'x', partition: 1, key: 'k', clock: { entries: 'no' } }];
    const failures: string[] = [];
    cluster.events.on('actor-failed', (e) => failures.push(`${e.node}${e.ref.path}`));
    for (const m of junk) {
      cluster.tell(selectActor<unknown>('n2', '/system/coordinator'), m);
      cluster.tell(selectActor<unknown>('n2', '/system/storage'), m);
    }
    await cluster.runFor(100);
    expect(failures).toEqual([]);
    const ok = await cluster.until(
      cluster.ask<KvRequest, PutReply>(coordinatorRef('n2'), (replyTo: ActorRef<PutReply>) => ({ type: 'kv-put', key: 'still', value: 'serving', replyTo }), { timeoutMs: 5_000 }),
    );
    expect(ok.type).toBe('kv-put-ok');
    await cluster.stop();
  });
});
