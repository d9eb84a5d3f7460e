/**
 * Robustness of the store's actors: malformed replies, restarts of a coordinator or of the
 * claimant, ambiguous names, de-duplication with reused reply addresses, and deadlines. Each began
 * as a bug an independent review found (docs/decisions.md #41-43).
 */
import { type ActorRef, isolate, selectActor, type SimulationCluster, startCluster } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  coordinatorRef,
  createRing,
  KvClient,
  type KvRequest,
  leaveRing,
  partitionOf,
  preferenceList,
  type PutReply,
  type Ring,
  type RingChangeReply,
  type RingMessage,
  ringRef,
  storeKey,
  useReplication,
} from '../src/index.ts';

async function kvCluster(seed: number, nodes = 5): Promise<SimulationCluster> {
  return startCluster({ runtime: 'simulation', seed, nodes, network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } }, plugins: [useReplication()] });
}

function primaries(ring: Ring, key: string, n = 3): string[] {
  return preferenceList(ring, partitionOf(ring, storeKey(undefined, key)), n);
}

async function ringAt(cluster: SimulationCluster, node: string): Promise<Ring> {
  const reply = await cluster.until(cluster.ask<RingMessage, { type: 'ring'; ring: Ring }>(ringRef(node), (replyTo) => ({ type: 'ring-get', replyTo }), { timeoutMs: 1_000 }));
  return reply.ring;
}

/** Crashes `node`'s coordinator with a st-read-result whose clock is malformed (its reqId learnt from a dropped st-read). */
async function crashCoordinator(cluster: SimulationCluster, node: string, key: string, ring: Ring): Promise<string[]> {
  const [, p2] = primaries(ring, key).filter((n) => n !== node);
  let reqId: string | undefined;
  cluster.events.on('dead-letter', (e) => {
    const m = e.msg as { type?: string; reqId?: string };
    if (m?.type === 'st-read' && e.to.node === p2) reqId = m.reqId;
  });
  const failures: string[] = [];
  cluster.events.on('actor-failed', (e) => failures.push(`${e.node}${e.ref.path}`));
  await cluster.network.partition(isolate(cluster.nodes, p2!));
  const kv = new KvClient(cluster, { nodes: [node] });
  const pending = kv.get(key, { r: 3, timeoutMs: 1_000 }).catch((e: unknown) => e);
  await cluster.runUntil(() => reqId !== undefined, { timeoutMs: 500 });
  expect(reqId).toBeDefined();
  cluster.tell(selectActor<unknown>(node, '/system/coordinator'), { type: 'st-read-result', reqId, node: p2, clock: { entries: 'garbage', anonymous: 7 } });
  await cluster.runFor(50);
  await cluster.network.heal();
  await cluster.until(pending);
  return failures;
}

