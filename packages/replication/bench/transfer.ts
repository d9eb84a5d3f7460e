/**
 * Ring changes that move data (ring-keeper.ts, transfer-*.ts), on the `threads` runtime: what a
 * join costs in time and bytes, and what it does to clients' tail latency.
 *
 * `transfer.partition_10k` (ms, lower is better) and `transfer.partition_10k.bytes` (bytes, lower
 * is better): the move of one partition holding 10 000 keys.
 *
 * - One cluster of 4 nodes, N = 3 R = 2 W = 2, `ringMembers` n1..n3 (n4 runs and owns nothing),
 *   Q = `PARTITIONS_10K` partitions, the bench's pipe plugin (below) on every node, transfer
 *   knobs at their defaults (2 partitions at once, batches of 512 keys or 256 KiB).
 * - From the first ring and the pure functions (`beginChange`, `planTransfers`), the partitions
 *   that move to n4 when it joins; P is the first of them (the receiver pulls in partition
 *   order). Scanning `t0`, `t1`... finds 10 000 keys of P; the host's `KvClient` writes them
 *   (`VALUE_BYTES`-byte values) and polls every member's storage until each holds all 10 000.
 *   Nothing else is ever written, so the other partitions moving to n4 are empty: n4 receives P
 *   and one empty batch for each of the others.
 * - One untimed join of n4 and leave (the paths of a move run once, so the rounds time optimised
 *   code), then `ROUNDS` rounds of: join n4, await the settled ring on n4, read n4's status and
 *   the `partition-received` event of P; the baseline (below) on the same two nodes; leave n4,
 *   await the settled ring (untimed: it moves P back). The join and the leave give the same rings
 *   in every round (checked: P must move to n4 in each, or the round fails).
 * - Time: the receiver's own duration of P's move (the `partition-received` event's `durationMs`,
 *   from its first pull to its last batch merged, on n4's clock). The log also has the whole
 *   change as n4 saw it (`lastChangeMs`: adopting the start to adopting the end) and on the host
 *   (join asked to settled ring answered).
 * - Time baseline (`vs`): the same bytes between the same two nodes as bare actor messages, in
 *   the transfer's own pattern: a pipe actor on n4 asks a pipe actor on the sending node for one
 *   batch at a time, the next once the last arrived, as many batches as P took (keys / 512), each
 *   a `Uint8Array` of the move's bytes / batches, and times it from its first ask to its last
 *   batch, on n4's clock (the median of `PIPE_RUNS` runs per round). It uses the runtime's
 *   codec, links and mailboxes as the move does, so the ratio is what the store adds on top of
 *   moving the bytes: the sender's key snapshot and sort, reading and packing every key, the
 *   receiver's decoding and checks (a hash per key to check its partition), merging into its
 *   store, and the cursor written after every batch. The pull pattern (one batch on its way per
 *   partition) is the design's flow control, so the baseline keeps it rather than streaming.
 * - Bytes: n4's `bytesReceived` for the round (packed batches: `[store key, stored clock]` pairs),
 *   against the raw payload: the sum over the 10 000 keys of the key's and the value's UTF-8
 *   lengths. The ratio is the move's encoding overhead (the `default/` bucket prefix of the store
 *   key, the stored clock: a replica id, counter and the value's framing, msgpack headers). It is
 *   the same in every round: nothing is written between rounds, so no clock grows.
 * - No goal for either: nothing says yet what a move should cost; the figures are there to be
 *   tracked. The first measures were ~12x the pull loop and 1.66x the raw bytes.
 *
 * `transfer.p99_during_join.put` / `.get` (µs, lower is better, goal at most 2x): clients' p99
 * while a join moves data, against the same cluster with no change, in the same rounds.
 *
 * - One cluster of 4 nodes, N = 3 R = 2 W = 2, `ringMembers` n1..n3, Q at its default (1024),
 *   transfer knobs at their defaults. `PRELOAD_KEYS` keys written once (`VALUE_BYTES`-byte
 *   values), so a join of n4 moves about 3/4 of them (n4 enters the preference list of 3 in 4
 *   partitions), then `WARMUP_OPS` operations untimed, then `WARMUP_JOINS` untimed joins and
 *   leaves of n4 under load (the move's paths and the dual writes run before they are timed).
 * - `ROUNDS` rounds, each: phase A (no change): the load for as long as the join phase before it
 *   lasted (`joinRounds` says why); phase B (join): the same load, started before
 *   asking n4 to join and kept up until n4 answers with the settled ring; the operations started
 *   in between are the sample; then n4 leaves, untimed and without load.
 * - Clocks grow from round to round: a node that dropped a partition (n4 took its place) and gets
 *   it back at the leave mints under a new replica id (store.ts, kv679), so each key written after
 *   a cycle carries one more clock entry. The bytes a join moves grow by ~3-4% a round (4.06 MB
 *   for the first warm-up join, ~5.3 MB at the last round), and operations get a little dearer;
 *   phases A and B of one round are next to each other and see the same clocks.
 * - The load, the same as one-down.ts's (load.ts drives both): the host's `KvClient`,
 *   coordinators n1..n3 in turn in both phases (n4 is not a member in phase A), `IN_FLIGHT`
 *   outstanding, puts and gets alternating over the preloaded keys taken in turn, puts carrying
 *   the key's last context. A failed operation counts in the percentiles with its time to the
 *   error; failures are counted and the first logged (none are expected: writes go to old and new
 *   replicas, reads to the old ones).
 * - The figure is the median over rounds of phase B's p99 against the median of phase A's; p50s,
 *   throughput, the join's duration and what it moved go to the log, and every failed operation,
 *   empty get and get with siblings is counted (all should be 0). `TRANSFER_JOIN_CONTROL=1` runs
 *   phase B without the join (for as long as the last warm-up join took), to see what order and
 *   noise alone do to the ratio. Goal: at most 2x, as for one node down (one-down.ts): a join
 *   that held clients up behind its moves (a busy mailbox, a storage actor merging a whole
 *   partition in one turn) would put the tail far above it, and noise alone moves single rounds
 *   between 0.5x and 3x, which the median of 7 keeps in check.
 *
 * The rounds are fixed (`ROUNDS`; `--rounds` sizes the harness's rate rounds, not these). Both
 * groups take about 45-60 s together on 2 shared cores: ~5 s for the partition, the rest for the
 * tail latency, a third of it preloading and warming up.
 */
