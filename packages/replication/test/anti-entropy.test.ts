/**
 * Anti-entropy end to end (simulation, seeds printed on failure, the history checker): replicas
 * that missed writes converge with no client reading the key, with read repair and hinted handoff
 * switched off so that nothing else could have moved the data.
 */
import { formatSchedule, generateSchedule, type SimulationCluster, startCluster } from '@starling/actors';
import { useGossip } from '@starling/gossip';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  type AntiEntropyMessage,
  antiEntropyRef,
  check,
  formatViolations,
  HistoryRecorder,
  KvClient,
  KvError,
  partitionOf,
  preferenceList,
  type Ring,
  RingAdmin,
  packEntries,
  packKeys,
  type StoredClock,
  treeOf,
  useReplication,
  type VersionVector,
} from '../src/index.ts';
import { dumpOf } from './support/transfer.ts';
import { AE_PARTITIONS, aeCluster, aeStatus } from './support/anti-entropy.ts';
import { awaitMembership, awaitSplit, FAST_GOSSIP, finalState, runWorkload } from './support/workload.ts';

const Q = AE_PARTITIONS;


/** Partitions whose replicas' stores differ (by their trees' roots), with the replicas' roots. */
async function divergent(cluster: SimulationCluster, ring: Ring): Promise<string[]> {
  const byNode = new Map<string, Map<number, [string, StoredClock][]>>();
  for (const node of cluster.nodes) {
    const dump = await dumpOf(cluster, node);
    const parts = new Map<number, [string, StoredClock][]>();
    for (const [key, clock] of Object.entries(dump.keys)) {
      if (dump.hints[key] !== undefined) continue;
      const p = partitionOf(ring, key);
      const list = parts.get(p) ?? [];
      list.push([key, clock]);
      parts.set(p, list);
    }
    byNode.set(node, parts);
  }
  const out: string[] = [];
  for (let p = 0; p < Q; p++) {
    const roots = preferenceList(ring, p, 3).map((node) => {
      const r = treeOf(0, byNode.get(node)!.get(p) ?? []).root;
      return `${node}:${r.hi.toString(16)}${r.lo.toString(16)}`;
    });
    if (new Set(roots.map((r) => r.split(':')[1])).size > 1) out.push(`partition ${p}: ${roots.join(' ')}`);
  }
  return out;
}

/** Runs until every partition's replicas are equal; the virtual time it took, in ms. */
async function untilConverged(cluster: SimulationCluster, ring: Ring, limitMs: number): Promise<number> {
  const t0 = cluster.now();
  for (;;) {
    const left = await divergent(cluster, ring);
    if (left.length === 0) return cluster.now() - t0;
    if (cluster.now() - t0 > limitMs) throw new Error(`not converged after ${limitMs} ms: ${left.slice(0, 5).join('; ')}`);
    await cluster.runFor(250);
  }
}


