/**
 * Regressions of sloppy quorum and hinted handoff, end to end in simulation: each test pins down
 * a bug a review found (the test named the wrong behaviour; each now asserts the right one).
 *
 * - hint ids: a fallback forgets a key's hint id as soon as a hint holding its dots leaves, so it
 *   never mints one dot for two writes (kv679);
 * - expiry: an expired hint's data moves into the holder's own store, so an acknowledged write
 *   coordinated by fallbacks survives its primaries staying away longer than `hintTtlMs`;
 * - handoff: an acknowledgement slower than a handoff round still deletes the hint, and a lost one
 *   is sent again after a few rounds;
 * - counts: a duplicated delivery is not a second hinted write; a write that only got a late
 *   fallback is a sloppy write, counted once;
 * - fallback timing: a fallback always comes before the deadline (`min(fallbackAfterMs, timeoutMs / 2)`);
 * - input: per-request and configured `timeoutMs` / `fallbackAfterMs` are bounded, and a key
 *   `__proto__` is data;
 * - strict quorum: a non-primary never coordinates a forwarded write when `sloppy` is off.
 */
import { type ActorRef, formatSchedule, type GenerateOptions, generateSchedule, isolate, startCluster } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  check,
  coordinatorRef,
  createRing,
  type Dot,
  formatViolations,
  HistoryRecorder,
  KvClient,
  type KvRequest,
  MAX_TIMEOUT_MS,
  MIN_FALLBACK_MS,
  partitionOf,
  type PutReply,
  type ReplicationOptions,
  type StorageReply,
  type StorageRequest,
  storageRef,
  storeKey,
  useReplication,
  values,
} from '../src/index.ts';
import { awaitMembership, awaitSplit, finalState, runWorkload, type WorkloadOptions } from './support/workload.ts';
import { cluster5, dump, held, order, primaries, statsOf, sum } from './support/cluster.ts';


// ---- hint ids -----------------------------------------------------------------------------------

