/**
 * The Merkle tree's costs (merkle.ts, version-hash.ts), pure, on the main thread.
 *
 * `merkle.pair_hash` (pairs/s, higher is better): the per-key hash of a (key, version) pair, two
 * MurmurHash3 x86_32 runs in JS for 64 bits, against node:crypto's MD5 of the same string (the
 * hash the ring already uses for keys, 128 bits from native code) in the same rounds. The pairs
 * are 100 000 keys `user:<i>` with a one-entry clock, the common case. What chose the hash: it must
 * be at least as fast as the obvious native one, since every write pays it twice (old pair out,
 * new pair in).
 *
 * `merkle.update_per_write` (writes/s, higher is better): what a write costs the tree (the bucket
 * hash, the old and the new pair's hashes, two O(depth) toggles on a tree of depth 15, the size of
 * a 100 000-key partition) against what it costs the in-memory store (a `Map.set` of the clock),
 * in the same rounds.
 *
 * `merkle.rebuild_1m` (ms, lower is better): building the tree of a 1 000 000-key partition
 * (depth 18) from its entries, as after a restart (`treeOf`: pairs XORed into leaves, inner nodes
 * computed once bottom up), against hashing the same pairs without the tree, median of 3 each,
 * interleaved. No goal: the figure says whether a pool (piscina) would be worth
 * it for rebuilds (it would only move this time off the node's thread, not shorten it).
 *
 * `merkle.rebuild_1m.pool` (ms, lower is better): the same 1 000 000-key tree built through a pool
 * of 2 worker threads (merkle-pool/, from TypeScript sources through a tsx bootstrap), against the
 * inline rebuild, median of 3 each, interleaved, after one untimed round of each; the pool is
 * started once before the rounds and kept warm, as a pool would be. The entries are split in
 * halves; each worker XORs its half's pair hashes into its own leaf arrays and sends them back
 * (transferred); the main thread XORs the halves leaf by leaf and computes the inner nodes. The
 * time includes getting the entries to the workers in the packed form (below), the form a node
 * would send. `merkle.rebuild_1m.pool_busy` (ms, lower is better): what matters to an actor node,
 * the time its own thread is busy during one rebuild (event-loop utilisation's active time: the
 * packing, the postMessage copies, receiving the leaves, the combining), against the inline
 * rebuild, which keeps it busy throughout. Two forms of getting the entries there, both logged
 * (`clone` once, after the rounds: it takes seconds):
 * `packed`, per half one Uint16Array of what the tree hashes of each pair (the key, and each
 * clock entry's id, counter and number of values; the values themselves need not travel), built
 * on the main thread and transferred (merkle-pool/pack.ts), parsed back into clocks in the worker;
 * `clone`, the `[key, clock]` pairs themselves by structured clone (every object of every clock, values
 * included). The pool here is plain `node:worker_threads` (2 workers, one task each per rebuild),
 * not piscina, which this workspace does not depend on: with one task per worker per rebuild,
 * piscina's scheduling (~0.1 ms a task on this machine) is far below what is measured here. The
 * log also gives the main thread's garbage-collection pauses during each rebuild: with 1 M entries
 * in the heap a full collection pauses for ~0.3 s, and it lands on whichever rebuild allocates
 * when it falls due, so it is most of the spread between rounds (V8's incremental marking steps
 * are not in those pauses, but they also land in the phase that allocates, usually `combine`).
 */
import { createHash } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { nextMessage } from '../../actors/bench/threads-support.ts';
import { type BenchContext, type BenchGroup, type BenchResult, figureResult, result } from '../../../scripts/bench/types.ts';
import { bucketHash, depthFor, MerkleTree, pairHash, type StoredClock, treeOf } from '../src/index.ts';
import { type Entries, type Leaves, packShare, type Share } from './merkle-pool/pack.ts';

const PAIRS = 100_000;
const REBUILD_KEYS = 1_000_000;
const REBUILD_RUNS = 3;

function clockOf(i: number, counter = 1): StoredClock {
  return { entries: [{ id: `n${i % 5}@e${i % 7}`, counter, values: ['v'] }], anonymous: [] };
}

