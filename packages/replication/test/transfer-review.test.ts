/**
 * Regression tests from the independent review of ownership transfer: a malformed ring from a
 * peer, nodes gone for good in the middle of a change, one ring per version across a claimant's
 * reassignment or restart, a key too large to move, writes from a stale view, forward hints.
 * Simulation; seeds printed on failure.
 */
import type { ActorRef } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  beginChange,
  coordinatorRef,
  KvClient,
  partitionOf,
  pendingReplicas,
  planTransfers,
  ringRef,
  type StorageReply,
  type StorageRequest,
  storageRef,
  storeKey,
} from '../src/index.ts';
import { dumpOf, transferCluster } from './support/transfer.ts';

describe('a malformed ring from a peer', () => {
  simIt('a ring-state whose next names a valid `removed` but has no members array is counted as malformed, the keeper is not crashed', 9101, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4 });
    const ring = await cluster.until(admin.ring('n2'));
    const forged = { ...ring, next: { since: 1, owners: ring.owners, removed: 'n1' } };
    const before = await cluster.stats('n2');
    cluster.tell(ringRef('n2') as ActorRef<unknown>, { type: 'ring-state', ring: forged });
    await cluster.runFor(100);
    const after = await cluster.stats('n2');
    expect(after.failures - before.failures, 'actor failures on n2').toBe(0);
    expect((await cluster.until(admin.status('n2'))).malformedMessages).toBe(1);
    await cluster.stop();
  });

  simIt('the same ring in a ring-updated to /system/storage or /system/coordinator crashes neither; the node keeps serving', 9104, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4 });
    const ring = await cluster.until(admin.ring('n2'));
    const forged = { ...ring, next: { since: 1, owners: ring.owners, removed: 'n1' } };
    const before = await cluster.stats('n2');
    cluster.tell(storageRef('n2') as ActorRef<unknown>, { type: 'ring-updated', ring: forged });
    cluster.tell(coordinatorRef('n2') as ActorRef<unknown>, { type: 'ring-updated', ring: forged });
    await cluster.runFor(100);
    expect((await cluster.stats('n2')).failures - before.failures, 'actor failures on n2').toBe(0);
    const kv = new KvClient(cluster, { nodes: ['n2'] });
    await cluster.until(kv.put('k', 'v'));
    expect((await cluster.until(kv.get('k'))).values).toEqual(['v']);
    await cluster.stop();
  });

  simIt('a burst of such rings does not stop the node (supervisor escalation past 10 restarts in 10 s)', 9102, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4 });
    const ring = await cluster.until(admin.ring('n2'));
    const forged = { ...ring, next: { since: 1, owners: ring.owners, members: {}, removed: 'n1' } };
    for (let i = 0; i < 30; i++) {
      cluster.tell(ringRef('n2') as ActorRef<unknown>, { type: 'ring-state', ring: forged });
      await cluster.runFor(200);
    }
    await cluster.runFor(200);
    const stats = await cluster.stats('n2');
    expect({ state: cluster.nodeState('n2'), failures: stats.failures }).toEqual({ state: 'running', failures: 0 });
    await cluster.stop();
  });

  simIt('does not cost a change asked while the claimant is unreachable: it completes after the heal', 9103, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    const ring = await cluster.until(admin.ring('n2'));
    await cluster.network.isolate('n1');
    const asked = admin.join('n5', { via: 'n4', timeoutMs: 60_000 });
    let outcome = 'pending';
    asked.then(
      () => (outcome = 'committed'),
      (err: Error) => (outcome = `failed: ${err.message}`),
    );
    await cluster.runFor(2_000);
    cluster.tell(ringRef('n4') as ActorRef<unknown>, { type: 'ring-state', ring: { ...ring, next: { since: 1, owners: ring.owners, removed: 'n1' } } });
    await cluster.runFor(2_000);
    await cluster.network.heal();
    await cluster.runFor(20_000);
    expect(outcome).toBe('committed');
    await cluster.stop();
  });
});