describe('hint ids: a fallback never mints one dot twice (kv679)', () => {
  simIt('storage level: once the hint holding its dots is handed over, a fallback that still holds another hint for the key mints under a fresh id', 9101, async (seed) => {
    const cluster = await cluster5(seed);
    const sk = storeKey(undefined, 'k');
    const ring = createRing(cluster.nodes.map((node) => ({ node, weight: 1 })));
    const partition = partitionOf(ring, sk);
    const [p1, p2, , f] = order(cluster, 'k');
    // p2 unreachable: the hint F holds for it stays all along.
    await cluster.network.partition(isolate(cluster.nodes, p2!));
    const ask = (msg: (replyTo: ActorRef<StorageReply>) => StorageRequest): Promise<StorageReply> =>
      cluster.until(cluster.ask<StorageRequest, StorageReply>(storageRef(f!), msg, { timeoutMs: 2_000 }));
    // 1. F is a fallback for p2: a replicated write, as a coordinator sends it.
    const c1 = { entries: [{ id: `${p1}@aaaa`, counter: 1, values: ['v1'] }], anonymous: [] };
    await ask((replyTo) => ({ type: 'st-write', reqId: 'a', partition, key: sk, clock: c1, ringVersion: ring.version, hintFor: p2!, replyTo }));
    // 2. F coordinates as the fallback for p1 (no primary reachable).
    const first = (await ask((replyTo) => ({ type: 'st-coordinate', reqId: 'b', partition, key: sk, value: 'v2', context: {}, hintFor: p1!, replyTo }))) as { dot: Dot };
    // 3. p1 is reachable: the hint for p1 is handed over and deleted; the hint for p2 stays.
    await cluster.runFor(3_000);
    expect(await held(cluster, p1!, 'k')).toContain('v2');
    expect((await dump(cluster, f!)).hints[sk]).toEqual([p2]);
    // 4. F coordinates again for p1: a new id, so a dot p1 does not hold yet.
    const second = (await ask((replyTo) => ({ type: 'st-coordinate', reqId: 'c', partition, key: sk, value: 'v3', context: {}, hintFor: p1!, replyTo }))) as { dot: Dot };
    await cluster.runFor(3_000);
    const atP1 = await held(cluster, p1!, 'k');
    await cluster.stop();
    expect(second.dot.id, `first ${JSON.stringify(first.dot)}, second ${JSON.stringify(second.dot)}`).not.toBe(first.dot.id);
    expect(second.dot.id.startsWith(`${f}@`)).toBe(true);
    // p1 keeps both of F's writes (concurrent: neither saw the other), and p1's own write as well.
    expect([...atP1].sort()).toEqual(['v1', 'v2', 'v3']);
  });

  simIt('end to end: two acknowledged writes coordinated by one fallback, with a handoff between them, get two dots and both survive', 9102, async (seed) => {
    // Handoff alone carries the writes here (anti-entropy would also move them between primaries).
    const cluster = await cluster5(seed, { gossip: true, replication: { antiEntropy: false } });
    const [p1, p2, p3, f, g] = order(cluster, 'k');
    const history = new HistoryRecorder();
    const viaP1 = new KvClient(cluster, { name: 'a', nodes: [p1!], recorder: history });
    const viaF = new KvClient(cluster, { name: 'b', nodes: [f!], recorder: history });
    // 1. p2 down: a write through p1 leaves F a hint for p2.
    await cluster.network.partition({ shape: 'groups', groups: [[p2!], [p1!, p3!, f!, g!]] });
    await awaitSplit(cluster, [[p2!], [p1!, p3!, f!, g!]]);
    const w1 = await cluster.until(viaP1.put('k', 'v1'));
    await cluster.runFor(1_000);
    expect((await dump(cluster, f!)).hints[storeKey(undefined, 'k')]).toEqual([p2]);
    // 2. No primary reachable from F: F coordinates, with a hint for p1.
    const cut = [[p1!], [p2!], [p3!], [f!, g!]];
    await cluster.network.partition({ shape: 'groups', groups: cut });
    await awaitSplit(cluster, cut);
    const w2 = await cluster.until(viaF.put('k', 'v2', { context: w1.context }));
    // 3. p1 back for F and G: the hint for p1 is handed over (p2 still away: F keeps its hint for p2).
    const back = [[p2!], [p3!], [p1!, f!, g!]];
    await cluster.network.partition({ shape: 'groups', groups: back });
    await awaitSplit(cluster, back);
    await cluster.runFor(3_000);
    expect(await held(cluster, p1!, 'k')).toContain('v2');
    // 4. Everything away again: F coordinates a second time.
    await cluster.network.partition({ shape: 'groups', groups: cut });
    await awaitSplit(cluster, cut);
    const w3 = await cluster.until(viaF.put('k', 'v3'));
    await cluster.network.heal();
    await awaitMembership(cluster);
    const result = check({ history: history.entries(), final: await finalState(cluster) });
    await cluster.stop();
    expect(w3.dot, `w2 ${JSON.stringify(w2.dot)}, w3 ${JSON.stringify(w3.dot)}`).not.toEqual(w2.dot);
    expect(result.violations, formatViolations(result)).toEqual([]);
    expect(result.stats.byOutcome.ok).toBe(3);
  });
});

// ---- expiry -------------------------------------------------------------------------------------

describe('hint expiry keeps the data', () => {
  simIt("a fallback-coordinated write whose primaries stay away longer than hintTtlMs survives: its hints' data moves into the holders' own stores", 9501, async (seed) => {
    const cluster = await cluster5(seed, { gossip: true, replication: { hintTtlMs: 10_000 } });
    const [p1, p2, p3] = primaries(cluster, 'orphan');
    const others = cluster.nodes.filter((n) => ![p1, p2, p3].includes(n));
    const sk = storeKey(undefined, 'orphan');
    await cluster.network.partition({ shape: 'groups', groups: [[p1!, p2!, p3!], others] });
    await awaitSplit(cluster, [[p1!, p2!, p3!], others]);
    const history = new HistoryRecorder();
    const kv = new KvClient(cluster, { name: 'c', nodes: others, recorder: history });
    const put = await cluster.until(kv.put('orphan', 'v'));
    expect(put.hinted).toEqual(put.replicas);
    const before = await statsOf(cluster, kv, others);
    const hints = sum(before, (s) => s.storage.hints);
    expect(hints).toBeGreaterThanOrEqual(2);
    for (const s of before) expect(s.storage.expired).toBe(0);

    await cluster.runFor(15_000); // past hintTtlMs, the primaries still away
    const after = await statsOf(cluster, kv, others);
    expect(sum(after, (s) => s.storage.hints)).toBe(0);
    expect(sum(after, (s) => s.storage.expired)).toBe(hints);
    // Each holder keeps the write in its own store now, not as a hint.
    for (const node of put.replicas) {
      const d = await dump(cluster, node);
      expect(d.hints[sk]).toBeUndefined();
      expect(values(d.keys[sk]!)).toEqual(['v']);
    }
    // And the write is still there to read, on the same side.
    expect((await cluster.until(kv.get('orphan'))).values).toEqual(['v']);

    const result = check({ history: history.entries(), final: await finalState(cluster) });
    await cluster.stop();
    expect(result.violations, formatViolations(result)).toEqual([]);
    expect(result.stats.byOutcome.ok).toBe(2);
  });
});