const keys = Array.from({ length: PAIRS }, (_, i) => `user:${i}`);
const clocks = keys.map((_, i) => clockOf(i));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const pairHashGroup: BenchGroup = {
  ids: ['merkle.pair_hash'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    let sink = 0;
    const measured = await ctx.compare([
      {
        name: 'murmur3 x2 (64 bits, JS)',
        initialSize: 10_000,
        async run(size) {
          for (let i = 0; i < size; i++) sink ^= pairHash(keys[i % PAIRS]!, clocks[i % PAIRS]!).lo;
          return size;
        },
      },
      {
        name: 'node:crypto md5 of the same string',
        initialSize: 10_000,
        async run(size) {
          for (let i = 0; i < size; i++) {
            const e = clocks[i % PAIRS]!.entries[0]!;
            const key = keys[i % PAIRS]!;
            sink ^= createHash('md5').update(`${key.length}:${key}:${e.id.length}:${e.id}:${e.counter}:${e.values.length};`).digest().readUInt32BE(0);
          }
          return size;
        },
      },
    ]);
    ctx.log(`  (checksum ${sink})`);
    return [result('merkle.pair_hash', 'pairs/s (higher is better)', measured.get('murmur3 x2 (64 bits, JS)')!, measured.get('node:crypto md5 of the same string')!, { minRatio: 1 })];
  },
};

const updateGroup: BenchGroup = {
  ids: ['merkle.update_per_write'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const tree = treeOf(depthFor(PAIRS), keys.map((k, i) => [k, clocks[i]!] as const));
    const current = [...clocks];
    const store = new Map<string, StoredClock>(keys.map((k, i) => [k, clocks[i]!]));
    ctx.log(`  tree of depth ${tree.depth} over ${PAIRS} keys`);
    let round = 1;
    const measured = await ctx.compare([
      {
        name: 'tree update (bucket hash, two pair hashes, two toggles)',
        initialSize: 10_000,
        async run(size) {
          round++;
          for (let j = 0; j < size; j++) {
            const i = j % PAIRS;
            const key = keys[i]!;
            const next = clockOf(i, round);
            const bucket = tree.bucketOf(bucketHash(key));
            tree.toggle(bucket, pairHash(key, current[i]!));
            tree.toggle(bucket, pairHash(key, next));
            current[i] = next;
          }
          return size;
        },
      },
      {
        name: 'the store write (Map.set of the clock)',
        initialSize: 10_000,
        async run(size) {
          round++;
          for (let j = 0; j < size; j++) {
            const i = j % PAIRS;
            store.set(keys[i]!, clockOf(i, round));
          }
          return size;
        },
      },
    ]);
    return [result('merkle.update_per_write', 'writes/s (higher is better)', measured.get('tree update (bucket hash, two pair hashes, two toggles)')!, measured.get('the store write (Map.set of the clock)')!)];
  },
};

const rebuildGroup: BenchGroup = {
  ids: ['merkle.rebuild_1m'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const entries: [string, StoredClock][] = Array.from({ length: REBUILD_KEYS }, (_, i) => [`user:${i}`, clockOf(i)]);
    const depth = depthFor(REBUILD_KEYS);
    const built: number[] = [];
    const hashed: number[] = [];
    let sink = 0;
    for (let r = 0; r < REBUILD_RUNS; r++) {
      let t0 = performance.now();
      const tree: MerkleTree = treeOf(depth, entries);
      built.push(performance.now() - t0);
      sink ^= tree.root.lo;
      t0 = performance.now();
      for (const [key, clock] of entries) sink ^= pairHash(key, clock).lo;
      hashed.push(performance.now() - t0);
    }
    ctx.log(`  depth ${depth}; rebuild ${built.map((x) => x.toFixed(0)).join(' ')} ms, hashes alone ${hashed.map((x) => x.toFixed(0)).join(' ')} ms (checksum ${sink})`);
    return [figureResult('merkle.rebuild_1m', 'ms (lower is better)', { name: 'tree rebuild, 1 M keys', value: median(built) }, { name: 'the same pair hashes, no tree', value: median(hashed) })];
  },
};

const POOL_THREADS = 2;
const POOL_TIMEOUT_MS = 60_000;