describe('a node gone for good in the middle of a change', () => {
  simIt('a joiner killed for good mid-join can be force-removed (or the change aborted): the ring settles again', 9201, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    const kv = new KvClient(cluster, { nodes: ['n1', 'n2', 'n3'] });
    for (let i = 0; i < 100; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const joined = await cluster.until(admin.join('n5'));
    await cluster.kill('n5');
    await cluster.runFor(2_000);
    // The operator's only tool for a node gone for good: force-remove it.
    let outcome = 'pending';
    admin.leave('n5', { force: true, timeoutMs: 20_000 }).then(
      (v) => (outcome = `committed ${v}`),
      (err: Error) => (outcome = `failed: ${err.name} ${(err as { code?: string }).code ?? err.message}`),
    );
    await cluster.runFor(25_000);
    const ring = await cluster.until(admin.ring('n1'));
    expect({ outcome, changing: ring.next !== undefined, since: ring.next?.since }).toEqual({ outcome: expect.stringMatching(/^committed/), changing: false, since: undefined });
    expect(joined).toBe(2);
    await cluster.stop();
  });

  simIt('a leaver killed for good mid-leave can be force-removed: the ring settles again', 9202, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    const kv = new KvClient(cluster, { nodes: ['n1', 'n2', 'n3'] });
    for (let i = 0; i < 100; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    await cluster.until(admin.leave('n4'));
    await cluster.kill('n4');
    let outcome = 'pending';
    admin.leave('n4', { force: true, timeoutMs: 20_000 }).then(
      (v) => (outcome = `committed ${v}`),
      (err: Error) => (outcome = `failed: ${err.name} ${(err as { code?: string }).code ?? err.message}`),
    );
    await cluster.runFor(25_000);
    const ring = await cluster.until(admin.ring('n1'));
    expect({ outcome, changing: ring.next !== undefined }).toEqual({ outcome: expect.stringMatching(/^committed/), changing: false });
    await cluster.stop();
  });

  simIt('N = 1: a force-removed node’s partitions have no other holder; the change still finishes (what only it held is lost)', 9203, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 3, ringMembers: ['n1', 'n2', 'n3'], replication: { defaults: { n: 1, r: 1, w: 1 } } });
    const kv = new KvClient(cluster, { nodes: ['n1', 'n2'] });
    for (let i = 0; i < 50; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    await cluster.kill('n3');
    const v = await cluster.until(admin.leave('n3', { force: true }));
    let settled = false;
    admin.settled(v, { timeoutMs: 20_000 }).then(
      () => (settled = true),
      () => undefined,
    );
    await cluster.runFor(20_000);
    const pending = [];
    for (const node of ['n1', 'n2']) pending.push(`${node}: ${(await cluster.until(admin.status(node))).partitionsPending} pending`);
    expect(settled, pending.join(', ')).toBe(true);
    await cluster.stop();
  });
});

describe('a key too large to move', () => {
  simIt('(siblings grown past maxMessageBytes) is skipped and counted; the move finishes and the node keeps serving', 9401, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4, maxMessageBytes: 8_192 });
    const clients = ['n1', 'n2', 'n3'].map((node) => new KvClient(cluster, { nodes: [node] }));
    // Three puts without a context, 3 000 bytes each: every replica ends with ~9 KB of siblings per key.
    for (let k = 0; k < 4; k++) await cluster.until(Promise.all(clients.map((c, i) => c.put(`big${k}`, String(i).repeat(3_000)))));
    const kv = new KvClient(cluster);
    for (let i = 0; i < 40; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const before = await Promise.all(cluster.nodes.map((n) => cluster.stats(n)));
    const v = await cluster.until(admin.join('n4'));
    await cluster.until(admin.settled(v, { timeoutMs: 60_000 }));
    let tooLarge = 0;
    for (const node of ['n1', 'n2', 'n3']) tooLarge += (await cluster.until(admin.status(node))).keysTooLarge;
    expect(tooLarge).toBeGreaterThan(0);
    const after = await Promise.all(cluster.nodes.map((n) => cluster.stats(n)));
    expect(after.map((s, i) => s.failures - before[i]!.failures)).toEqual([0, 0, 0, 0]);
    for (let i = 0; i < 40; i++) expect((await cluster.until(kv.get(`k${i}`))).values).toEqual([`v${i}`]);
    await cluster.stop();
  });
});