// ---- handoff ------------------------------------------------------------------------------------

describe('handoff bookkeeping', () => {
  simIt('a round trip longer than handoffIntervalMs: the acknowledgement still deletes the hint, which is handed off once and never expires', 9201, async (seed) => {
    // 600 ms each way: a handoff is acknowledged 1 200 ms after it is sent, rounds are 1 000 ms apart.
    const cluster = await cluster5(seed, {
      network: { latency: { kind: 'constant', ms: 600 } },
      replication: { hintTtlMs: 30_000, defaults: { timeoutMs: 4_000, fallbackAfterMs: 2_000 } },
    });
    const [p1, , p3] = primaries(cluster, 'slow');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    await cluster.until(kv.put('slow', 'v', { timeoutMs: 4_000 }));
    await cluster.runFor(3_000); // a spare holds the write for p3
    const holders = async (): Promise<number> => sum(await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3)), (s) => s.storage.hintsByOwner[p3!] ?? 0);
    expect(await holders()).toBe(1);
    await cluster.network.heal();
    await cluster.runFor(10_000);
    expect(await held(cluster, p3!, 'slow')).toEqual(['v']);
    expect(await holders()).toBe(0);
    await cluster.runFor(30_000); // past hintTtlMs: nothing left to expire
    const stats = await statsOf(cluster, kv);
    await cluster.stop();
    expect({ handedOff: sum(stats, (s) => s.storage.handedOff), expired: sum(stats, (s) => s.storage.expired) }).toEqual({ handedOff: 1, expired: 0 });
  });

  simIt('a handoff whose acknowledgement is lost is sent again after a few rounds, and deleted once one arrives', 9202, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, , p3] = primaries(cluster, 'acked');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    await cluster.until(kv.put('acked', 'v'));
    await cluster.runFor(1_000);
    const holder = (await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3))).find((s) => (s.storage.hintsByOwner[p3!] ?? 0) > 0)?.storage.node;
    expect(holder).toBeDefined();
    // p3 back, but everything it sends to the holder is lost: the handoff lands, its acknowledgement does not.
    await cluster.network.update({ partition: null, grudges: [{ from: p3!, to: holder! }] });
    await cluster.runFor(5_000);
    expect(await held(cluster, p3!, 'acked')).toEqual(['v']);
    expect((await cluster.until(kv.stats(holder!))).storage).toMatchObject({ hints: 1, handedOff: 0 });
    await cluster.network.heal();
    await cluster.runFor(5_000); // at most a few rounds' patience, then a round trip
    const stats = await cluster.until(kv.stats(holder!));
    await cluster.stop();
    expect(stats.storage).toMatchObject({ hints: 0, handedOff: 1, expired: 0 });
  });
});

// ---- counts -------------------------------------------------------------------------------------