/** Workers running merkle-pool/worker.ts from sources (a tsx bootstrap, `--conditions=source`). */
async function startPool(threads: number): Promise<Worker[]> {
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./merkle-pool/bootstrap.mjs', import.meta.url), { execArgv: ['--conditions=source'] });
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => nextMessage(w, POOL_TIMEOUT_MS, 'the merkle pool worker to start')));
    return workers;
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
}

type ShareKind = Share['kind'];

/** One pool rebuild's timings (ms): the whole, and the main thread's own parts of it. */
interface PoolTimes {
  /** When it started (performance.now()), to find the collections that ran during it. */
  readonly startMs: number;
  readonly totalMs: number;
  /** Splitting (and for `packed`, building the strings). */
  readonly packMs: number;
  /** The postMessage calls (they serialise synchronously). */
  readonly postMs: number;
  /** XORing the returned leaves and computing the inner nodes. */
  readonly combineMs: number;
  /** Event-loop utilisation's active time over the whole rebuild: all of the above, plus receiving the replies. */
  readonly busyMs: number;
}

function share(id: number, depth: number, kind: ShareKind, entries: Entries, from: number, to: number, spare: ArrayBuffer | undefined): Share {
  return kind === 'clone' ? { id, depth, kind, entries: entries.slice(from, to) } : { id, depth, kind, ...packShare(entries, from, to, spare) };
}

/** The pool: its workers, and per worker the packing buffer it handed back last. */
interface Pool {
  readonly workers: readonly Worker[];
  readonly spares: (ArrayBuffer | undefined)[];
}

async function poolRebuild({ workers, spares }: Pool, depth: number, entries: Entries, kind: ShareKind): Promise<{ tree: MerkleTree; times: PoolTimes }> {
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  const per = Math.ceil(entries.length / workers.length);
  const shares = workers.map((_, w) => share(w, depth, kind, entries, w * per, Math.min(entries.length, (w + 1) * per), spares[w]));
  const t1 = performance.now();
  const replies = workers.map((w, i) => {
    const reply = nextMessage<Leaves>(w, POOL_TIMEOUT_MS, 'a merkle pool share\'s leaves');
    const s = shares[i]!;
    w.postMessage(s, s.kind === 'packed' ? [s.units.buffer] : []);
    return reply;
  });
  const t2 = performance.now();
  const leaves = await Promise.all(replies);
  const t3 = performance.now();
  for (const l of leaves) if (l.spare) spares[l.id] = l.spare;
  const count = leaves.reduce((n, l) => n + l.count, 0);
  if (count !== entries.length) throw new Error(`merkle pool: the workers hashed ${count} pairs of ${entries.length}`);
  const [first, ...rest] = leaves;
  const hi = first!.hi;
  const lo = first!.lo;
  for (const l of rest) {
    for (let b = 0; b < hi.length; b++) {
      hi[b] = (hi[b]! ^ l.hi[b]!) >>> 0;
      lo[b] = (lo[b]! ^ l.lo[b]!) >>> 0;
    }
  }
  // One object for every leaf (`add` reads it at once): 2^depth fresh ones would only feed the collector.
  const h = { hi: 0, lo: 0 };
  const tree = MerkleTree.build(depth, (add) => {
    for (let b = 0; b < hi.length; b++) {
      h.hi = hi[b]!;
      h.lo = lo[b]!;
      add(b, h);
    }
  });
  const t4 = performance.now();
  const busyMs = performance.eventLoopUtilization(elu).active;
  return { tree, times: { startMs: t0, totalMs: t4 - t0, packMs: t1 - t0, postMs: t2 - t1, combineMs: t4 - t3, busyMs } };
}

function inlineRebuild(depth: number, entries: Entries): { tree: MerkleTree; startMs: number; totalMs: number; busyMs: number } {
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  const tree = treeOf(depth, entries);
  const totalMs = performance.now() - t0;
  return { tree, startMs: t0, totalMs, busyMs: performance.eventLoopUtilization(elu).active };
}

const ms = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join(' ');