import { type ActorRef, type Cluster, defineActor, definePlugin, startCluster, usePlugin } from '@starling/actors';
import { type BenchContext, type BenchGroup, type BenchResult, figureResult } from '../../../scripts/bench/types.ts';
import { median, within } from '../../actors/bench/threads-support.ts';
import {
  beginChange,
  DEFAULT_TRANSFER,
  KvClient,
  partitionOf,
  planTransfers,
  type Ring,
  RingAdmin,
  storeKey,
  type TransferStatus,
  useReplication,
  type VersionVector,
} from '../src/index.ts';
import { describeError, describePhase, drive, failedOf, KINDS, logFailures, type Load, newLoad, opsOf, type PhaseStats, percentiles } from './load.ts';

const NODES = 4;
const MEMBERS = ['n1', 'n2', 'n3'] as const;
const JOINER = 'n4';
const REPLICATION = { n: 3, r: 2, w: 2 } as const;
const ROUNDS = 7;
const VALUE_BYTES = 100;
const VALUE = 'v'.repeat(VALUE_BYTES);
const IN_FLIGHT = 64;
/** Far above any join here (~0.1-5 s); the admin's own ask deadline. */
const CHANGE_TIMEOUT_MS = 60_000;
const STATUS_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 20_000;
const PHASE_TIMEOUT_MS = 90_000;
const POLL_MS = 50;
const ERRORS_LOGGED = 5;

// -------------------------------------------------------------------------------------------------
// The pipe: bare actor messages in the transfer's pattern (the baseline of the move's time)

type PipeMsg =
  /** To the receiving pipe, from the host: pull `batches` batches of `bytes` bytes from `from`, one at a time. */
  | { readonly type: 'pipe-run'; readonly from: ActorRef<PipeMsg>; readonly batches: number; readonly bytes: number; readonly replyTo: ActorRef<PipeDone> }
  | { readonly type: 'pipe-pull'; readonly index: number; readonly bytes: number; readonly replyTo: ActorRef<PipeMsg> }
  | { readonly type: 'pipe-batch'; readonly index: number; readonly data: Uint8Array };