describe('sloppy quorum counts', () => {
  simIt('one write held as one hint over a network that duplicates every message: hintedWrites 1, and the write with a late fallback counts as sloppy', 9401, async (seed) => {
    const cluster = await cluster5(seed, { network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 }, duplicateProbability: 1 } });
    const [p1, , p3] = primaries(cluster, 'late');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    await cluster.until(kv.put('late', 'v'));
    await cluster.runFor(1_000); // past fallbackAfterMs: a spare holds the write for p3
    const storage = await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3));
    const coordinator = (await cluster.until(kv.stats(p1!))).coordinator;
    await cluster.stop();
    expect({
      hints: sum(storage, (s) => s.storage.hints),
      hintedWrites: sum(storage, (s) => s.storage.hintedWrites),
      lateReplicas: coordinator.lateReplicas,
      sloppyWrites: coordinator.sloppyWrites,
    }).toEqual({ hints: 1, hintedWrites: 1, lateReplicas: 1, sloppyWrites: 1 });
  });

  simIt('a write whose two silent replicas both get late fallbacks is one sloppy write', 9402, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'twice');
    await cluster.network.partition({ shape: 'groups', groups: [[p2!], [p3!], cluster.nodes.filter((n) => n !== p2 && n !== p3)] });
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const put = await cluster.until(kv.put('twice', 'v'));
    expect(put.hinted.length).toBeGreaterThanOrEqual(1);
    await cluster.runFor(1_000);
    const storage = await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p2 && n !== p3));
    const coordinator = (await cluster.until(kv.stats(p1!))).coordinator;
    await cluster.stop();
    expect({
      hints: sum(storage, (s) => s.storage.hints),
      hintedWrites: sum(storage, (s) => s.storage.hintedWrites),
      lateReplicas: coordinator.lateReplicas,
      sloppyWrites: coordinator.sloppyWrites,
      puts: coordinator.puts,
    }).toEqual({ hints: 2, hintedWrites: 2, lateReplicas: 2, sloppyWrites: 1, puts: 1 });
  });
});

// ---- fallback timing ----------------------------------------------------------------------------

describe('a fallback comes before the deadline, whatever fallbackAfterMs says', () => {
  simIt('fallbackAfterMs >= timeoutMs: a session read still asks the reachable fallbacks holding its version, and succeeds', 9301, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'mine');
    const [x, y] = cluster.nodes.filter((n) => ![p1, p2, p3].includes(n));
    const session = new KvClient(cluster, { name: 'session', session: true });
    // p3 writes with p1 and p2 cut off: fallbacks x and y take their copies as hints.
    await cluster.network.partition({ shape: 'groups', groups: [[p1!, p2!], [p3!, x!, y!]] });
    await cluster.until(session.put('mine', 'v', { node: p3! }));
    await cluster.runFor(1_000);
    // p3 alone: p1 and p2 answer (stale), p3 is silent, x and y hold the version and are reachable.
    await cluster.network.partition({ shape: 'groups', groups: [[p3!], [p1!, p2!, x!, y!]] });
    for (const fallbackAfterMs of [2_000, 60_000]) {
      const got = await cluster.until(session.get('mine', { node: p1!, timeoutMs: 2_000, fallbackAfterMs }).catch((e: unknown) => e));
      expect(got, `fallbackAfterMs ${fallbackAfterMs}`).toMatchObject({ values: ['v'] });
    }
    expect((await cluster.until(session.stats(p1!))).coordinator.sessionReadsExtended).toBeGreaterThanOrEqual(1);
    await cluster.stop();
  });

  simIt('fallbackAfterMs >= timeoutMs: a write with a silent primary still leaves a hint for it, and the hint reaches it', 9302, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, , p3] = primaries(cluster, 'late');
    await cluster.network.partition(isolate(cluster.nodes, p3!));
    const kv = new KvClient(cluster, { nodes: [p1!] });
    const put = await cluster.until(kv.put('late', 'v', { timeoutMs: 1_000, fallbackAfterMs: 5_000 }));
    expect(put.replicas).not.toContain(p3);
    await cluster.runFor(1_000); // past timeoutMs / 2, well before fallbackAfterMs
    const storage = await statsOf(cluster, kv, cluster.nodes.filter((n) => n !== p3));
    expect(sum(storage, (s) => s.storage.hintsByOwner[p3!] ?? 0)).toBe(1);
    expect((await cluster.until(kv.stats(p1!))).coordinator).toMatchObject({ lateReplicas: 1, sloppyWrites: 1 });
    await cluster.network.heal();
    await cluster.runFor(5_000);
    expect(await held(cluster, p3!, 'late')).toEqual(['v']);
    await cluster.stop();
  });
});

// ---- input --------------------------------------------------------------------------------------