const rebuildPoolGroup: BenchGroup = {
  ids: ['merkle.rebuild_1m.pool', 'merkle.rebuild_1m.pool_busy'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const entries: [string, StoredClock][] = Array.from({ length: REBUILD_KEYS }, (_, i) => [`user:${i}`, clockOf(i)]);
    const depth = depthFor(REBUILD_KEYS);
    const started = performance.now();
    const workers = await startPool(POOL_THREADS);
    const pool: Pool = { workers, spares: workers.map(() => undefined) };
    // The main thread's garbage collections, to tell the rebuilds' own work from V8 collecting a
    // heap that holds 1 M entries (a full collection here takes ~0.3 s and lands on whichever
    // rebuild allocates when it is due).
    const collections: [number, number][] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) collections.push([e.startTime, e.duration]);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const gcDuring = async (spans: readonly (readonly [number, number])[]): Promise<string> => {
      await new Promise((resolve) => setImmediate(resolve));
      return ms(spans.map(([start, total]) => collections.filter(([at]) => at >= start && at < start + total).reduce((sum, [, d]) => sum + d, 0)));
    };
    try {
      ctx.log(`  depth ${depth}; pool of ${POOL_THREADS} workers (tsx, from sources) started in ${(performance.now() - started).toFixed(0)} ms`);
      const inline = { total: [] as number[], busy: [] as number[], spans: [] as [number, number][] };
      const packed: PoolTimes[] = [];
      let reference: MerkleTree | undefined;
      const check = (tree: MerkleTree, what: string): void => {
        if (!tree.equals(reference!)) throw new Error(`merkle pool: the ${what} pool's tree differs from the inline one`);
      };
      for (let r = 0; r <= REBUILD_RUNS; r++) {
        const warmup = r === 0;
        const built = inlineRebuild(depth, entries);
        reference = built.tree;
        const { tree, times: t } = await poolRebuild(pool, depth, entries, 'packed');
        check(tree, 'packed');
        if (warmup) {
          ctx.log(`  first (cold) rebuilds: inline ${built.totalMs.toFixed(0)} ms; packed pool ${t.totalMs.toFixed(0)} ms, main thread busy ${t.busyMs.toFixed(0)} ms (pack ${t.packMs.toFixed(0)})`);
        } else {
          inline.total.push(built.totalMs);
          inline.busy.push(built.busyMs);
          inline.spans.push([built.startMs, built.totalMs]);
          packed.push(t);
        }
      }
      const logPool = (what: string, t: readonly PoolTimes[], gc: string): void =>
        ctx.log(
          `  pool, ${what}: total ${ms(t.map((x) => x.totalMs))} ms; main thread busy ${ms(t.map((x) => x.busyMs))} ms ` +
            `(pack ${ms(t.map((x) => x.packMs))}, post ${ms(t.map((x) => x.postMs))}, combine ${ms(t.map((x) => x.combineMs))}; collecting garbage ${gc})`,
        );
      ctx.log(`  inline: total ${ms(inline.total)} ms, main thread busy ${ms(inline.busy)} ms (of which collecting garbage ${await gcDuring(inline.spans)})`);
      logPool('packed', packed, await gcDuring(packed.map((t) => [t.startMs, t.totalMs])));
      // Structured clone of the pairs themselves, once (seconds a run, far behind): the naive form.
      const cloned = await poolRebuild(pool, depth, entries, 'clone');
      check(cloned.tree, 'clone');
      logPool('clone (one run)', [cloned.times], await gcDuring([[cloned.times.startMs, cloned.times.totalMs]]));
      const inlineFigure = { name: 'inline rebuild (treeOf)', value: median(inline.total) };
      return [
        figureResult('merkle.rebuild_1m.pool', 'ms (lower is better)', { name: `pool of ${POOL_THREADS}, packed entries, total`, value: median(packed.map((x) => x.totalMs)) }, inlineFigure),
        figureResult(
          'merkle.rebuild_1m.pool_busy',
          'ms (lower is better)',
          { name: `pool of ${POOL_THREADS}, packed entries, main thread busy`, value: median(packed.map((x) => x.busyMs)) },
          { name: 'inline rebuild, main thread busy', value: median(inline.busy) },
        ),
      ];
    } finally {
      gcObserver.disconnect();
      await Promise.all(workers.map((w) => w.terminate()));
    }
  },
};

export const merkleBenchmarks: readonly BenchGroup[] = [pairHashGroup, updateGroup, rebuildGroup, rebuildPoolGroup];