describe('the store under restarts and odd input', () => {
  simIt('a malformed st-read-result from a replica is dropped, not a coordinator crash', 101, async (seed) => {
    const cluster = await kvCluster(seed);
    const ring = await ringAt(cluster, 'n1');
    const key = 'crash-me';
    const coordinator = primaries(ring, key)[0]!;
    const failures = await crashCoordinator(cluster, coordinator, key, ring);
    expect(failures).toEqual([]);
    await cluster.stop();
  });

  simIt('a coordinator restarted alone keeps routing by the newest ring, not the initial one', 102, async (seed) => {
    const cluster = await kvCluster(seed);
    const v1 = await ringAt(cluster, 'n1');
    const v2 = leaveRing(v1, 'n5', 'n1');
    // A key whose v1 primaries include n5 and n2 (the coordinator we will crash).
    let key = '';
    for (let i = 0; ; i++) {
      const k = `k${i}`;
      const p1 = primaries(v1, k);
      if (p1.includes('n5') && p1.includes('n2') && primaries(v2, k).includes('n2')) {
        key = k;
        break;
      }
    }
    const reply = await cluster.until(
      cluster.ask<RingMessage, RingChangeReply>(ringRef('n1'), (replyTo) => ({ type: 'ring-change', change: { kind: 'leave', node: 'n5' }, replyTo }), { timeoutMs: 1_000 }),
    );
    // Version 2 begins the leave; the claimant commits version 3 once n5's partitions moved.
    expect(reply).toMatchObject({ type: 'ring-committed', version: 2 });
    await cluster.runFor(20_000);
    expect((await ringAt(cluster, 'n2')).version).toBe(3);
    // Crash n2's coordinator (any crash will do; this one is finding 1).
    const crashKey = (() => {
      for (let i = 0; ; i++) if (primaries(v2, `c${i}`).includes('n2')) return `c${i}`;
    })();
    await crashCoordinator(cluster, 'n2', crashKey, v2);
    const kv = new KvClient(cluster, { nodes: ['n2'] });
    const put = await cluster.until(kv.put(key, 'x', { w: 3 }));
    // n5 left the ring at version 2: it is not a replica any more.
    expect(put.replicas).not.toContain('n5');
    expect(put.replicas.every((r) => primaries(v2, key).includes(r))).toBe(true);
    await cluster.stop();
  });

  simIt('a committed ring survives a restart of the claimant: no two rings of one version', 103, async (seed) => {
    const cluster = await kvCluster(seed);
    const leave5 = await cluster.until(
      cluster.ask<RingMessage, RingChangeReply>(ringRef('n1'), (replyTo) => ({ type: 'ring-change', change: { kind: 'leave', node: 'n5' }, replyTo }), { timeoutMs: 1_000 }),
    );
    expect(leave5).toMatchObject({ type: 'ring-committed', version: 2 });
    await cluster.runFor(5_000); // spread to some nodes
    await cluster.kill('n1');
    await cluster.restart('n1');
    // A second change asked right after the claimant came back.
    const leave4 = await cluster.until(
      cluster.ask<RingMessage, RingChangeReply>(ringRef('n1'), (replyTo) => ({ type: 'ring-change', change: { kind: 'leave', node: 'n4' }, replyTo }), { timeoutMs: 1_000 }),
    );
    await cluster.runFor(30_000);
    const rings = await Promise.all(['n1', 'n2', 'n3'].map((n) => ringAt(cluster, n)));
    const summary = rings.map((r) => `${r.version}:${r.members.map((m) => m.node).join(',')}`);
    // The committed leave of n5 (versions 2 and 3) is never undone, the second change gets new
    // versions (4 begins it, 5 ends it), and all agree.
    expect(summary).toEqual(['5:n1,n2,n3', '5:n1,n2,n3', '5:n1,n2,n3']);
    expect(leave4).toMatchObject({ type: 'ring-committed', version: 4 });
    await cluster.stop();
  });

  simIt('different (bucket, key) pairs are different objects: a bucket name with "/" (which would make "a/b"+"c" the same as "a"+"b/c") is refused', 104, async (seed) => {
    const cluster = await kvCluster(seed);
    const kv = new KvClient(cluster);
    await expect(cluster.until(kv.put('c', 'secret', { bucket: 'a/b' }))).rejects.toMatchObject({ code: 'INVALID_REQUEST', outcome: 'failed' });
    const other = await cluster.until(kv.get('b/c', { bucket: 'a' }));
    expect(other.values).toEqual([]);
    await cluster.stop();
  });

  simIt("a put returns the siblings its context covers, so the next put on that context replaces only what its client was shown", 105, async (seed) => {
    const cluster = await kvCluster(seed);
    const ring = await ringAt(cluster, 'n1');
    const [coordinator] = primaries(ring, 'doc');
    const alice = new KvClient(cluster, { name: 'alice', nodes: [coordinator!] });
    const bob = new KvClient(cluster, { name: 'bob', nodes: [coordinator!] });
    const base = await cluster.until(alice.put('doc', 'v0'));
    await cluster.until(alice.put('doc', 'alice', { context: base.context }));
    // Bob writes concurrently (from v0): his reply shows him Alice's sibling, which its context covers.
    const b1 = await cluster.until(bob.put('doc', 'bob', { context: base.context }));
    expect([...b1.values].sort()).toEqual(['alice', 'bob']);
    // Bob writes again on top of what he was shown: he replaces both, knowingly.
    await cluster.until(bob.put('doc', 'bob2', { context: b1.context }));
    const got = await cluster.until(alice.get('doc'));
    expect(got.values).toEqual(['bob2']);
    await cluster.stop();
  });

  simIt('two writes from one actor (replyTo = its own ref) are both coordinated', 106, async (seed) => {
    const cluster = await kvCluster(seed);
    const ring = await ringAt(cluster, 'n1');
    // A long-lived reply address, as an actor using its own `ctx.self` would send.
    const replyTo = { node: 'n1', nodeUid: cluster.nodeUid('n1')!, path: '/user/some-client', uid: 1 } as ActorRef<PutReply>;
    const coordinator = primaries(ring, 'a1')[0]!;
    cluster.tell(coordinatorRef(coordinator), { type: 'kv-put', key: 'a1', value: 'first', replyTo } satisfies KvRequest);
    await cluster.runFor(500);
    const coordinator2 = primaries(ring, 'a2')[0]!;
    expect(coordinator2).toBeDefined();
    // Same coordinator, another key: to hit the same de-dup table use a key with the same first primary.
    let key2 = 'a2';
    for (let i = 0; primaries(ring, key2)[0] !== coordinator; i++) key2 = `a2-${i}`;
    cluster.tell(coordinatorRef(coordinator), { type: 'kv-put', key: key2, value: 'second', replyTo } satisfies KvRequest);
    await cluster.runFor(500);
    const kv = new KvClient(cluster);
    expect((await cluster.until(kv.get('a1'))).values).toEqual(['first']);
    expect((await cluster.until(kv.get(key2))).values).toEqual(['second']);
    await cluster.stop();
  });

  simIt("the client waits for the coordinator's own (bucket/default) deadline before calling a request unanswered", 107, async (seed) => {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 5,
      network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
      // Strict quorum: under sloppy quorum a fallback would take the write in time.
      plugins: [useReplication({ defaults: { timeoutMs: 5_000, sloppy: false } })],
    });
    const ring = createRing(cluster.nodes.map((node) => ({ node, weight: 1 })));
    const [p1, p2, p3] = primaries(ring, 'slow');
    await cluster.network.partition(isolate(cluster.nodes, p2!));
    await cluster.network.grudge(p1!, p3!);
    await cluster.network.grudge(p3!, p1!);
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const put = await cluster.until(kv.put('slow', 'v').catch((e: unknown) => e));
    // Expected: the coordinator's answer (QUORUM_NOT_MET naming [p1]); actual: the client gave up at 3 s.
    expect(put).toMatchObject({ code: 'QUORUM_NOT_MET', outcome: 'unknown', replicas: [p1] });
    await cluster.stop();
  });
});

