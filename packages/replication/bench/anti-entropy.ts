/**
 * `anti_entropy.bytes.d<d>` (bytes, lower is better): what one exchange moves (both directions,
 * payload bytes: hashes, listings, versions) to repair two replicas of a partition of 100 000 keys
 * that differ in d = 1, 10, 100, 1 000 keys, against the budget measured in the same run:
 *
 * - ideal = d x the encoded size of one differing key with its version (the mean over the d keys,
 *   packed as the exchange packs them);
 * - budget = 3 x ideal + 2 x d x depth x 8 (a tree hash is 8 bytes; depth is the partition tree's).
 *
 * Goal: at most 1.0x the budget, and round trips at most depth + 2.
 *
 * Setup: the simulation runtime (the protocol's bytes do not depend on the runtime), 2 nodes,
 * N = 2, the ring's partition 0 filled with 100 000 keys (`user:<i>` among those that hash to it,
 * 20-byte values) written to both stores directly with one clock per key, so the replicas start
 * equal. For each d, d keys get a new version on n1 only (its storage's coordinator step, as a
 * write that reached one replica); n1 is asked for a round at once (`ae-now`), and its exchange
 * event for partition 0 gives bytes and round trips. Periodic rounds are off (a long interval),
 * and nothing else writes.
 */
import { type ActorRef, type SimulationCluster, startCluster } from '@starling/actors';
import { type BenchContext, type BenchGroup, type BenchResult, figureResult } from '../../../scripts/bench/types.ts';
import {
  type AntiEntropyMessage,
  antiEntropyRef,
  depthFor,
  type ExchangeReport,
  KEYS_PER_BUCKET,
  packEntries,
  partitionOf,
  RingAdmin,
  type StorageReply,
  type StorageRequest,
  storageRef,
  type StoredClock,
  useReplication,
} from '../src/index.ts';

const KEYS = 100_000;
const DIFFS = [1, 10, 100, 1_000] as const;
const HASH_BYTES = 8;
const VALUE = 'v'.repeat(20);

async function exchangeOf(cluster: SimulationCluster, reports: ExchangeReport[], from: number): Promise<ExchangeReport> {
  for (let i = 0; i < 2_000; i++) {
    const r = reports.slice(from).find((x) => x.partition === 0);
    if (r !== undefined) return r;
    await cluster.runFor(10);
  }
  throw new Error('no exchange of partition 0 within 20 s (virtual)');
}

export const antiEntropyBytes: BenchGroup = {
  ids: DIFFS.map((d) => `anti_entropy.bytes.d${d}`),
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed: 8,
      nodes: 2,
      plugins: [useReplication({ partitionCount: 2, defaults: { n: 2, r: 1, w: 1 }, antiEntropyIntervalMs: 1e9 })],
    });
    try {
      const reports: ExchangeReport[] = [];
      cluster.events.on('custom', (e) => {
        if (e.topic === 'starling.anti-entropy' && e.node === 'n1') reports.push(e.data as ExchangeReport);
      });
      const ring = await cluster.until(new RingAdmin(cluster).ring('n1'));
      const keys: string[] = [];
      for (let i = 0; keys.length < KEYS; i++) if (partitionOf(ring, `default/user:${i}`) === 0) keys.push(`default/user:${i}`);
      const t0 = performance.now();
      const sink = (node: string): ActorRef<StorageReply> => storageRef(node) as unknown as ActorRef<StorageReply>;
      for (const [j, key] of keys.entries()) {
        const clock: StoredClock = { entries: [{ id: 'n1@load', counter: 1, values: [VALUE] }], anonymous: [] };
        for (const node of ['n1', 'n2']) cluster.tell(storageRef(node), { type: 'st-write', reqId: `load${j}`, partition: 0, key, clock, ringVersion: ring.version, replyTo: sink(node) });
        if (j % 10_000 === 9_999) await cluster.runFor(100);
      }
      await cluster.runFor(1_000);
      ctx.log(`  2 nodes, partition 0 of ${KEYS} keys on both (tree depth ${depthFor(KEYS, KEYS_PER_BUCKET)}), loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const out: BenchResult[] = [];
      let next = 0;
      for (const d of DIFFS) {
        const changed = keys.slice(next, next + d);
        next += d;
        const versions: [string, StoredClock][] = [];
        for (const key of changed) {
          const r = await cluster.until(
            cluster.ask<StorageRequest, StorageReply>(storageRef('n1'), (replyTo) => ({ type: 'st-coordinate', reqId: `d${d}`, partition: 0, key, value: `new ${key}`, context: { 'n1@load': 1 }, replyTo }), { timeoutMs: 1_000 }),
          );
          if (r.type !== 'st-coordinated') throw new Error(`unexpected ${r.type}`);
          versions.push([key, r.clock]);
        }
        const from = reports.length;
        await cluster.until(cluster.ask<AntiEntropyMessage, { type: 'ae-queued'; exchanges: number }>(antiEntropyRef('n1'), (replyTo) => ({ type: 'ae-now', replyTo }), { timeoutMs: 1_000 }));
        const report = await exchangeOf(cluster, reports, from);
        const ideal = versions.reduce((n, v) => n + packEntries([v]).length, 0);
        const budget = 3 * ideal + 2 * d * report.depth * HASH_BYTES;
        ctx.log(`  d=${d}: ${report.bytes} bytes in ${report.rounds} round trips (at most ${report.depth + 2}), ${report.keysDiffering} keys found differing; ideal ${ideal}, budget ${budget}: ${(report.bytes / budget).toFixed(2)}x the budget, ${(report.bytes / ideal).toFixed(2)}x the ideal`);
        if (report.keysDiffering !== d) throw new Error(`d=${d}: the exchange found ${report.keysDiffering} differing keys`);
        if (report.rounds > report.depth + 2) throw new Error(`d=${d}: ${report.rounds} round trips, more than depth + 2 = ${report.depth + 2}`);
        out.push(figureResult(`anti_entropy.bytes.d${d}`, 'bytes (lower is better)', { name: `exchange, d=${d}`, value: report.bytes }, { name: `budget (ideal ${ideal} B)`, value: budget }, { maxRatio: 1 }));
      }
      return out;
    } finally {
      await cluster.stop();
    }
  },
};
