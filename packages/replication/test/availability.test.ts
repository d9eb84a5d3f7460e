/**
 * Availability under failure (Dynamo §4.6-4.7), end to end in simulation: sloppy quorum and
 * hinted handoff, read repair, and session guarantees (Terry et al. 1994). Anti-entropy does not
 * run here: whatever reaches a replica got there by a write, a handoff or a read repair.
 */
import { isolate, } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  check,
  createRing,
  formatViolations,
  HistoryRecorder,
  KvClient,
  partitionOf,
  preferenceList,
  storeKey,
  type VersionVector,
} from '../src/index.ts';
import { awaitMembership, awaitSplit, finalState } from './support/workload.ts';
import { cluster5, held, primaries, statsOf, sum } from './support/cluster.ts';


describe('sloppy quorum and hinted handoff', () => {
  simIt("writes during one node's outage reach it after it returns (membership reports it down; no anti-entropy)", 601, async (seed) => {
    const cluster = await cluster5(seed, { gossip: true });
    const kv = new KvClient(cluster, { nodes: ['n1', 'n2', 'n4', 'n5'] });
    await cluster.kill('n3');
    await cluster.runFor(3_000); // membership declares n3 dead everywhere
    const keys = Array.from({ length: 40 }, (_, i) => `outage-${i}`);
    const mine = keys.filter((k) => primaries(cluster, k).includes('n3'));
    expect(mine.length).toBeGreaterThan(5);
    for (const key of keys) {
      const put = await cluster.until(kv.put(key, `v-${key}`));
      // A write whose primaries include n3 also went to a fallback, with a hint naming n3.
      expect(put.replicas).not.toContain('n3');
    }
    // A put answers at W = 2; the fallback's copy of the last one may still be on its way.
    await cluster.runFor(200);
    const before = await statsOf(cluster, kv, ['n1', 'n2', 'n4', 'n5']);
    expect(sum(before, (s) => s.storage.hintsByOwner['n3'] ?? 0)).toBeGreaterThanOrEqual(mine.length);
    for (const key of mine) expect(await held(cluster, 'n3', key).catch(() => [])).toEqual([]);

    await cluster.restart('n3');
    await cluster.runFor(5_000);
    for (const key of mine) expect(await held(cluster, 'n3', key)).toEqual([`v-${key}`]);
    const after = await statsOf(cluster, kv);
    expect(sum(after, (s) => s.storage.hints)).toBe(0);
    expect(sum(after, (s) => s.storage.handedOff)).toBeGreaterThanOrEqual(mine.length);
    await cluster.stop();
  });

  simIt('without membership, replicas silent past fallbackAfterMs get fallbacks; strict quorum cannot reach W; hints are handed over once the primaries answer', 602, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'quiet');
    const rest = cluster.nodes.filter((n) => n !== p2 && n !== p3);
    await cluster.network.partition({ shape: 'groups', groups: [[p2!], [p3!], rest] });
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const strict = await cluster.until(kv.put('quiet', 'strict', { sloppy: false }).catch((e: unknown) => e));
    expect(strict).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'unknown', replicas: [p1] });
    const put = await cluster.until(kv.put('quiet', 'sloppy'));
    expect(put.replicas[0]).toBe(p1);
    expect(put.hinted.length).toBeGreaterThanOrEqual(1);
    for (const h of put.hinted) expect([p2, p3]).not.toContain(h);
    expect(put.values).toEqual(expect.arrayContaining(['sloppy']));
    const coordinator = (await cluster.until(kv.stats(p1!))).coordinator;
    expect(coordinator.lateReplicas).toBeGreaterThanOrEqual(2);

    await cluster.network.heal();
    await cluster.runFor(3_000);
    for (const p of [p2!, p3!]) expect(await held(cluster, p, 'quiet')).toContain('sloppy');
    expect(sum(await statsOf(cluster, kv), (s) => s.storage.hints)).toBe(0);
    await cluster.stop();
  });

  simIt('sloppy quorum switched off for one bucket: its writes need W primaries, other buckets still take fallbacks', 607, async (seed) => {
    const cluster = await cluster5(seed, { gossip: true, replication: { buckets: { audit: { sloppy: false } } } });
    const ring = createRing(cluster.nodes.map((node) => ({ node, weight: 1 })));
    const owners = (bucket: string, key: string): string[] => preferenceList(ring, partitionOf(ring, storeKey(bucket, key)), 3);
    // A key of each bucket with the same three primaries, n1 first; then the other two are killed.
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
    const auditKey = keys.find((k) => owners('audit', k)[0] === 'n1')!;
    const [, q2, q3] = owners('audit', auditKey);
    const cartsKey = keys.find((k) => owners('carts', k)[0] === 'n1' && [...owners('carts', k)].sort().join() === [...owners('audit', auditKey)].sort().join())!;
    expect(cartsKey).toBeDefined();
    await cluster.kill(q2!);
    await cluster.kill(q3!);
    await awaitSplit(cluster, [cluster.nodes.filter((n) => n !== q2 && n !== q3)]);
    const kv = new KvClient(cluster, { nodes: ['n1'] });
    expect(await cluster.until(kv.put(auditKey, 'a', { bucket: 'audit' }).catch((e: unknown) => e))).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'failed' });
    expect((await cluster.until(kv.put(cartsKey, 'c', { bucket: 'carts' }))).hinted.length).toBeGreaterThanOrEqual(1);
    // A request may still ask for sloppy quorum in the strict bucket.
    expect((await cluster.until(kv.put(auditKey, 'a2', { bucket: 'audit', sloppy: true }))).hinted.length).toBeGreaterThanOrEqual(1);
    await cluster.stop();
  });

  simIt('a write W already acknowledged still reaches a silent primary through a hint', 603, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, , p3] = primaries(cluster, 'late');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const put = await cluster.until(kv.put('late', 'v'));
    expect(put.replicas).not.toContain(p3);
    await cluster.runFor(1_000); // past fallbackAfterMs: a fallback holds the write for p3
    const hinted = await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3));
    expect(sum(hinted, (s) => s.storage.hintsByOwner[p3!] ?? 0)).toBe(1);
    await cluster.network.heal();
    await cluster.runFor(3_000);
    expect(await held(cluster, p3!, 'late')).toEqual(['v']);
    await cluster.stop();
  });

  simIt('hints survive a kill of the node holding them, and expire after hintTtlMs', 604, async (seed) => {
    const cluster = await cluster5(seed, { replication: { hintTtlMs: 20_000 } });
    const [p1, , p3] = primaries(cluster, 'kept');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    await cluster.until(kv.put('kept', 'v'));
    await cluster.runFor(1_000);
    const holders = (await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3))).filter((s) => (s.storage.hintsByOwner[p3!] ?? 0) > 0);
    expect(holders).toHaveLength(1);
    const holder = holders[0]!.storage.node;
    await cluster.kill(holder);
    await cluster.restart(holder);
    await cluster.runFor(500);
    expect((await cluster.until(kv.stats(holder))).storage.hintsByOwner[p3!]).toBe(1);
    await cluster.network.heal();
    await cluster.runFor(3_000);
    expect(await held(cluster, p3!, 'kept')).toEqual(['v']);

    // A primary away longer than hintTtlMs: the hint expires (counted) and is no longer handed over;
    // its data moves into the holder's own store, where the holder is no replica of the key: once
    // the primary is reachable, the stray sweep (ring-keeper.ts) gives it to the key's replicas
    // and drops it.
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const second = await cluster.until(kv.put('kept', 'v2', { context: (await cluster.until(kv.get('kept'))).context }));
    expect(second.values).toEqual(['v2']);
    await cluster.runFor(25_000);
    const stats = await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3));
    expect(sum(stats, (s) => s.storage.hints)).toBe(0);
    expect(sum(stats, (s) => s.storage.expired)).toBe(1);
    await cluster.network.heal();
    await cluster.runFor(3_000);
    expect(await held(cluster, p3!, 'kept')).toEqual(['v2']);
    if (!primaries(cluster, 'kept').includes(holder)) expect(await held(cluster, holder, 'kept')).toEqual([]);
    await cluster.stop();
  });

  simIt('with no primary of a key reachable, the first reachable fallback coordinates and mints under its hint id', 605, async (seed) => {
    const cluster = await cluster5(seed, { gossip: true });
    const [p1, p2, p3] = primaries(cluster, 'orphan');
    const others = cluster.nodes.filter((n) => ![p1, p2, p3].includes(n));
    await cluster.network.partition({ shape: 'groups', groups: [[p1!, p2!, p3!], others] });
    await awaitSplit(cluster, [[p1!, p2!, p3!], others]);
    const kv = new KvClient(cluster, { nodes: others });
    const put = await cluster.until(kv.put('orphan', 'v'));
    expect(put.replicas.every((r) => others.includes(r))).toBe(true);
    expect(put.hinted).toEqual(put.replicas);
    expect(put.dot.id).toMatch(new RegExp(`^(${others.join('|')})@[0-9a-f]+~[0-9a-f]{8}$`));
    const got = await cluster.until(kv.get('orphan'));
    expect(got.values).toEqual(['v']);
    // Only fallbacks answered: the read says so.
    expect(got.fallbacks).toEqual(got.replicas);
    // Two fallbacks stand in for two of the three primaries; the third is fixed by a read.
    const owners = Object.keys(Object.assign({}, ...(await statsOf(cluster, kv, others)).map((s) => s.storage.hintsByOwner)));
    expect(owners.sort()).toEqual([p1!, p2!, p3!].slice(0, others.length).sort());
    await cluster.network.heal();
    await awaitMembership(cluster);
    await cluster.runFor(3_000);
    for (const p of owners) expect(await held(cluster, p, 'orphan')).toEqual(['v']);
    expect((await cluster.until(kv.get('orphan', { r: 3 }))).values).toEqual(['v']);
    await cluster.runFor(500);
    for (const p of [p1!, p2!, p3!]) expect(await held(cluster, p, 'orphan')).toEqual(['v']);
    await cluster.stop();
  });

  simIt('a partition leaving 2 of 5 nodes: both sides accept writes and reads for every key; after the heal, hints and reads converge them with no violation', 606, async (seed) => {
    const cluster = await cluster5(seed, { gossip: true });
    const minority = ['n1', 'n2'];
    const majority = ['n3', 'n4', 'n5'];
    const history = new HistoryRecorder();
    const a = new KvClient(cluster, { name: 'minority', nodes: minority, recorder: history });
    const b = new KvClient(cluster, { name: 'majority', nodes: majority, recorder: history });
    const keys = Array.from({ length: 24 }, (_, i) => `split-${i}`);
    const seen = new Map<string, VersionVector>();
    for (const key of keys) seen.set(key, (await cluster.until(a.put(key, `before-${key}`))).context);

    await cluster.network.partition({ shape: 'groups', groups: [minority, majority] });
    await awaitSplit(cluster, [minority, majority]); // each side's membership declares the other dead
    for (const key of keys) {
      const context = seen.get(key)!;
      const [fromA, fromB] = await cluster.until(Promise.all([a.put(key, `a-${key}`, { context }), b.put(key, `b-${key}`, { context })]));
      for (const r of fromA.replicas) expect(minority).toContain(r);
      for (const r of fromB.replicas) expect(majority).toContain(r);
      expect((await cluster.until(a.get(key))).values).toContain(`a-${key}`);
      expect((await cluster.until(b.get(key))).values).toContain(`b-${key}`);
    }

    await cluster.network.heal();
    await awaitMembership(cluster); // membership merges; hints are handed over when it does
    await cluster.runFor(3_000);
    for (const key of keys) {
      const got = await cluster.until(b.get(key, { r: 3 }));
      // Concurrent writes on the two sides are siblings; the write before the partition was superseded by both.
      expect([...got.values].sort()).toEqual([`a-${key}`, `b-${key}`]);
    }
    await cluster.runFor(2_000); // read repairs land
    for (const key of keys) {
      for (const p of primaries(cluster, key)) expect([...(await held(cluster, p, key))].sort()).toEqual([`a-${key}`, `b-${key}`]);
    }
    const result = check({ history: history.entries(), final: await finalState(cluster) });
    expect(result.violations, formatViolations(result)).toEqual([]);
    expect(result.stats.byOutcome.failed + result.stats.byOutcome.unknown).toBe(0);
    await cluster.stop();
  });
});