describe('a write from a view that missed the change', () => {
  simIt('reaches the new owner even when the first forward is lost: forwards are hints, sent again until acknowledged', 9501, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4, replication: { transferConcurrency: 1, transferBatchKeys: 4 } });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 100; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    // A partition n4 receives from n2 or n3 while n1 stays its replica, and a fresh key in it.
    const ring = await cluster.until(admin.ring('n1'));
    const move = planTransfers(beginChange(ring, { kind: 'join', member: { node: 'n4', weight: 1 } }, 'n1'), 3).find((t) => t.to === 'n4' && t.from !== 'n1')!;
    let key = '';
    for (let i = 0; key === ''; i++) if (partitionOf(ring, storeKey(undefined, `fresh${i}`)) === move.partition) key = storeKey(undefined, `fresh${i}`);
    let received = false;
    cluster.events.on('custom', (e) => {
      const data = e.data as { kind?: string; partition?: number };
      if (e.topic === 'starling.ring' && e.node === 'n4' && data.kind === 'partition-received' && data.partition === move.partition) received = true;
    });
    await cluster.network.grudge('n1', 'n4');
    const v = await cluster.until(admin.join('n4'));
    for (let i = 0; i < 2_000 && !received; i++) await cluster.runFor(5);
    expect(received).toBe(true);
    expect((await cluster.until(admin.ring('n1'))).next?.since).toBe(v);
    // A coordinator still on ring 1 wrote the key to n1 alone; n1's forward to n4 is dropped.
    const clock = (await dumpOf(cluster, 'n1')).keys[storeKey(undefined, 'k0')]!;
    const ack = await cluster.until(
      cluster.ask<StorageRequest, StorageReply>(storageRef('n1'), (replyTo) => ({ type: 'st-write', reqId: 'stale', partition: move.partition, key, clock, ringVersion: 1, replyTo }), { timeoutMs: 1_000 }),
    );
    expect(ack).toMatchObject({ type: 'st-written', node: 'n1' });
    await cluster.runFor(2_000);
    await cluster.network.heal();
    await cluster.until(admin.settled(v), { timeoutMs: 60_000 });
    await cluster.runFor(3_000);
    expect((await cluster.until(kv.stats('n1'))).storage.forwarded).toBeGreaterThan(0);
    expect((await dumpOf(cluster, 'n4')).keys[key]).toEqual(clock);
    await cluster.stop();
  });
});

describe('one ring per version', () => {
  simIt('a reassignment asked of a node that missed the last commit first takes the newest ring a majority has', 9301, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    await cluster.network.isolate('n2');
    const v = await cluster.until(admin.join('n5', { via: 'n1' }));
    expect(v).toBe(2);
    await cluster.runFor(50);
    // The claimant dies for good; the operator makes n2 claimant (n2 has not heard of v2 yet).
    await cluster.kill('n1');
    await cluster.network.heal();
    const reassigned = await cluster.until(admin.reassignClaimant('n2'));
    expect(reassigned).toBe(3);
    // The join v2 began goes on under the new claimant and finishes.
    const ring = await cluster.until(admin.settled(reassigned, { via: 'n3' }));
    expect(ring.members.map((m) => m.node)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(rings.conflicts()).toEqual([]);
    await cluster.stop();
  });
});

