/**
 * The operator's side of ring changes: progress as events and counters, refused changes, bad
 * input from other nodes, and a claimant gone for good (explicit reassignment, force-remove).
 * Simulation; seeds printed on failure.
 */
import type { ActorRef, RuntimeEvent } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { check, formatViolations, KvClient, type RingMessage, ringRef, type StorageReply } from '../src/index.ts';
import { finalState } from './support/workload.ts';
import { census, notOk, quiesce, steadyLoad, transferCluster } from './support/transfer.ts';

describe('progress of a ring change', () => {
  simIt('events tell the change committed, each partition received (keys, bytes, duration) and the change finished; counters agree', 731, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 4 });
    const events: Record<string, unknown>[] = [];
    cluster.events.on('custom', (e) => {
      if (e.topic === 'starling.ring') events.push({ node: e.node, ...(e.data as Record<string, unknown>) });
    });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 100; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const v = await cluster.until(admin.join('n4'));
    await cluster.until(admin.settled(v));
    await cluster.runFor(1_000);
    expect(events.filter((e) => e.kind === 'change-committed')).toEqual([expect.objectContaining({ node: 'n1', version: v, change: { kind: 'join', member: { node: 'n4', weight: 1 } } })]);
    const received = events.filter((e) => e.kind === 'partition-received' && e.node === 'n4');
    const status = await cluster.until(admin.status('n4'));
    expect(received.length).toBe(status.partitionsReceived);
    expect(received.reduce((a, e) => a + (e.keys as number), 0)).toBe(status.keysReceived);
    expect(received.reduce((a, e) => a + (e.bytes as number), 0)).toBe(status.bytesReceived);
    expect(status.keysReceived).toBeGreaterThan(0);
    // Every key n4 now replicates came in a batch (no writes were made during the move).
    const where = await census(cluster, await cluster.until(admin.ring('n4')));
    expect(where.missing).toEqual([]);
    expect(where.leftBehind).toEqual([]);
    const finished = events.filter((e) => e.kind === 'change-finished');
    expect(new Set(finished.map((e) => e.node))).toEqual(new Set(['n1', 'n2', 'n3', 'n4']));
    expect(status.lastChangeMs).toBeGreaterThan(0);
    expect(status).toMatchObject({ isChanging: false, partitionsPending: 0, partitionsActive: 0, ringVersion: v + 1 });
    // What the senders sent is what n4 received.
    let sent = 0;
    let dropped = 0;
    for (const n of ['n1', 'n2', 'n3']) {
      const s = await cluster.until(admin.status(n));
      sent += s.keysSent;
      dropped += s.keysDropped;
    }
    expect(sent).toBe(status.keysReceived);
    expect(dropped).toBe(status.keysReceived);
    expect(rings.adopted()).toBeGreaterThan(0);
    expect(rings.conflicts()).toEqual([]);
    await cluster.stop();
  });
});

describe('refused changes', () => {
  simIt('a leave of a non-member and a bad weight are refused with the ring’s code; a join of a member is answered, not applied twice', 732, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 4 });
    await expect(cluster.until(admin.leave('nobody'))).rejects.toMatchObject({ name: 'RingError', code: 'UNKNOWN_MEMBER' });
    await expect(cluster.until(admin.join('n4', { weight: 0 }))).rejects.toMatchObject({ code: 'INVALID_MEMBER' });
    expect((await cluster.until(admin.ring('n1'))).version).toBe(1);
    expect(await cluster.until(admin.join('n2'))).toBe(1);
    const v = await cluster.until(admin.join('n4'));
    // While n4 is joining (it has heard of the change), the joiner cannot be made claimant.
    for (let i = 0; i < 100 && (await cluster.until(admin.ring('n4'))).next === undefined; i++) await cluster.runFor(10);
    await expect(cluster.until(admin.reassignClaimant('n4'))).rejects.toMatchObject({ code: 'INVALID_MEMBER' });
    const ring = await cluster.until(admin.settled(v));
    expect(ring.members.map((m) => m.node)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(rings.adopted()).toBeGreaterThan(0);
    expect(rings.conflicts()).toEqual([]);
    await cluster.stop();
  });
});

describe('bad input to the ring keeper', () => {
  simIt('malformed messages, forged batches and forged readiness are refused and counted; nothing is merged; the node keeps serving', 733, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 4 });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 50; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const keeper = ringRef('n4') as ActorRef<unknown>;
    for (const bad of [null, 42, 'ring-get', { type: 'ring-get' }, { type: 'ring-pull', reqId: 1, partition: 0, after: null }, { type: 'ring-state', ring: { version: 99 } }, { type: 'nonsense' }, { type: 'ring-commit', id: 'x', change: { kind: 'join' }, from: 'n4', hops: 0 }]) {
      cluster.tell(keeper, bad);
    }
    await cluster.runFor(100);
    expect((await cluster.until(admin.status('n4'))).malformedMessages).toBe(8);
    // A change begins; forged batches and readiness cannot finish it or plant data.
    const v = await cluster.until(admin.join('n4'));
    cluster.tell(ringRef('n4') as ActorRef<RingMessage>, { type: 'ring-batch', reqId: 'forged', partition: 0, from: 'n1', data: new Uint8Array([1, 2, 3]), lastKey: null, isLast: true });
    cluster.tell(ringRef('n1') as ActorRef<RingMessage>, { type: 'ring-ready', since: v + 5, node: 'n4' });
    cluster.tell(ringRef('n1') as ActorRef<RingMessage>, { type: 'st-written', reqId: 'sforged.3.1', node: 'n2' } as Extract<StorageReply, { type: 'st-written' }>);
    const ring = await cluster.until(admin.settled(v));
    await cluster.runFor(500);
    const where = await census(cluster, ring);
    expect(where.missing).toEqual([]);
    expect(where.leftBehind).toEqual([]);
    for (let i = 0; i < 50; i++) expect((await cluster.until(kv.get(`k${i}`))).values).toEqual([`v${i}`]);
    expect(rings.adopted()).toBeGreaterThan(0);
    expect(rings.conflicts()).toEqual([]);
    await cluster.stop();
  });
});