describe('anti-entropy', () => {
  simIt('after a partition with writes and deletes on both sides, anti-entropy alone brings every replica of every partition to equal contents; no violation', 8201, async (seed) => {
    const { cluster, ring } = await aeCluster(seed);
    const history = new HistoryRecorder();
    const left = new KvClient(cluster, { name: 'left', nodes: ['n1', 'n2'], recorder: history });
    const right = new KvClient(cluster, { name: 'right', nodes: ['n3', 'n4', 'n5'], recorder: history });
    const all = new KvClient(cluster, { name: 'setup', recorder: history });
    const contexts = new Map<string, VersionVector>();
    for (let i = 0; i < 120; i++) contexts.set(`k${i}`, (await cluster.until(all.put(`k${i}`, `v${i}`))).context);
    const groups = [['n1', 'n2'], ['n3', 'n4', 'n5']];
    await cluster.network.partition({ shape: 'groups', groups });
    await awaitSplit(cluster, groups);
    // Each side writes and deletes what its quorum allows (strict quorum: keys with W primaries on that side).
    let ok = 0;
    const deleted: string[] = [];
    for (let i = 0; i < 120; i++) {
      const client = i % 2 === 0 ? left : right;
      try {
        if (i % 5 === 0) {
          await cluster.until(client.delete(`k${i}`, { context: contexts.get(`k${i}`)! }));
          deleted.push(`k${i}`);
        } else await cluster.until(client.put(`k${i}`, `${i % 2 === 0 ? 'left' : 'right'}${i}`));
        ok++;
      } catch (err) {
        if (!(err instanceof KvError)) throw err;
      }
    }
    expect(ok).toBeGreaterThan(20);
    expect(deleted.length).toBeGreaterThan(3);
    expect((await divergent(cluster, ring)).length).toBeGreaterThan(0);
    await cluster.network.heal();
    const convergedMs = await untilConverged(cluster, ring, 60_000);
    console.log(`anti-entropy: every replica equal ${convergedMs} ms (virtual) after the heal`);
    let repaired = 0;
    for (const node of cluster.nodes) repaired += (await aeStatus(cluster, node)).keysRepaired;
    expect(repaired).toBeGreaterThan(0);
    const result = check({ history: history.entries(), final: await finalState(cluster, 1_000) });
    expect(result.violations, formatViolations(result)).toEqual([]);
    // Keys deleted during the partition stay deleted on every replica: nothing of theirs came back.
    const reader = new KvClient(cluster);
    for (const key of deleted) expect((await cluster.until(reader.get(key, { r: 3 }))).values, key).toEqual([]);
    await cluster.stop();
  });

  simIt('a node restarted empty is refilled by anti-entropy, without any read', 8202, async (seed) => {
    const { cluster, ring } = await aeCluster(seed);
    const kv = new KvClient(cluster);
    for (let i = 0; i < 300; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    await cluster.runFor(1_000); // the last writes' third replicas
    const mine = (await dumpOf(cluster, 'n3')).keys;
    expect(Object.keys(mine).length).toBeGreaterThan(100);
    await cluster.restartEmpty('n3');
    expect(Object.keys((await dumpOf(cluster, 'n3')).keys)).toEqual([]);
    const convergedMs = await untilConverged(cluster, ring, 60_000);
    console.log(`anti-entropy: n3 refilled ${convergedMs} ms (virtual) after its restart`);
    expect((await dumpOf(cluster, 'n3')).keys).toEqual(mine);
    expect((await aeStatus(cluster, 'n3')).keysRepaired).toBe(Object.keys(mine).length);
    await cluster.stop();
  });

  simIt('with anti-entropy off, the same restart stays empty (the refill above is anti-entropy’s doing)', 8203, async (seed) => {
    const { cluster } = await aeCluster(seed, { antiEntropy: false });
    const kv = new KvClient(cluster);
    for (let i = 0; i < 100; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    await cluster.runFor(1_000); // the last writes' third replicas
    await cluster.restartEmpty('n3');
    await cluster.runFor(20_000);
    expect(Object.keys((await dumpOf(cluster, 'n3')).keys)).toEqual([]);
    await cluster.stop();
  });

  simIt('read repair is what refills a replica when anti-entropy is off, and readRepair: false on a get leaves it alone', 8205, async (seed) => {
    const { cluster, ring } = await aeCluster(seed, { antiEntropy: false });
    const kv = new KvClient(cluster);
    const keys: string[] = [];
    for (let i = 0; keys.length < 10; i++) if (preferenceList(ring, partitionOf(ring, `default/r${i}`), 3).includes('n3')) keys.push(`r${i}`);
    for (const key of keys) await cluster.until(kv.put(key, `v-${key}`));
    await cluster.runFor(1_000);
    await cluster.restartEmpty('n3');
    const all = new KvClient(cluster, { nodes: ['n1', 'n2', 'n4', 'n5'] });
    for (const key of keys) await cluster.until(all.get(key, { r: 3, readRepair: false }));
    await cluster.runFor(1_000);
    expect(Object.keys((await dumpOf(cluster, 'n3')).keys)).toEqual([]);
    for (const key of keys) await cluster.until(all.get(key, { r: 3, readRepair: true }));
    await cluster.runFor(1_000);
    expect(Object.keys((await dumpOf(cluster, 'n3')).keys).sort()).toEqual(keys.map((k) => `default/${k}`).sort());
    await cluster.stop();
  });

  simIt('malformed or forged messages are counted and answered with a refusal or nothing; nothing is merged; the node keeps serving', 8204, async (seed) => {
    const { cluster, ring } = await aeCluster(seed);
    const kv = new KvClient(cluster);
    for (let i = 0; i < 50; i++) await cluster.until(kv.put(`k${i}`, `v${i}`));
    await cluster.runFor(3_000); // every write on all its replicas: nothing left for anti-entropy to do
    const before = await dumpOf(cluster, 'n2');
    const bad: unknown[] = [
      null,
      42,
      { type: 'ae-root', xid: 'x', partition: 0, depth: 3, root: [1, 2], levels: 2, replyTo: antiEntropyRef('n1') },
      { type: 'ae-descend', xid: 'x', partition: 0, depth: 3, frontier: 'all', levels: 2, replyTo: antiEntropyRef('n1') },
      { type: 'ae-hashes', xid: 'x', depth: 1, hashes: [1] },
      { type: 'nonsense' },
    ];
    for (const msg of bad) cluster.tell(antiEntropyRef('n2') as unknown as Parameters<typeof cluster.tell>[0], msg as never);
    // Well formed but forged: a repair whose entries are not clocks, one with a key of another partition.
    const p = partitionOf(ring, 'default/k1');
    const other = [...Array(200).keys()].map((i) => `default/x${i}`).find((k) => partitionOf(ring, k) !== p)!;
    const clock: StoredClock = { entries: [{ id: 'evil@1', counter: 1, values: ['evil'] }], anonymous: [] };
    const refusals: unknown[] = [];
    for (const entries of [new Uint8Array([1, 2, 3]), packEntries([[other, clock]])]) {
      refusals.push(
        await cluster.until(
          cluster.ask<AntiEntropyMessage, AntiEntropyMessage>(antiEntropyRef('n2'), (replyTo) => ({ type: 'ae-repair', xid: 'forged', seq: 1, partition: p, entries, want: packKeys([]), collected: packKeys([]), collectedHashes: new Uint32Array(0), replyTo }), { timeoutMs: 1_000 }),
        ),
      );
    }
    expect(refusals).toEqual([expect.objectContaining({ type: 'ae-refused' }), expect.objectContaining({ type: 'ae-refused' })]);
    await cluster.runFor(100);
    const s = await aeStatus(cluster, 'n2');
    expect(s.malformedMessages).toBe(bad.length + 2);
    expect((await dumpOf(cluster, 'n2')).keys).toEqual(before.keys);
    expect((await cluster.until(kv.get('k1'))).values).toEqual(['v1']);
    await cluster.stop();
  });
});


describe('tombstone collection', () => {
  async function gcCluster(seed: number): Promise<{ cluster: SimulationCluster; ring: Ring }> {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 5,
      maxMessageAgeMs: 2_000,
      // Duplicated and delayed messages throughout: an old write must never come back after collection.
      network: { latency: { kind: 'uniform', minMs: 1, maxMs: 400 }, duplicateProbability: 0.2, reorderProbability: 0.1 },
      hostFailureDetector: false,
      plugins: [useGossip(FAST_GOSSIP), useReplication({ partitionCount: Q, antiEntropyIntervalMs: 500, hintTtlMs: 3_000, tombstoneGraceMs: 6_000, defaults: { timeoutMs: 2_000 } })],
    });
    await awaitMembership(cluster);
    return { cluster, ring: await cluster.until(new RingAdmin(cluster).ring('n1')) };
  }

  /** Nodes whose store still holds `key` (a tombstone or a value). */
  async function holders(cluster: SimulationCluster, key: string): Promise<string[]> {
    const out: string[] = [];
    for (const node of cluster.nodes) if ((await dumpOf(cluster, node)).keys[`default/${key}`] !== undefined) out.push(node);
    return out;
  }

  simIt('a delete every primary holds is collected everywhere after the grace period; under duplication and delay nothing deleted comes back; no violation', 8301, async (seed) => {
    const { cluster } = await gcCluster(seed);
    const history = new HistoryRecorder();
    const kv = new KvClient(cluster, { recorder: history });
    const contexts = new Map<string, VersionVector>();
    for (let i = 0; i < 40; i++) contexts.set(`k${i}`, (await cluster.until(kv.put(`k${i}`, `v${i}`))).context);
    for (let i = 0; i < 40; i += 2) await cluster.until(kv.delete(`k${i}`, { context: contexts.get(`k${i}`)! }));
    await cluster.runFor(30_000);
    let collected = 0;
    for (const node of cluster.nodes) collected += (await aeStatus(cluster, node)).tombstonesCollected;
    expect(collected).toBe(20 * 3); // every tombstone, on each of its three replicas
    for (let i = 0; i < 40; i += 2) expect(await holders(cluster, `k${i}`), `k${i}`).toEqual([]);
    // Another 20 s of duplicated, delayed traffic: nothing deleted comes back, the rest stays.
    await cluster.runFor(20_000);
    for (let i = 0; i < 40; i += 2) expect(await holders(cluster, `k${i}`), `k${i}`).toEqual([]);
    for (let i = 0; i < 40; i++) expect((await cluster.until(kv.get(`k${i}`, { r: 3 }))).values).toEqual(i % 2 === 0 ? [] : [`v${i}`]);
    const result = check({ history: history.entries(), final: await finalState(cluster, 1_000), collectsTombstones: true });
    expect(result.violations, formatViolations(result)).toEqual([]);
    await cluster.stop();
  });

  simIt('a tombstone one primary does not hold (it was cut off) is not collected; after the heal it reaches that primary, then is collected, and the old value never returns', 8302, async (seed) => {
    const { cluster, ring } = await gcCluster(seed);
    await cluster.network.update({ duplicateProbability: 0, reorderProbability: 0 });
    const history = new HistoryRecorder();
    const kv = new KvClient(cluster, { recorder: history, nodes: ['n1', 'n2', 'n4', 'n5'] });
    // Keys n3 replicates.
    const keys: string[] = [];
    for (let i = 0; keys.length < 10; i++) if (preferenceList(ring, partitionOf(ring, `default/d${i}`), 3).includes('n3')) keys.push(`d${i}`);
    const contexts = new Map<string, VersionVector>();
    for (const key of keys) contexts.set(key, (await cluster.until(kv.put(key, `old ${key}`))).context);
    await cluster.runFor(2_000);
    await cluster.network.isolate('n3');
    await cluster.runFor(5_000); // membership reports n3 dead: deletes go to fallbacks for it
    for (const key of keys) await cluster.until(kv.delete(key, { context: contexts.get(key)! }));
    await cluster.runFor(20_000); // far past the grace period, but n3 never held the tombstones
    for (const key of keys) expect((await holders(cluster, key)).length, key).toBeGreaterThanOrEqual(2);
    await cluster.network.heal();
    await cluster.runFor(40_000);
    for (const key of keys) expect(await holders(cluster, key), key).toEqual([]);
    for (const key of keys) expect((await cluster.until(kv.get(key, { r: 3 }))).values, key).toEqual([]);
    const result = check({ history: history.entries(), final: await finalState(cluster, 1_000), collectsTombstones: true });
    expect(result.violations, formatViolations(result)).toEqual([]);
    await cluster.stop();
  });

  // Seeds per run here: a few, to stay fast (TOMBSTONE_FUZZ_SEEDS runs more); STARLING_SEED sets the first.
  const FUZZ_SEEDS = Number(process.env.TOMBSTONE_FUZZ_SEEDS ?? 3);

  simIt('under random partitions, kills, restarts empty and pauses over a duplicating network, with a grace period of seconds: no violation, deleted keys stay gone', 8303, async (first) => {
    const bad: string[] = [];
    let collected = 0;
    for (let seed = first; seed < first + FUZZ_SEEDS; seed++) {
      const schedule = generateSchedule({ seed, nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], durationMs: 4_000, kinds: ['partition', 'kill', 'restart-empty', 'pause', 'grudge'], minEpisodeMs: 200, maxEpisodeMs: 1_500, minGapMs: 50, maxGapMs: 400 });
      const run = await runWorkload({
        seed,
        faults: schedule.faults,
        gossip: true,
        keys: 3,
        clients: 4,
        opsPerClient: 60,
        maxMessageAgeMs: 1_000,
        network: { latency: { kind: 'uniform', minMs: 1, maxMs: 30 }, duplicateProbability: 0.2, reorderProbability: 0.2, reorderWindowMs: 30, lossProbability: 0.02 },
        // Long enough after the heal for every tombstone to be collected, on a grace period of 4 s.
        settleMs: 30_000,
        replication: { defaults: { fallbackAfterMs: 100 }, handoffIntervalMs: 200, hintTtlMs: 1_500, tombstoneGraceMs: 4_000, antiEntropyIntervalMs: 300 },
      });
      for (const node of run.cluster.nodes) collected += (await aeStatus(run.cluster, node)).tombstonesCollected;
      const result = check({ history: run.history.entries(), final: run.final, wipes: run.wipes, collectsTombstones: true });
      await run.cluster.stop();
      if (result.violations.length > 0) bad.push(`[seed ${seed}]\n${formatSchedule(schedule)}\n${formatViolations(result)}`);
    }
    expect(bad.slice(0, 2).join('\n\n')).toBe('');
    expect(collected).toBeGreaterThan(0);
  }, 120_000);
});