describe('request options and keys from outside', () => {
  simIt('timeoutMs outside 1..MAX_TIMEOUT_MS or fallbackAfterMs under MIN_FALLBACK_MS: INVALID_REQUEST (failed), for reads and writes, with no read storm', 9601, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'k');
    const session = new KvClient(cluster, { name: 's', session: true });
    const first = await cluster.until(session.put('k', 'v', { node: p1! }));
    // The primaries (which hold the version) cut off from the other two nodes: a session read there can never be served.
    await cluster.network.partition({ shape: 'groups', groups: [[p1!, p2!, p3!], cluster.nodes.filter((n) => ![p1, p2, p3].includes(n))] });
    const other = cluster.nodes.find((n) => ![p1, p2, p3].includes(n))!;
    const sent = async (): Promise<number> => Object.values(await cluster.network.links()).reduce((n, l) => n + l.sent, 0);
    const bad = [{ fallbackAfterMs: 0.01 }, { fallbackAfterMs: MIN_FALLBACK_MS - 0.5 }, { timeoutMs: 1e9 }, { timeoutMs: MAX_TIMEOUT_MS + 1 }, { timeoutMs: 0.5 }];
    const before = await sent();
    for (const options of bad) {
      const label = JSON.stringify(options);
      const got = await cluster.until(session.get('k', { node: other, ...options }).catch((e: unknown) => e));
      expect(got, label).toMatchObject({ code: 'INVALID_REQUEST', outcome: 'failed' });
      const put = await cluster.until(session.put('k', 'w', { node: other, ...options }).catch((e: unknown) => e));
      expect(put, label).toMatchObject({ code: 'INVALID_REQUEST', outcome: 'failed' });
    }
    // Refused at the coordinator: no replica was asked anything.
    expect((await sent()) - before).toBe(0);
    // The bounds themselves are accepted.
    await cluster.network.heal();
    const put = await cluster.until(session.put('k', 'w', { node: p1!, context: first.context, timeoutMs: MAX_TIMEOUT_MS, fallbackAfterMs: MIN_FALLBACK_MS }));
    const got = await cluster.until(session.get('k', { node: p1!, timeoutMs: MAX_TIMEOUT_MS, fallbackAfterMs: MIN_FALLBACK_MS }));
    await cluster.stop();
    expect(put.values).toEqual(['w']);
    expect(got.values).toEqual(['w']);
  });

  simIt('timeoutMs 0 or negative, and NaN options, are outside the bounds too: INVALID_REQUEST (failed), not silence', 9604, async (seed) => {
    const cluster = await cluster5(seed);
    const kv = new KvClient(cluster, { nodes: ['n1'] });
    for (const options of [{ timeoutMs: 0 }, { timeoutMs: -5 }, { fallbackAfterMs: 0 }, { fallbackAfterMs: -1 }, { fallbackAfterMs: Number.NaN }]) {
      const label = String(Object.entries(options).map(([k, v]) => `${k} ${v}`));
      const got = await cluster.until(kv.get('k', options).catch((e: unknown) => e));
      expect(got, label).toMatchObject({ code: 'INVALID_REQUEST', outcome: 'failed' });
      // A put refused is certainly not applied: failed, never unknown.
      const put = await cluster.until(kv.put('k', 'v', options).catch((e: unknown) => e));
      expect(put, label).toMatchObject({ code: 'INVALID_REQUEST', outcome: 'failed' });
    }
    await cluster.stop();
  });

  const BAD_CONFIG: readonly { readonly label: string; readonly options: ReplicationOptions; readonly names: RegExp }[] = [
    { label: 'defaults.fallbackAfterMs 1', options: { defaults: { fallbackAfterMs: 1 } }, names: /replication\.defaults\.fallbackAfterMs/ },
    { label: 'defaults.timeoutMs 1e9', options: { defaults: { timeoutMs: 1e9 } }, names: /replication\.defaults\.timeoutMs/ },
    { label: 'a bucket with fallbackAfterMs 9', options: { buckets: { carts: { fallbackAfterMs: 9 } } }, names: /replication\.buckets\.carts\.fallbackAfterMs/ },
    { label: 'a bucket with timeoutMs MAX_TIMEOUT_MS + 1', options: { buckets: { carts: { timeoutMs: MAX_TIMEOUT_MS + 1 } } }, names: /replication\.buckets\.carts\.timeoutMs/ },
  ];
  BAD_CONFIG.forEach(({ label, options, names }, i) => {
    simIt(`useReplication with ${label} makes startCluster reject with INVALID_CONFIG naming the option`, 9611 + i, async (seed) => {
      const start = startCluster({ runtime: 'simulation', seed, nodes: 3, plugins: [useReplication(options)] });
      await expect(start).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
      await expect(start).rejects.toThrow(names);
    });
  });

  simIt('the configured bounds themselves start a cluster that serves', 9615, async (seed) => {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 3,
      plugins: [useReplication({ defaults: { fallbackAfterMs: MIN_FALLBACK_MS, timeoutMs: MAX_TIMEOUT_MS }, buckets: { carts: { fallbackAfterMs: MIN_FALLBACK_MS, timeoutMs: MAX_TIMEOUT_MS } } })],
    });
    const kv = new KvClient(cluster);
    await cluster.until(kv.put('k', 'v', { bucket: 'carts' }));
    const got = await cluster.until(kv.get('k', { bucket: 'carts' }));
    await cluster.stop();
    expect(got.values).toEqual(['v']);
  });

  simIt('a storage request for a key that is not a store key (`__proto__`, no "/") is dropped; the dump still answers; `__proto__` inside a store key is data', 9602, async (seed) => {
    const cluster = await startCluster({ runtime: 'simulation', seed, nodes: 3, plugins: [useReplication()] });
    const clock = { entries: [{ id: 'n1@x', counter: 1, values: ['v'] }], anonymous: [] };
    for (const hintFor of ['n3', undefined]) {
      const reply = await cluster
        .until(
          cluster.ask<StorageRequest, StorageReply>(
            storageRef('n2'),
            (replyTo: ActorRef<StorageReply>) => ({ type: 'st-write', reqId: 'r', partition: 0, key: '__proto__', clock, ringVersion: 0, ...(hintFor !== undefined ? { hintFor } : {}), replyTo }),
            { timeoutMs: 1_000 },
          ),
        )
        .catch((e: unknown) => e);
      expect(reply).toMatchObject({ code: 'ASK_TIMEOUT' });
    }
    // The dump used to throw in the storage actor (an assignment to `__proto__` of a plain object).
    expect(await dump(cluster, 'n2')).toMatchObject({ type: 'st-dump', node: 'n2', keys: {}, hints: {} });
    const kv = new KvClient(cluster);
    await cluster.until(kv.put('__proto__', 'v', { bucket: '__proto__' }));
    const got = await cluster.until(kv.get('__proto__', { bucket: '__proto__' }));
    const held = await dump(cluster, 'n2');
    await cluster.stop();
    expect(got.values).toEqual(['v']);
    expect(Object.keys(held.keys)).toEqual(['__proto__/__proto__']);
  });

  simIt('a session client with a recorder needs a name: INVALID_CONFIG without one', 9603, async (seed) => {
    const cluster = await startCluster({ runtime: 'simulation', seed, nodes: 3, plugins: [useReplication()] });
    const recorder = new HistoryRecorder();
    expect(() => new KvClient(cluster, { session: true, recorder })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    // Named, without a recorder, or not a session: fine.
    expect(new KvClient(cluster, { session: true, recorder, name: 's1' }).name).toBe('s1');
    expect(new KvClient(cluster, { session: true }).name).toBe('client');
    expect(new KvClient(cluster, { recorder }).name).toBe('client');
    await cluster.stop();
  });
});