describe('a node without a ring on disk waits for a majority of the ring, not of the cluster', () => {
  simIt('a reassignment answers when a majority of the ring is up, though nodes outside the ring are down', 9601, async (seed) => {
    // Ring n1, n2, n3 (default); n4 and n5 are cluster nodes outside the ring (front ends).
    const { cluster, admin } = await transferCluster({ seed, nodes: 5 });
    await cluster.runFor(1_000);
    await cluster.kill('n1'); // the claimant, gone for good
    await cluster.kill('n4');
    await cluster.kill('n5');
    await cluster.runFor(2_000); // nothing of theirs still on its way
    let outcome = 'pending';
    admin.reassignClaimant('n2', { timeoutMs: 8_000 }).then(
      (v) => (outcome = `committed ${v}`),
      (err: Error) => (outcome = `failed: ${err.name} ${err.message}`),
    );
    await cluster.runFor(9_000);
    // n2 and n3 are 2 of the ring's 3 members: a majority of the ring (nodes outside it have no say).
    expect(outcome).toBe('committed 2');
    await cluster.stop();
  }, 20_000);

  simIt('a claimant restarted empty commits when the whole ring is up, though nodes outside the ring are down', 9602, async (seed) => {
    // Ring n1, n2, n3; n4..n7 serve clients only, and are down.
    const { cluster, admin } = await transferCluster({ seed, nodes: 7 });
    await cluster.runFor(1_000);
    for (const n of ['n4', 'n5', 'n6', 'n7']) await cluster.kill(n);
    await cluster.runFor(2_000);
    await cluster.restartEmpty('n1');
    let outcome = 'pending';
    admin.leave('n3', { via: 'n2', timeoutMs: 8_000 }).then(
      (v) => (outcome = `committed ${v}`),
      (err: Error) => (outcome = `failed: ${err.name} ${err.message}`),
    );
    await cluster.runFor(9_000);
    expect(outcome).toBe('committed 2');
    await cluster.stop();
  }, 20_000);
});

describe('a claimant restarted empty does not answer from its configured ring', () => {
  simIt('a member that left and is asked to join again gets a new version, not "already done" at version 1', 9603, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 20; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const left = await cluster.until(admin.leave('n4'));
    await cluster.until(admin.settled(left));
    await cluster.restartEmpty('n1');
    // n1 starts from the configured ring (version 1, n4 a member) and has not heard a peer yet.
    const joined = await cluster.until(admin.join('n4', { via: 'n1' }));
    expect(joined).toBeGreaterThan(left);
    await cluster.runFor(3_000);
    const ring = await cluster.until(admin.ring('n2'));
    expect(ring.members.map((m) => m.node).concat(ring.next?.members.map((m) => m.node) ?? [])).toContain('n4');
    await cluster.stop();
  }, 20_000);
});

describe('forward hints between two pending replicas', () => {
  simIt('a hint handed to a pending replica (ringVersion 0) is forwarded a bounded number of times', 9605, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 7, ringMembers: ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'], replication: { transferConcurrency: 1, transferBatchKeys: 1, transferRetryMs: 5_000 } });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 200; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const ring = await cluster.until(admin.ring('n1'));
    const begun = beginChange(ring, { kind: 'join', member: { node: 'n7', weight: 4 } }, 'n1');
    let partition = -1;
    for (let p = 0; p < ring.partitionCount && partition < 0; p++) if (pendingReplicas(begun, p, 3).length >= 2) partition = p;
    expect(partition, 'a partition with two pending replicas').toBeGreaterThanOrEqual(0);
    const pending = pendingReplicas(begun, partition, 3);
    let key = '';
    for (let i = 0; key === ''; i++) if (partitionOf(ring, storeKey(undefined, `fresh${i}`)) === partition) key = storeKey(undefined, `fresh${i}`);
    const clock = Object.values((await dumpOf(cluster, 'n1')).keys)[0]!;
    const v = await cluster.until(admin.join('n7', { weight: 4 }));
    await cluster.runFor(50);
    expect((await cluster.until(admin.ring('n1'))).next?.since).toBe(v);
    const before = await Promise.all(cluster.nodes.map(async (n) => (await cluster.until(kv.stats(n))).storage.forwarded));
    // A hinted handoff (ringVersion 0) to the first pending replica.
    await cluster.until(
      cluster.ask<StorageRequest, StorageReply>(storageRef(pending[0]!), (replyTo) => ({ type: 'st-write', reqId: 'h-test', partition, key, clock, ringVersion: 0, replyTo }), { timeoutMs: 1_000 }),
    );
    await cluster.runFor(1_500);
    const after = await Promise.all(cluster.nodes.map(async (n) => (await cluster.until(kv.stats(n))).storage.forwarded));
    const delta = after.reduce((s, x, i) => s + x - before[i]!, 0);
    expect(delta, `pending ${pending.join(',')}; forwarded per node ${after.map((x, i) => x - before[i]!).join(',')}`).toBeLessThanOrEqual(pending.length);
    expect(delta, 'the handoff was forwarded at all').toBeGreaterThan(0);
    await cluster.stop();
  }, 30_000);
});