describe('read repair', () => {
  simIt('a stale replica is fixed by a read (also from a reply after R), and the repair is counted', 611, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'stale');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    // Strict quorum: no hint, so only a read can fix p3.
    await cluster.until(kv.put('stale', 'v', { sloppy: false }));
    await cluster.network.heal();
    await cluster.runFor(1_000);
    expect(await held(cluster, p3!, 'stale')).toEqual([]);
    const got = await cluster.until(kv.get('stale', { sloppy: false }));
    expect(got.values).toEqual(['v']);
    expect(got.fallbacks).toEqual([]);
    await cluster.runFor(500);
    expect(await held(cluster, p3!, 'stale')).toEqual(['v']);
    expect((await cluster.until(kv.stats(p1!))).coordinator.readRepairs).toBe(1);
    // Up-to-date replicas are left alone.
    await cluster.until(kv.get('stale', { sloppy: false }));
    await cluster.runFor(500);
    expect((await cluster.until(kv.stats(p1!))).coordinator.readRepairs).toBe(1);
    expect(await held(cluster, p2!, 'stale')).toEqual(['v']);
    await cluster.stop();
  });
});

describe('session guarantees', () => {
  simIt('a session read reads further replicas to reach its context, and fails SESSION_UNAVAILABLE only when none reachable has it', 621, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'mine');
    const [x, y] = cluster.nodes.filter((n) => ![p1, p2, p3].includes(n));
    const session = new KvClient(cluster, { name: 'session', session: true });
    const plain = new KvClient(cluster, { name: 'plain' });

    // p3 writes with p1 and p2 cut off: fallbacks x and y take their copies as hints.
    await cluster.network.partition({ shape: 'groups', groups: [[p1!, p2!], [p3!, x!, y!]] });
    const put = await cluster.until(session.put('mine', 'v', { node: p3! }));
    await cluster.runFor(1_000);
    expect(session.sessionContext('mine')).toEqual(put.context);

    // From p1's side no replica has the session's version: a typed error, not a stale answer.
    const failed = await cluster.until(session.get('mine', { node: p1! }).catch((e: unknown) => e));
    expect(failed).toMatchObject({ code: 'SESSION_UNAVAILABLE', outcome: 'failed' });
    expect((await cluster.until(plain.get('mine', { node: p1! }))).values).toEqual([]);

    // Now p3 is alone: p1 and p2 (stale) answer first; the session read waits, then asks x and y.
    await cluster.network.partition({ shape: 'groups', groups: [[p3!], [p1!, p2!, x!, y!]] });
    const stale = await cluster.until(plain.get('mine', { node: p1! }));
    expect(stale.values).toEqual([]);
    const extendedBefore = (await cluster.until(session.stats(p1!))).coordinator.sessionReadsExtended;
    const fresh = await cluster.until(session.get('mine', { node: p1! }));
    expect(fresh.values).toEqual(['v']);
    expect((await cluster.until(session.stats(p1!))).coordinator.sessionReadsExtended).toBe(extendedBefore + 1);
    await cluster.network.heal();
    expect((await cluster.until(session.get('mine', { node: p1! }))).values).toEqual(['v']);
    await cluster.stop();
  });

  simIt('a session with maxSessionKeys forgets its least recently used key first', 622, async (seed) => {
    const cluster = await cluster5(seed);
    expect(() => new KvClient(cluster, { session: true, maxSessionKeys: 0 })).toThrow(/maxSessionKeys/);
    const session = new KvClient(cluster, { name: 'bounded', session: true, maxSessionKeys: 2 });
    await cluster.until(session.put('a', 1));
    await cluster.until(session.put('b', 2));
    await cluster.until(session.get('a')); // a is now the most recently used
    await cluster.until(session.put('c', 3));
    expect(session.sessionContext('b')).toEqual({});
    expect(Object.keys(session.sessionContext('a')).length).toBeGreaterThan(0);
    expect(Object.keys(session.sessionContext('c')).length).toBeGreaterThan(0);
    await cluster.stop();
  });
});