interface PipeDone {
  readonly ms: number;
  readonly bytes: number;
  readonly batches: number;
}

interface PipeState {
  run: { readonly from: ActorRef<PipeMsg>; readonly batches: number; readonly bytes: number; readonly replyTo: ActorRef<PipeDone>; readonly t0: number; received: number } | undefined;
}

const pipeActor = defineActor<PipeMsg, PipeState>({
  name: 'bench-transfer-pipe',
  init: () => ({ run: undefined }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'pipe-run':
        state.run = { from: msg.from, batches: msg.batches, bytes: msg.bytes, replyTo: msg.replyTo, t0: performance.now(), received: 0 };
        ctx.tell(msg.from, { type: 'pipe-pull', index: 0, bytes: msg.bytes, replyTo: ctx.self });
        break;
      case 'pipe-pull': {
        // A fresh buffer per batch, as the sender of a move packs one per pull.
        const data = new Uint8Array(msg.bytes);
        data.fill(msg.index & 0xff);
        ctx.tell(msg.replyTo, { type: 'pipe-batch', index: msg.index, data });
        break;
      }
      case 'pipe-batch': {
        const run = state.run;
        if (run === undefined) break;
        run.received += msg.data.length;
        if (msg.index + 1 < run.batches) ctx.tell(run.from, { type: 'pipe-pull', index: msg.index + 1, bytes: run.bytes, replyTo: ctx.self });
        else {
          ctx.tell(run.replyTo, { ms: performance.now() - run.t0, bytes: run.received, batches: run.batches });
          state.run = undefined;
        }
        break;
      }
    }
    return state;
  },
});

/** Loaded on every node of the partition bench's cluster: the pipe actors. */
export const transferPipePlugin = definePlugin({
  name: 'bench-transfer-pipe',
  module: import.meta.url,
  actors: [pipeActor],
});

const PIPE_NAME = 'bench-transfer-pipe';

// -------------------------------------------------------------------------------------------------
// Shared helpers

function status(admin: RingAdmin, node: string): Promise<TransferStatus> {
  return admin.status(node, { timeoutMs: STATUS_TIMEOUT_MS });
}

/** The moves to the joiner if it joined `ring` now (pure: what every node will compute). */
function joinMoves(ring: Ring): { partition: number; from: string }[] {
  const next = beginChange(ring, { kind: 'join', member: { node: JOINER, weight: 1 } }, ring.claimant);
  return planTransfers(next, REPLICATION.n)
    .filter((t) => t.to === JOINER)
    .map((t) => ({ partition: t.partition, from: t.from }));
}

interface ChangeTiming {
  readonly version: number;
  /** From asking the change to the settled ring answered on `via`, on the host. */
  readonly hostMs: number;
  /** The settled ring (undefined in a control phase without a change). */
  readonly ring: Ring | undefined;
}

/** Asks for a join or leave of the joiner and waits until `via` has the settled ring that ends it. */
async function change(admin: RingAdmin, kind: 'join' | 'leave', via: string): Promise<ChangeTiming> {
  const t0 = performance.now();
  const version = kind === 'join' ? await admin.join(JOINER, { timeoutMs: CHANGE_TIMEOUT_MS }) : await admin.leave(JOINER, { timeoutMs: CHANGE_TIMEOUT_MS });
  const ring = await admin.settled(version + 1, { via, timeoutMs: CHANGE_TIMEOUT_MS });
  return { version, hostMs: performance.now() - t0, ring };
}