describe('a claimant gone for good', () => {
  simIt('changes wait; the operator makes another node claimant and force-removes the old one; data is rebuilt from the other replicas', 734, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    const load = steadyLoad(cluster, { seed, keys: 200, via: ['n2', 'n3', 'n4'] });
    await cluster.runFor(3_000);
    await cluster.kill('n1');
    const asked = admin.join('n5', { via: 'n2', timeoutMs: 120_000 });
    let answered = false;
    void asked.then(() => (answered = true));
    await cluster.runFor(5_000);
    expect(answered).toBe(false);
    // The operator's call: n1 is gone for good.
    const reassigned = await cluster.until(admin.reassignClaimant('n2'));
    expect(reassigned).toBe(2);
    const joined = await cluster.until(asked);
    await cluster.until(admin.settled(joined, { via: 'n2' }));
    const removed = await cluster.until(admin.leave('n1', { via: 'n3', force: true }));
    const ring = await cluster.until(admin.settled(removed, { via: 'n2' }));
    expect(ring.members.map((m) => m.node)).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(ring.claimant).toBe('n2');
    await load.stop();
    const read = new KvClient(cluster, { nodes: ['n2', 'n3', 'n4', 'n5'] });
    for (let k = 0; k < 200; k++) await cluster.until(read.get(`k${k}`));
    const final = await finalState(cluster, 3_000);
    await quiesce(cluster);
    // n1's store is not counted: it is down for good (finalState restarted it only to read it).
    const where = await census(cluster, ring);
    expect(where.missing).toEqual([]);
    expect(where.leftBehind.filter((l) => !l.endsWith('on n1'))).toEqual([]);
    expect(notOk(load.history).filter((l) => !l.includes('ASK_TIMEOUT') && !l.includes('unknown'))).toEqual([]);
    const result = check({ history: load.history.entries(), final });
    expect(result.violations, formatViolations(result)).toEqual([]);
    expect(rings.adopted()).toBeGreaterThan(0);
    expect(rings.conflicts()).toEqual([]);
    await cluster.stop();
  });
});

export type { RuntimeEvent };

describe('a claimant restarted empty', () => {
  simIt('hears the cluster’s ring before it commits: a join asked at once gets a new version, not one the cluster already has', 736, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 50; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    const left = await cluster.until(admin.leave('n4'));
    await cluster.until(admin.settled(left));
    // The claimant loses its disk (its ring, the ids it committed) and is asked for a change at once.
    await cluster.restartEmpty('n1');
    const joined = await cluster.until(admin.join('n5', { via: 'n1' }));
    expect(joined).toBe(left + 2);
    const ring = await cluster.until(admin.settled(joined, { via: 'n2' }));
    expect(ring.members.map((m) => m.node)).toEqual(['n1', 'n2', 'n3', 'n5']);
    await cluster.runFor(2_000);
    expect(rings.conflicts()).toEqual([]);
    // n1's own copies are gone; the other replicas still serve every key.
    for (let i = 0; i < 50; i++) expect((await cluster.until(kv.get(`k${i}`))).values).toEqual([`v${i}`]);
    await cluster.stop();
  });
});

describe('reassignment is the operator’s responsibility', () => {
  simIt('a claimant reassigned while the old one still runs (operator error) can make two rings of one version: the ring check sees it, and the nodes converge on one after the heal', 735, async (seed) => {
    const { cluster, admin, rings } = await transferCluster({ seed, nodes: 5, ringMembers: ['n1', 'n2', 'n3', 'n4'] });
    await cluster.runFor(1_000); // n1 has heard its peers' rings
    await cluster.network.partition({ shape: 'groups', groups: [['n1'], ['n2', 'n3', 'n4', 'n5']] });
    expect(await cluster.until(admin.reassignClaimant('n2'))).toBe(2);
    // n1 does not know: a join asked of it commits its own version 2.
    expect(await cluster.until(admin.join('n5', { via: 'n1' }))).toBe(2);
    await cluster.runFor(1_000);
    expect(rings.conflicts()).toHaveLength(1);
    expect(rings.conflicts()[0]).toMatch(/^v2: /);
    // After the heal every node converges on one of the two (what only the other said is lost:
    // the operator asks again), and keeps serving.
    await cluster.network.heal();
    await cluster.runFor(5_000);
    const held = new Set<string>();
    for (const node of cluster.nodes) held.add(JSON.stringify(await cluster.until(admin.ring(node))));
    expect(held.size).toBe(1);
    await cluster.stop();
  });
});