// ---- strict quorum ------------------------------------------------------------------------------

describe('strict quorum', () => {
  simIt('sloppy: false: a put marked forwarded that lands on a non-primary is refused (QUORUM_NOT_MET, failed), and nothing is stored', 9701, async (seed) => {
    const cluster = await cluster5(seed);
    const [p1, p2, p3] = primaries(cluster, 'strict');
    const x = cluster.nodes.find((n) => ![p1, p2, p3].includes(n))!;
    await cluster.network.partition({ shape: 'groups', groups: [[p2!], [p3!], cluster.nodes.filter((n) => n !== p2 && n !== p3)] });
    const reply = await cluster.until(
      cluster.ask<KvRequest, PutReply>(
        coordinatorRef(x),
        (replyTo: ActorRef<PutReply>) => ({ type: 'kv-put', key: 'strict', value: 'v', options: { sloppy: false, timeoutMs: 2_000 }, isForwarded: true, replyTo }),
        { timeoutMs: 5_000 },
      ),
    );
    // Strict quorum needs W = 2 primaries; only p1 is reachable, and x is none of them.
    expect(reply).toMatchObject({ type: 'kv-error', code: 'QUORUM_NOT_MET', outcome: 'failed' });
    await cluster.runFor(1_000);
    const kv = new KvClient(cluster);
    for (const node of cluster.nodes) expect(await held(cluster, node, 'strict'), node).toEqual([]);
    const stats = await statsOf(cluster, kv);
    await cluster.stop();
    expect(sum(stats, (s) => s.storage.hintedWrites)).toBe(0);
    expect(sum(stats, (s) => s.coordinator.puts)).toBe(0);
  });
});