/** Writes every key once, `IN_FLIGHT` at a time; resolves with the failures (none expected). */
async function writeAll(kv: KvClient, keys: readonly string[], contexts: Map<string, VersionVector>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      try {
        const r = await kv.put(key, VALUE);
        contexts.set(key, r.context);
      } catch (err) {
        failures.push(`put ${key}: ${describeError(err).text}`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return failures;
}

/** Polls `nodes`' storage until each holds `count` keys (all replicas have every write). */
async function untilStored(kv: KvClient, nodes: readonly string[], count: number, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const stats = await Promise.all(nodes.map((n) => kv.stats(n)));
    if (stats.every((s) => s.storage.keys === count)) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`replicas hold ${stats.map((s) => `${s.storage.node}: ${s.storage.keys}`).join(', ')} keys, expected ${count} each, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// -------------------------------------------------------------------------------------------------
// transfer.partition_10k

/** Q of the partition bench: small, so a partition of 10 000 keys is found by a short scan, and the join's empty moves are few. */
const PARTITIONS_10K = 16;
const PARTITION_KEYS = 10_000;
/** Baseline runs per round (median taken): a run is ~20 round trips, a few ms, but one run in 3-4 lands on a stall 3-5x as long. */
const PIPE_RUNS = 5;

/** Writes reach the third replica shortly after W acknowledged; far above that. */
const STORED_TIMEOUT_MS = 20_000;

interface PartitionRound {
  readonly moveMs: number;
  readonly bytes: number;
  readonly keys: number;
  readonly partitions: number;
  readonly lastChangeMs: number | undefined;
  readonly joinHostMs: number;
  readonly leaveHostMs: number;
  readonly pipeMs: number;
  readonly pipeRunsMs: readonly number[];
}

interface Received {
  readonly partition: number;
  readonly from: string;
  readonly keys: number;
  readonly bytes: number;
  readonly durationMs: number;
}

function isReceived(data: unknown): data is Received & { kind: 'partition-received' } {
  const d = data as { kind?: unknown; partition?: unknown; durationMs?: unknown };
  return typeof d === 'object' && d !== null && d.kind === 'partition-received' && typeof d.partition === 'number' && typeof d.durationMs === 'number';
}

export const transferPartition10k: BenchGroup = {
  ids: ['transfer.partition_10k', 'transfer.partition_10k.bytes'],
  async run(ctx) {
    const started = performance.now();
    const cluster = await startCluster({
      runtime: 'threads',
      nodes: NODES,
      plugins: [useReplication({ defaults: REPLICATION, ringMembers: [...MEMBERS], partitionCount: PARTITIONS_10K }), usePlugin(transferPipePlugin)],
    });
    try {
      return await partitionRounds(ctx, cluster, started);
    } finally {
      await within(cluster.stop(), STOP_TIMEOUT_MS, 'stopping the cluster');
    }
  },
};

async function partitionRounds(ctx: BenchContext, cluster: Cluster, started: number): Promise<BenchResult[]> {
  const admin = new RingAdmin(cluster);
  const kv = new KvClient(cluster, { nodes: MEMBERS });
  const ring0 = await admin.ring(MEMBERS[0]);
  const moves0 = joinMoves(ring0);
  const target = moves0[0];
  if (target === undefined) throw new Error('a join of n4 moves nothing');
  const p = target.partition;

  // 10 000 keys of P, and nothing else in the store.
  const keys: string[] = [];
  for (let i = 0; keys.length < PARTITION_KEYS; i++) {
    const key = `t${i}`;
    if (partitionOf(ring0, storeKey(undefined, key)) === p) keys.push(key);
  }
  const rawBytes = keys.reduce((sum, k) => sum + Buffer.byteLength(k) + Buffer.byteLength(VALUE), 0);
  const t0 = performance.now();
  const failures = await within(writeAll(kv, keys, new Map()), PHASE_TIMEOUT_MS, 'writing the keys');
  if (failures.length > 0) throw new Error(`${failures.length} writes FAILED: ${failures.slice(0, ERRORS_LOGGED).join('; ')}`);
  await untilStored(kv, MEMBERS, PARTITION_KEYS, STORED_TIMEOUT_MS);
  ctx.log(
    `  threads, ${NODES} nodes, ring ${MEMBERS.join(' ')} + ${JOINER} joining, Q=${PARTITIONS_10K}, N=${REPLICATION.n}; a join moves ${moves0.length} partitions to ${JOINER} ` +
      `(${moves0.map((m) => `${m.partition}<-${m.from}`).join(' ')}); partition ${p} (from ${target.from}) holds ${PARTITION_KEYS} keys (${keys[keys.length - 1]} the last scanned), ` +
      `the others none; written and on all 3 replicas in ${((performance.now() - t0) / 1000).toFixed(1)} s; raw payload ${rawBytes} bytes (keys + ${VALUE_BYTES}-byte values)`,
  );

  // n4's account of P's move, from the events it publishes.
  const received: Received[] = [];
  cluster.events.on('custom', (e) => {
    if (e.node === JOINER && e.topic === 'starling.ring' && isReceived(e.data)) received.push(e.data);
  });
  const pipeOn = async (node: string): Promise<ActorRef<PipeMsg>> => cluster.spawn(node, pipeActor, undefined, { name: PIPE_NAME });
  const receiverPipe = await pipeOn(JOINER);
  const senderPipes = new Map<string, ActorRef<PipeMsg>>();
  for (const m of MEMBERS) senderPipes.set(m, await pipeOn(m));
  const pipe = (from: string, batches: number, bytes: number): Promise<PipeDone> =>
    cluster.ask<PipeMsg, PipeDone>(receiverPipe, (replyTo) => ({ type: 'pipe-run', from: senderPipes.get(from)!, batches, bytes, replyTo }), { timeoutMs: PHASE_TIMEOUT_MS });

  const warmJoin = await change(admin, 'join', JOINER);
  const warmLeave = await change(admin, 'leave', JOINER);
  const warmMove = received.find((r) => r.partition === p);
  ctx.log(
    `  warm-up (untimed): join ${warmJoin.hostMs.toFixed(0)} ms on the host (P moved in ${warmMove?.durationMs.toFixed(0) ?? '?'} ms), leave ${warmLeave.hostMs.toFixed(0)} ms; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s since the start`,
  );

  const rounds: PartitionRound[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const ring = await admin.ring(JOINER);
    const moves = joinMoves(ring);
    const mine = moves.find((m) => m.partition === p);
    if (mine === undefined) throw new Error(`round ${r + 1}: partition ${p} does not move to ${JOINER} from ring ${ring.version} (${moves.map((m) => m.partition).join(' ')})`);
    const before = await status(admin, JOINER);
    received.length = 0;
    const join = await change(admin, 'join', JOINER);
    const after = await status(admin, JOINER);
    const move = received.find((e) => e.partition === p);
    if (move === undefined) throw new Error(`round ${r + 1}: no partition-received event of partition ${p} from ${JOINER}`);
    const keysMoved = after.keysReceived - before.keysReceived;
    const bytesMoved = after.bytesReceived - before.bytesReceived;
    const partitionsMoved = after.partitionsReceived - before.partitionsReceived;
    if (keysMoved !== PARTITION_KEYS || move.keys !== PARTITION_KEYS || partitionsMoved !== moves.length || move.bytes !== bytesMoved) {
      ctx.log(`    round ${r + 1}: UNEXPECTED counts: ${keysMoved} keys and ${bytesMoved} bytes received in ${partitionsMoved} partitions (expected ${PARTITION_KEYS} keys in ${moves.length}); P's event: ${move.keys} keys, ${move.bytes} bytes`);
    }

    // The baseline: the same bytes in as many batches, between the same two nodes.
    const batches = Math.ceil(move.keys / DEFAULT_TRANSFER.maxKeys);
    const perBatch = Math.ceil(move.bytes / batches);
    const pipeRuns: number[] = [];
    for (let i = 0; i < PIPE_RUNS; i++) {
      const done = await pipe(mine.from, batches, perBatch);
      if (done.bytes !== perBatch * batches) throw new Error(`the pipe moved ${done.bytes} bytes, expected ${perBatch * batches}`);
      pipeRuns.push(done.ms);
    }
    const leave = await change(admin, 'leave', JOINER);
    const round: PartitionRound = {
      moveMs: move.durationMs,
      bytes: bytesMoved,
      keys: keysMoved,
      partitions: partitionsMoved,
      lastChangeMs: after.lastChangeMs,
      joinHostMs: join.hostMs,
      leaveHostMs: leave.hostMs,
      pipeMs: median(pipeRuns),
      pipeRunsMs: pipeRuns,
    };
    rounds.push(round);
    ctx.log(
      `    round ${r + 1}/${ROUNDS}: P (${move.keys} keys, ${move.bytes} bytes, from ${move.from}) moved in ${move.durationMs.toFixed(1)} ms ` +
        `(${((move.bytes / move.durationMs) * 1000 / 1e6).toFixed(1)} MB/s); whole join: ${round.partitions} partitions, ${round.lastChangeMs?.toFixed(0) ?? '?'} ms on ${JOINER}, ` +
        `${join.hostMs.toFixed(0)} ms on the host; pipe of ${batches} x ${perBatch} bytes ${mine.from}->${JOINER}: ${pipeRuns.map((ms) => ms.toFixed(1)).join(' ')} ms; ` +
        `ratio ${(move.durationMs / round.pipeMs).toFixed(1)}x; leave ${leave.hostMs.toFixed(0)} ms`,
    );
  }
  const moveMs = median(rounds.map((r) => r.moveMs));
  const pipeMs = median(rounds.map((r) => r.pipeMs));
  const bytes = median(rounds.map((r) => r.bytes));
  ctx.log(
    `  partition of ${PARTITION_KEYS} keys: moved in ${moveMs.toFixed(1)} ms (median of ${ROUNDS}; ${rounds.map((r) => r.moveMs.toFixed(0)).join(' ')}), ` +
      `bare pull loop ${pipeMs.toFixed(1)} ms; ${bytes} bytes (${(bytes / PARTITION_KEYS).toFixed(1)} per key) for ${rawBytes} raw; whole join on ${JOINER}: ` +
      `${median(rounds.map((r) => r.lastChangeMs ?? Number.NaN)).toFixed(0)} ms; ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
  );
  return [
    figureResult(
      'transfer.partition_10k',
      'ms (lower is better)',
      { name: `move of a ${PARTITION_KEYS}-key partition`, value: moveMs },
      { name: 'same bytes, same batches, bare actor pull loop', value: pipeMs },
    ),
    figureResult('transfer.partition_10k.bytes', 'bytes (lower is better)', { name: `bytes received for ${PARTITION_KEYS} keys`, value: bytes }, { name: 'raw keys + values', value: rawBytes }),
  ];
}

// -------------------------------------------------------------------------------------------------
// transfer.p99_during_join

/** Keys written before the rounds: a join moves ~3/4 of them to n4, which takes long enough to sample. */
const PRELOAD_KEYS = 30_000;
/**
 * Untimed operations (half puts, half gets) after the preload, then `WARMUP_JOINS` untimed joins
 * and leaves under load: from source the isolates reach their steady rate only after some 30 k
 * operations (one-down.ts), and the move's paths only after a join or two. With 20 000 and one
 * join, phase A's rate still climbed from ~5 k to ~8 k ops/s over the rounds and the join's time
 * fell from 3.4 s to 1.6 s, so the per-round ratio fell with them (1.5x to 0.9x).
 */
const WARMUP_OPS = 40_000;
const WARMUP_JOINS = 2;
/** Fewer operations than this in phase B (a join faster than expected) and its p99s are logged as thin. */
const MIN_JOIN_OPS = 2_000;
/** The phases here last for a time or until an event, so their lines say how many operations they ran. */
const SIZED = { size: true } as const;
/** Under a round's own lines in the log. */
const FAILURE_INDENT = '      ';

interface JoinPhase {
  readonly stats: PhaseStats;
  readonly join: ChangeTiming;
  readonly moved: { readonly keys: number; readonly bytes: number; readonly partitions: number; readonly lastChangeMs: number | undefined };
}

/** Phase B: the load runs from before the join is asked until n4 answers with the settled ring; resolves with the operations started in between. */
async function joinPhase(admin: RingAdmin, kv: KvClient, load: Load): Promise<JoinPhase> {
  const before = await status(admin, JOINER);
  let settled = false;
  const running = drive(kv, load, () => !settled);
  let join: ChangeTiming;
  try {
    join = await change(admin, 'join', JOINER);
  } finally {
    settled = true;
  }
  const stats = await running;
  const after = await status(admin, JOINER);
  return {
    stats,
    join,
    moved: {
      keys: after.keysReceived - before.keysReceived,
      bytes: after.bytesReceived - before.bytesReceived,
      partitions: after.partitionsReceived - before.partitionsReceived,
      lastChangeMs: after.lastChangeMs,
    },
  };
}

interface JoinRound {
  readonly still: PhaseStats;
  readonly joining: JoinPhase;
}

/**
 * `TRANSFER_JOIN_CONTROL=1`: the same rounds with phase B run for as long as the last warm-up join
 * took, without a join: what the order and the length of the phases alone do to the ratio.
 */
const isControl = process.env.TRANSFER_JOIN_CONTROL === '1';

export const transferP99DuringJoin: BenchGroup = {
  ids: ['transfer.p99_during_join.put', 'transfer.p99_during_join.get'],
  async run(ctx) {
    const started = performance.now();
    const cluster = await startCluster({
      runtime: 'threads',
      nodes: NODES,
      plugins: [useReplication({ defaults: REPLICATION, ringMembers: [...MEMBERS] })],
    });
    try {
      return await joinRounds(ctx, cluster, started);
    } finally {
      await within(cluster.stop(), STOP_TIMEOUT_MS, 'stopping the cluster');
    }
  },
};

async function joinRounds(ctx: BenchContext, cluster: Cluster, started: number): Promise<BenchResult[]> {
  const admin = new RingAdmin(cluster);
  const keys = Array.from({ length: PRELOAD_KEYS }, (_, i) => `key-${String(i).padStart(6, '0')}`);
  const kv = new KvClient(cluster, { nodes: MEMBERS });
  const load = newLoad({ keys, value: VALUE, inFlight: IN_FLIGHT, errorsLogged: ERRORS_LOGGED });
  const t0 = performance.now();
  const failures = await within(writeAll(kv, keys, load.contexts), PHASE_TIMEOUT_MS, 'preloading the keys');
  if (failures.length > 0) throw new Error(`${failures.length} preload writes FAILED: ${failures.slice(0, ERRORS_LOGGED).join('; ')}`);
  const t1 = performance.now();
  const warm = await within(drive(kv, load, (n) => n < WARMUP_OPS), PHASE_TIMEOUT_MS, 'warming up');
  const t2 = performance.now();
  ctx.log(
    `  threads, ${NODES} nodes, ring ${MEMBERS.join(' ')} + ${JOINER} joining, Q=${(await admin.ring(MEMBERS[0])).partitionCount}, N=${REPLICATION.n} R=${REPLICATION.r} W=${REPLICATION.w}, ` +
      `${PRELOAD_KEYS} keys preloaded in ${((t1 - t0) / 1000).toFixed(1)} s, ${WARMUP_OPS} ops warm-up in ${((t2 - t1) / 1000).toFixed(1)} s ` +
      `(${((WARMUP_OPS / (t2 - t1)) * 1000).toFixed(0)} ops/s, ${failedOf(warm)} failed), ${IN_FLIGHT} in flight, coordinators ${MEMBERS.join(' ')}${isControl ? '; CONTROL RUN: phase B without a join' : ''}`,
  );
  const warmJoinMs: number[] = [];
  for (let i = 0; i < WARMUP_JOINS; i++) {
    const warmJoin = await within(joinPhase(admin, kv, load), PHASE_TIMEOUT_MS, 'the warm-up join');
    const warmLeave = await change(admin, 'leave', JOINER);
    warmJoinMs.push(warmJoin.join.hostMs);
    ctx.log(
      `    warm-up join ${i + 1}/${WARMUP_JOINS} (untimed): ${warmJoin.moved.keys} keys, ${warmJoin.moved.bytes} bytes in ${warmJoin.moved.partitions} partitions, ` +
        `${warmJoin.join.hostMs.toFixed(0)} ms on the host; leave ${warmLeave.hostMs.toFixed(0)} ms; ${describePhase('load', warmJoin.stats, SIZED)}`,
    );
    logFailures(ctx, 'warm-up join', warmJoin.stats, FAILURE_INDENT);
  }
  // Phase A lasts as long as the join phase before it (the last warm-up join's for the first
  // round), and the control's phase B as long as the last warm-up join. The tails here are
  // stalls: one pause of a thread holds all 64 operations in flight, more than 1% of a phase, so
  // a single stall sets a phase's p99 (put and get p99s come out nearly equal). A phase A of a
  // fixed 8 000 operations (~1 s) beside joins of ~2.5 s saw fewer stalls than B for its length
  // alone, and its p99 moved between 26 and 80 ms from one round to the next; the same length of
  // time gives both phases the same exposure.
  let phaseMs = warmJoinMs[warmJoinMs.length - 1]!;
  const controlMs = phaseMs;

  const rounds: JoinRound[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const tA = performance.now();
    const lengthA = phaseMs;
    const still = await within(drive(kv, load, () => performance.now() - tA < lengthA), PHASE_TIMEOUT_MS, 'phase A');
    if (isControl) {
      const t = performance.now();
      const stats = await within(drive(kv, load, () => performance.now() - t < controlMs), PHASE_TIMEOUT_MS, 'phase B (control)');
      rounds.push({ still, joining: { stats, join: { version: 0, hostMs: stats.wallMs, ring: undefined }, moved: { keys: 0, bytes: 0, partitions: 0, lastChangeMs: undefined } } });
      ctx.log(`    round ${r + 1}/${ROUNDS}: control, no join (phase B for ${controlMs.toFixed(0)} ms)`);
    } else {
      const joining = await within(joinPhase(admin, kv, load), PHASE_TIMEOUT_MS, 'phase B (join)');
      const leave = await change(admin, 'leave', JOINER);
      rounds.push({ still, joining });
      const m = joining.moved;
      ctx.log(
        `    round ${r + 1}/${ROUNDS}: join moved ${m.keys} keys, ${m.bytes} bytes in ${m.partitions} partitions; ${m.lastChangeMs?.toFixed(0) ?? '?'} ms on ${JOINER}, ` +
          `${joining.join.hostMs.toFixed(0)} ms on the host; leave (untimed, no load) ${leave.hostMs.toFixed(0)} ms`,
      );
    }
    const joining = rounds[rounds.length - 1]!.joining;
    phaseMs = joining.stats.wallMs;
    ctx.log(`      ${describePhase('no change', still, SIZED)}`);
    logFailures(ctx, 'no change', still, FAILURE_INDENT);
    ctx.log(`      ${describePhase('during the join', joining.stats, SIZED)}${opsOf(joining.stats) < MIN_JOIN_OPS ? ` (THIN: fewer than ${MIN_JOIN_OPS} operations)` : ''}`);
    logFailures(ctx, 'during the join', joining.stats, FAILURE_INDENT);
  }

  const out: BenchResult[] = [];
  for (const kind of KINDS) {
    const a = rounds.map((r) => percentiles(r.still, kind));
    const b = rounds.map((r) => percentiles(r.joining.stats, kind));
    ctx.log(
      `  ${kind}: p50 no change ${median(a.map((p) => p.p50)).toFixed(0)} µs, during a join ${median(b.map((p) => p.p50)).toFixed(0)} µs; ` +
        `p99 no change ${median(a.map((p) => p.p99)).toFixed(0)} µs, during a join ${median(b.map((p) => p.p99)).toFixed(0)} µs; ` +
        `p99 ratio per round: ${rounds.map((_, i) => (b[i]!.p99 / a[i]!.p99).toFixed(2)).join(' ')}`,
    );
    out.push(
      figureResult(
        `transfer.p99_during_join.${kind}`,
        'µs (lower is better)',
        { name: `kv.${kind} p99 while n4 joins`, value: median(b.map((p) => p.p99)) },
        { name: `kv.${kind} p99, no change (same rounds)`, value: median(a.map((p) => p.p99)) },
        JOIN_GOAL,
      ),
    );
  }
  const failedA = rounds.reduce((n, r) => n + failedOf(r.still), 0);
  const failedB = rounds.reduce((n, r) => n + failedOf(r.joining.stats), 0);
  const opsB = rounds.reduce((n, r) => n + opsOf(r.joining.stats), 0);
  const opsA = rounds.reduce((n, r) => n + opsOf(r.still), 0);
  const empty = rounds.reduce((n, r) => n + r.still.emptyGets + r.joining.stats.emptyGets, 0);
  const siblings = rounds.reduce((n, r) => n + r.still.siblingGets + r.joining.stats.siblingGets, 0);
  ctx.log(
    `  joins: median ${median(rounds.map((r) => r.joining.join.hostMs)).toFixed(0)} ms on the host; failed operations during joins: ${failedB} of ${opsB}${failedB > 0 ? ' (SHOULD BE 0)' : ''}, ` +
      `without: ${failedA} of ${opsA}; empty gets ${empty}${empty > 0 ? ' (SHOULD BE 0)' : ''}, gets with siblings ${siblings}${siblings > 0 ? ' (SHOULD BE 0)' : ''}; ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
  );
  return out;
}

/** How much a join in progress may cost the tail, at most (docs/benchmarks.md says why). */
const JOIN_GOAL = { maxRatio: 2 } as const;