describe('options and messages of sloppy quorum, hinted handoff and sessions', () => {
  const BAD_OPTIONS: readonly { readonly label: string; readonly options: unknown; readonly names: RegExp }[] = [
    { label: "defaults.sloppy 'yes' (not a boolean)", options: { defaults: { sloppy: 'yes' } }, names: /sloppy/ },
    { label: 'hintTtlMs 0', options: { hintTtlMs: 0 }, names: /hintTtlMs/ },
    { label: 'handoffBatchSize 1.5 (not an integer)', options: { handoffBatchSize: 1.5 }, names: /handoffBatchSize/ },
    { label: 'defaults.fallbackAfterMs -1', options: { defaults: { fallbackAfterMs: -1 } }, names: /fallbackAfterMs/ },
  ];
  BAD_OPTIONS.forEach(({ label, options, names }, i) => {
    simIt(`useReplication with ${label} makes startCluster reject with INVALID_CONFIG naming the option`, 301 + i, async (seed) => {
      const start = startCluster({ runtime: 'simulation', seed, nodes: 3, plugins: [useReplication(options as Parameters<typeof useReplication>[0])] });
      await expect(start).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
      await expect(start).rejects.toThrow(names);
    });
  });

  simIt('the same options with sensible values start a cluster that serves', 310, async (seed) => {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 3,
      plugins: [useReplication({ defaults: { sloppy: false, fallbackAfterMs: 10 }, hintTtlMs: 1, handoffBatchSize: 2 })],
    });
    const kv = new KvClient(cluster);
    await cluster.until(kv.put('k', 'v'));
    expect((await cluster.until(kv.get('k'))).values).toEqual(['v']);
    await cluster.stop();
  });

  simIt("a kv-get with a malformed atLeast is dropped as malformed (no reply, not counted), and the node keeps serving", 311, async (seed) => {
    const cluster = await kvCluster(seed);
    const failures: string[] = [];
    cluster.events.on('actor-failed', (e) => failures.push(`${e.node}${e.ref.path}`));
    const kv = new KvClient(cluster, { nodes: ['n2'] });
    const put = await cluster.until(kv.put('k', 'v'));
    const getsBefore = (await cluster.until(kv.stats('n2'))).coordinator.gets;
    const getWith = (atLeast: unknown): Promise<unknown> =>
      cluster.until(
        cluster.ask<unknown, unknown>(selectActor<unknown>('n2', '/system/coordinator'), (replyTo) => ({ type: 'kv-get', key: 'k', atLeast, replyTo }), { timeoutMs: 3_000 }).catch((e: unknown) => e),
      );
    for (const atLeast of [{ a: -1 }, 'n1@x:1', { a: 1.5 }, [3], null, { a: '1' }]) {
      expect(await getWith(atLeast), `atLeast ${JSON.stringify(atLeast)}`).toMatchObject({ code: 'ASK_TIMEOUT' });
    }
    expect(failures).toEqual([]);
    expect((await cluster.until(kv.stats('n2'))).coordinator.gets).toBe(getsBefore);
    // The same request with a well-formed atLeast (the put's context) is served, and counted.
    expect(await getWith(put.context)).toMatchObject({ type: 'kv-get-ok', values: ['v'] });
    expect((await cluster.until(kv.stats('n2'))).coordinator.gets).toBe(getsBefore + 1);
    await cluster.stop();
  });

  simIt('a kv-stats without a usable replyTo is dropped, not a coordinator crash; stats and requests are still served', 312, async (seed) => {
    const cluster = await kvCluster(seed);
    const failures: string[] = [];
    cluster.events.on('actor-failed', (e) => failures.push(`${e.node}${e.ref.path}`));
    const kv = new KvClient(cluster, { nodes: ['n2'] });
    await cluster.until(kv.put('k', 'v'));
    await cluster.until(kv.get('k'));
    const before = (await cluster.until(kv.stats('n2'))).coordinator;
    expect(before.gets).toBe(1);
    for (const junk of [{ type: 'kv-stats' }, { type: 'kv-stats', replyTo: 'n1/user/x' }, { type: 'kv-stats', replyTo: null }, { type: 'kv-stats', replyTo: { node: 7 } }]) {
      cluster.tell(selectActor<unknown>('n2', '/system/coordinator'), junk);
    }
    await cluster.runFor(100);
    expect(failures).toEqual([]);
    // Counts survive: the coordinator was not restarted by the junk.
    expect((await cluster.until(kv.stats('n2'))).coordinator).toEqual(before);
    expect((await cluster.until(kv.get('k'))).values).toEqual(['v']);
    await cluster.stop();
  });
});