// ---- fuzz ---------------------------------------------------------------------------------------

/** Seeds per fuzz test: a few, to stay fast; `STARLING_SEED` sets the first. */
const FUZZ_SEEDS = 8;

/**
 * Runs `FUZZ_SEEDS` seeded workloads from `first`, each with a generated fault schedule, and
 * returns the first two bad seeds (schedule and violations), empty when every run is clean.
 */
async function fuzz(first: number, schedule: Omit<GenerateOptions, 'seed'>, workload: Omit<WorkloadOptions, 'seed' | 'faults'>): Promise<string> {
  const bad: string[] = [];
  for (let seed = first; seed < first + FUZZ_SEEDS; seed++) {
    const faults = generateSchedule({ ...schedule, seed });
    const run = await runWorkload({ ...workload, seed, faults: faults.faults });
    const result = check({ history: run.history.entries(), final: run.final, wipes: run.wipes });
    await run.cluster.stop();
    if (result.violations.length > 0) bad.push(`[seed ${seed}]\n${formatSchedule(faults)}\n${formatViolations(result)}`);
  }
  return bad.length === 0 ? '' : `${bad.length} bad seeds\n${bad.slice(0, 2).join('\n\n')}`;
}

const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'];
const ROUGH_NETWORK = { latency: { kind: 'uniform', minMs: 1, maxMs: 30 }, duplicateProbability: 0.2, reorderProbability: 0.2, reorderWindowMs: 30, lossProbability: 0.02 } as const;
const EVERY_NODE_FAULT = ['partition', 'kill', 'restart-empty', 'pause', 'grudge'] as const;

describe('sessions and sloppy quorum under random faults, judged by the checker', () => {
  simIt('all fault kinds: no violation', 7_000, async (first) => {
    const bad = await fuzz(
      first,
      { nodes: FIVE, durationMs: 3_000, minEpisodeMs: 300, maxEpisodeMs: 1_000, minGapMs: 50, maxGapMs: 300 },
      { sessions: true, gossip: true, keys: 2, clients: 4, opsPerClient: 80, replication: { defaults: { fallbackAfterMs: 150 } } },
    );
    expect(bad).toBe('');
  });

  simIt('partitions, kills, restart-empty, pauses and grudges over a network that duplicates, reorders and loses: no violation', 7_000, async (first) => {
    const bad = await fuzz(
      first,
      { nodes: FIVE, durationMs: 3_000, kinds: EVERY_NODE_FAULT, minEpisodeMs: 200, maxEpisodeMs: 1_000, minGapMs: 20, maxGapMs: 200 },
      { sessions: true, gossip: true, keys: 2, clients: 4, opsPerClient: 80, network: ROUGH_NETWORK, replication: { defaults: { fallbackAfterMs: 100 }, handoffIntervalMs: 200 } },
    );
    expect(bad).toBe('');
  });

  // R = W = 1 on 7 nodes: a coordinator that is a replica answers from its own store at once, so
  // a session's put and its next get can share one timestamp (this found a checker bug, fixed).
  simIt('R = W = 1 on 7 nodes, all fault kinds over a lossy, duplicating network: no violation', 7_000, async (first) => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
    const bad = await fuzz(
      first,
      { nodes, durationMs: 3_000, kinds: EVERY_NODE_FAULT, minEpisodeMs: 200, maxEpisodeMs: 1_200, minGapMs: 20, maxGapMs: 200 },
      {
        nodes: nodes.length,
        sessions: true,
        gossip: true,
        keys: 3,
        clients: 4,
        opsPerClient: 80,
        network: { ...ROUGH_NETWORK, duplicateProbability: 0.1 },
        replication: { defaults: { r: 1, w: 1, fallbackAfterMs: 100 }, handoffIntervalMs: 200, handoffBatchSize: 2, hintTtlMs: 400 },
      },
    );
    expect(bad).toBe('');
  });
});
