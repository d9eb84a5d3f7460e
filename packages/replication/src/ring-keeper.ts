/**
 * `/system/ring`: each node's copy of the ring (principle 7), and the moves of a ring change.
 *
 * Changes. A join or leave asked of any node is held there and sent to the claimant named in the
 * ring, again every gossip round until it answers: a change asked while the claimant is
 * unreachable waits and completes once it is reachable. Only the claimant commits, one change at a
 * time, in two steps (Riak's pending ownership): first a ring whose `next` says where the change
 * leads; then, once every node that receives a partition has confirmed all of it and every
 * leaving node has handed its hints over, `next` as the ring. Each committed ring goes to every
 * node at once and spreads by gossip (each node sends its ring to one random node every
 * `ringGossipIntervalMs`, push-pull); a node adopts any valid ring that supersedes its own. A node
 * started without a ring on disk commits nothing until a majority of its peers sent theirs.
 * Making another node the claimant is an operator's explicit action (`ring-reassign`), taken
 * after the same majority's rings.
 *
 * Moves (transfer-plan.ts says what moves; transfer-receiver.ts paces it): the receiving node
 * pulls each partition from its sender in batches, one batch per partition on its way, a few
 * partitions at a time, and keeps its cursor with the data. The sender serves pulls from its
 * store without any state of its own, so a restarted sender just goes on. While a change is in
 * progress writes go to old and new replicas and reads to the old ones (coordinator.ts); a node
 * drops a partition only when it adopts the ring that ends the change, which the claimant commits
 * only after every receiver confirmed.
 *
 * The store and hint store live on the node's disk area (principle 8), shared with
 * `/system/storage` on the same node: this actor reads them to serve pulls, merges received
 * batches into the store, and drops moved partitions.
 */
import { type ActorContext, type ActorRef, defineActor, MessageTooLargeError, selectActor, StarlingError } from '@starling/actors';
import { COORDINATOR_PATH } from './coordinator.ts';
import { sync } from './dvv.ts';
import { type HintStore, openHints } from './hints.ts';
import type { StorageReply, StorageRequest } from './protocol.ts';
import {
  beginChange,
  changingNodes,
  finishChange,
  partitionOf,
  preferenceList,
  reassignClaimant,
  type Ring,
  ringDigest,
  type RingChange,
  ringNodes,
  sameRing,
  settledRing,
  supersedes,
} from './ring.ts';
import { savedRing, saveRing } from './ring-disk.ts';
import {
  isWellFormedRingMessage,
  type RingChangeReply,
  type RingMessage,
  ringRef,
  type RingSettled,
  type RingUpdated,
  type TransferConfig,
  type TransferStatus,
} from './ring-protocol.ts';
import { STORAGE_PATH } from './storage.ts';
import { openStore, type Store, type StoreKind } from './store.ts';
import { type BatchLimits, decodeBatch, readBatch } from './transfer-batch.ts';
import { droppedPartitions, holdsPartition, planTransfers } from './transfer-plan.ts';
import { type Finished, type Pull, Receiver, type ReceiverProgress } from './transfer-receiver.ts';

/** The ring keeper's props. */
export interface RingKeeperProps {
  readonly ring: Ring;
  /** Every node of the cluster: those outside the ring serve clients too, so they hear every ring. */
  readonly clusterNodes: readonly string[];
  readonly gossipIntervalMs: number;
  readonly store: StoreKind;
  readonly transfer: TransferConfig;
}

interface Counters {
  partitionsReceived: number;
  keysReceived: number;
  bytesReceived: number;
  batchesServed: number;
  keysSent: number;
  bytesSent: number;
  partitionsDropped: number;
  keysDropped: number;
  hintsRehomed: number;
  batchesRefused: number;
  strayPartitionsDropped: number;
  keysTooLarge: number;
}

/** One stray partition on its way to its replicas. */
interface Sweep {
  readonly partition: number;
  /** Its keys when the sweep began, sorted. */
  readonly keys: string[];
  /** Keys before this index are confirmed. */
  next: number;
  /** The batch on its way. */
  chunk: string[];
  /** The clock sent for each key: the partition is dropped only if none changed since. */
  readonly sent: Map<string, unknown>;
  readonly awaiting: Set<string>;
  sentAtMs: number;
}

interface RingState {
  ring: Ring;
  readonly clusterNodes: readonly string[];
  readonly gossipIntervalMs: number;
  readonly transfer: TransferConfig;
  readonly store: Store;
  readonly hints: HintStore;
  /** Drawn at each start: timer messages and pull ids of an earlier start never match. */
  readonly token: string;
  /** Changes asked of this node, by id, until the claimant answers. */
  readonly asked: Map<string, { readonly change: RingChange; readonly replyTo: ActorRef<RingChangeReply> }>;
  nextAsk: number;
  /** Claimant: nodes ready for the change in progress. */
  readonly ready: Set<string>;
  receiver: Receiver | undefined;
  /** Sender: a sorted snapshot of the keys of each partition being pulled, by `receiver:partition`. */
  readonly serving: Map<string, { readonly keys: string[]; usedAtMs: number }>;
  /** Hints a leaving node sent to their new holder, by revision. */
  readonly rehoming: Map<number, { readonly owner: string; readonly key: string; readonly sentAtMs: number }>;
  readonly waiters: { readonly version: number; readonly replyTo: ActorRef<RingSettled> }[];
  /** Stray partitions on their way to their replicas. */
  readonly sweeps: Map<number, Sweep>;
  /**
   * After a start without a ring on disk (a first start, or a restart empty): the peers whose
   * ring this node has heard, until they and it are a majority of the nodes it knows (then
   * undefined). Until then it commits nothing: as a claimant restarted empty it would otherwise
   * commit a version the cluster already has.
   */
  syncing: Set<string> | undefined;
  /** Changes that reached this node as claimant before it had heard a peer's ring: committed once it has (bounded). */
  readonly deferred: Extract<RingMessage, { type: 'ring-commit' }>[];
  /** Operators' asks to make this node the claimant, waiting for a majority's rings. */
  readonly reassigns: ActorRef<RingChangeReply>[];
  /** Nodes that left: they still hear the ring by gossip (a leaver must learn that it left). */
  readonly former: Set<string>;
  changeStartedAtMs: number | undefined;
  lastChangeMs: number | undefined;
  readonly counters: Counters;
  malformedMessages: number;
}

/** Change ids the claimant committed, on its disk (a repeated ask is answered, never applied twice). */
const COMMITTED_AREA = 'starling.ring.committed';
const PROGRESS_AREA = 'starling.transfer';
/** Committed change ids kept, at most. */
const COMMITTED_KEPT = 1_024;
/** A partition snapshot unused this long is forgotten by its sender, in ms. */
const SNAPSHOT_IDLE_MS = 30_000;
/** Waiters kept per node, at most (a flood of asks cannot grow memory without bound). */
const MAX_WAITERS = 1_024;
const MAX_HOPS = 2;
const MAX_DEFERRED = 64;

function publish(ctx: ActorContext<RingMessage>, data: Record<string, unknown>): void {
  ctx.publish('starling.ring', data);
}

/**
 * Every node the ring goes to, but this one: the cluster's nodes (a node outside the ring still
 * coordinates requests, and must route them by the current ring), the ring's, and those that left.
 */
function peers(state: RingState, ctx: ActorContext<RingMessage>): string[] {
  const out = new Set([...state.clusterNodes, ...ringNodes(state.ring)]);
  for (const n of state.former) out.add(n);
  out.delete(ctx.nodeName);
  return [...out];
}

// -------------------------------------------------------------------------------------------------
// Adopting a ring

function adopt(state: RingState, ring: Ring, ctx: ActorContext<RingMessage>): void {
  const before = state.ring;
  state.ring = ring;
  saveRing(ctx.disk, ring);
  publish(ctx, { kind: 'ring-adopted', version: ring.version, digest: ringDigest(ring), isChanging: ring.next !== undefined });
  const updated: RingUpdated = { type: 'ring-updated', ring };
  ctx.tell(selectActor<RingUpdated>(ctx.nodeName, COORDINATOR_PATH), updated);
  ctx.tell(selectActor<RingUpdated>(ctx.nodeName, STORAGE_PATH), updated);
  for (const node of ringNodes(before)) if (!ringNodes(ring).includes(node)) state.former.add(node);
  for (const node of ringNodes(ring)) state.former.delete(node);
  // Safe: a ring that ends a change is committed only after every receiver confirmed its partitions.
  // Not on a switch between two rings of one version (an operator's error): no move confirmed
  // anything, so what this node no longer holds stays until its stray sweep has handed it on.
  const dropped = before.version === ring.version ? [] : droppedPartitions(before, ring, state.transfer.n, ctx.nodeName);
  for (const p of dropped) {
    state.counters.keysDropped += state.store.drop(p);
    state.counters.partitionsDropped++;
  }
  if (before.next?.since !== ring.next?.since) state.ready.clear();
  if (ring.next !== undefined) {
    if (state.receiver?.version !== ring.next.since) startReceiving(state, ring, ctx);
  } else {
    state.receiver = undefined;
    ctx.disk.area<ReceiverProgress>(PROGRESS_AREA).delete('progress');
    if (state.changeStartedAtMs !== undefined) {
      state.lastChangeMs = ctx.now() - state.changeStartedAtMs;
      state.changeStartedAtMs = undefined;
      publish(ctx, { kind: 'change-finished', version: ring.version, durationMs: state.lastChangeMs });
    }
  }
  for (let i = state.waiters.length - 1; i >= 0; i--) {
    const w = state.waiters[i]!;
    if (ring.next === undefined && ring.version >= w.version) {
      ctx.tell(w.replyTo, { type: 'ring-settled', ring });
      state.waiters.splice(i, 1);
    }
  }
}

function startReceiving(state: RingState, ring: Ring, ctx: ActorContext<RingMessage>): void {
  const since = ring.next!.since;
  const { n } = state.transfer;
  const removed = ring.next!.removed;
  const incoming = planTransfers(ring, n).filter((t) => t.to === ctx.nodeName);
  const saved = ctx.disk.area<ReceiverProgress>(PROGRESS_AREA).get('progress');
  // Other old replicas stand in for a sender that does not answer; a removed node is never asked.
  const holders = (t: { partition: number }): string[] => preferenceList(ring, t.partition, n).filter((x) => x !== ctx.nodeName && x !== removed);
  // A partition only the removed node held (N = 1) has nobody to come from: it is lost, not awaited.
  const planned = incoming.flatMap((t) => (t.from !== removed ? [t] : holders(t).length > 0 ? [{ ...t, from: holders(t)[0]! }] : []));
  state.receiver = new Receiver(since, planned, state.transfer, state.token, saved, holders);
  state.changeStartedAtMs ??= ctx.now();
  publish(ctx, { kind: 'change-started', version: ring.version, since, incoming: incoming.length });
  pullDue(state, ctx);
  reportIfReady(state, ctx);
}

/**
 * Started without a ring on disk: asks every peer for its ring (again every transfer tick, since
 * peers starting at the same time may not be there yet) rather than wait for gossip.
 */
function askPeersForRings(state: RingState, ctx: ActorContext<RingMessage>): void {
  if (state.syncing === undefined) return;
  for (const node of peers(state, ctx)) ctx.tell(ringRef(node), { type: 'ring-state', ring: state.ring, from: ctx.nodeName, pull: true });
}

/**
 * A peer's ring: adopted if newer. Two rings of one version should never exist; if an operator's
 * error made them, every node converges on the same one (ring.ts orders them) rather than staying
 * split. Push-pull: a sender whose ring lost (or that asks) hears this node's at once.
 */
function onRingState(state: RingState, msg: Extract<RingMessage, { type: 'ring-state' }>, ctx: ActorContext<RingMessage>): void {
  if (msg.ring.partitionCount !== state.ring.partitionCount) return;
  const isNewer = supersedes(msg.ring, state.ring);
  if (isNewer) adopt(state, msg.ring, ctx);
  const from = msg.from !== undefined && msg.from !== ctx.nodeName ? msg.from : undefined;
  if (from === undefined) return;
  if (!isNewer && (msg.pull === true || !sameRing(msg.ring, state.ring))) ctx.tell(ringRef(from), { type: 'ring-state', ring: state.ring, from: ctx.nodeName });
  if (state.syncing !== undefined) {
    state.syncing.add(from);
    syncedIfMajority(state, ctx);
  }
}

/** Ends syncing once this node and the ring nodes it heard are a majority of the ring's nodes; commits what waited. */
function syncedIfMajority(state: RingState, ctx: ActorContext<RingMessage>): void {
  const heard = state.syncing;
  if (heard === undefined) return;
  // The voters are the ring's nodes (of the newest ring heard so far): nodes outside it have no
  // say, and a reassignment does not wait for the claimant the operator declared gone.
  const voters = new Set(ringNodes(state.ring));
  if (state.reassigns.length > 0 && state.ring.claimant !== ctx.nodeName) voters.delete(state.ring.claimant);
  let votes = voters.has(ctx.nodeName) ? 1 : 0;
  for (const node of heard) if (voters.has(node) && node !== ctx.nodeName) votes++;
  if (votes <= voters.size / 2) return;
  state.syncing = undefined;
  for (const replyTo of state.reassigns.splice(0)) reassign(state, replyTo, ctx);
  for (const commit of state.deferred.splice(0)) onCommit(state, commit, ctx);
  maybeFinish(state, ctx);
}

/** Makes this node the claimant (the operator's call), once it holds the newest ring a majority has. */
function reassign(state: RingState, replyTo: ActorRef<RingChangeReply>, ctx: ActorContext<RingMessage>): void {
  if (state.ring.claimant === ctx.nodeName) return ctx.tell(replyTo, { type: 'ring-committed', version: state.ring.version });
  try {
    adopt(state, reassignClaimant(state.ring, ctx.nodeName), ctx);
  } catch (err) {
    if (!(err instanceof StarlingError)) throw err;
    return ctx.tell(replyTo, { type: 'ring-refused', code: String(err.code), message: err.message });
  }
  broadcast(state, ctx);
  ctx.tell(replyTo, { type: 'ring-committed', version: state.ring.version });
  maybeFinish(state, ctx);
}

/** Sends a ring this node committed to every node at once, rather than waiting for gossip. */
function broadcast(state: RingState, ctx: ActorContext<RingMessage>, also: readonly string[] = []): void {
  const to = new Set([...peers(state, ctx), ...also]);
  to.delete(ctx.nodeName);
  for (const node of to) ctx.tell(ringRef(node), { type: 'ring-state', ring: state.ring, from: ctx.nodeName });
}

// -------------------------------------------------------------------------------------------------
// The claimant

function committedIds(ctx: ActorContext<RingMessage>): Map<string, number> {
  const area = ctx.disk.area<Map<string, number>>(COMMITTED_AREA);
  let ids = area.get('ids');
  if (ids === undefined) {
    ids = new Map();
    area.set('ids', ids);
  }
  return ids;
}

/** A change already reflected by the settled ring (asked again after a claimant lost its memory of it), if so the version. */
function alreadyDone(ring: Ring, change: RingChange): boolean {
  const settled = settledRing(ring);
  if (change.kind === 'join') return settled.members.some((m) => m.node === change.member.node && m.weight === change.member.weight);
  const isLeaving = !settled.members.some((m) => m.node === change.node) && ring.members.some((m) => m.node === change.node);
  // A leave in progress becomes forced by a forced ask (its node is gone for good): not done yet.
  return isLeaving && (change.force !== true || ring.next?.removed === change.node);
}

function onCommit(state: RingState, msg: Extract<RingMessage, { type: 'ring-commit' }>, ctx: ActorContext<RingMessage>): void {
  const answer = (reply: RingChangeReply): void => ctx.tell(ringRef(msg.from), { type: 'ring-commit-answer', id: msg.id, reply });
  if (state.syncing !== undefined) {
    // Not before this node has heard the cluster's ring: its own may be the configured one, and
    // "already done" or a commit from it would be wrong. The asker repeats anyway; this saves a round.
    if (state.deferred.length < MAX_DEFERRED) state.deferred.push(msg);
    return;
  }
  if (state.ring.claimant !== ctx.nodeName) {
    // A stale view of who the claimant is: pass it on (a bounded number of times; the asker repeats).
    if (msg.hops < MAX_HOPS) ctx.tell(ringRef(state.ring.claimant), { ...msg, hops: msg.hops + 1 });
    return;
  }
  const ids = committedIds(ctx);
  const version = ids.get(msg.id);
  if (version !== undefined) return answer({ type: 'ring-committed', version });
  if (alreadyDone(state.ring, msg.change)) return answer({ type: 'ring-committed', version: state.ring.version });
  // One change at a time (the asker repeats until this one is done), but a node gone for good
  // that the change adds or removes can be forced out: the change would wait for it forever.
  const isForcedOut = msg.change.kind === 'leave' && msg.change.force === true && changingNodes(state.ring).includes(msg.change.node);
  if (state.ring.next !== undefined && !isForcedOut) return;
  try {
    const next = beginChange(state.ring, msg.change, ctx.nodeName);
    ids.set(msg.id, next.version);
    for (const id of ids.keys()) {
      if (ids.size <= COMMITTED_KEPT) break;
      ids.delete(id);
    }
    adopt(state, next, ctx);
    publish(ctx, { kind: 'change-committed', version: next.version, change: msg.change });
    broadcast(state, ctx);
    answer({ type: 'ring-committed', version: next.version });
    maybeFinish(state, ctx);
  } catch (err) {
    if (!(err instanceof StarlingError)) throw err;
    answer({ type: 'ring-refused', code: String(err.code), message: err.message });
  }
}

/** The nodes whose confirmation ends the change in progress: every receiver, and every leaving node (for its hints). */
function awaited(ring: Ring, n: number): Set<string> {
  const out = new Set(planTransfers(ring, n).map((t) => t.to));
  const staying = new Set(ring.next?.members.map((m) => m.node));
  for (const m of ring.members) if (!staying.has(m.node)) out.add(m.node);
  // A node removed by force is gone: nobody waits for it.
  if (ring.next?.removed !== undefined) out.delete(ring.next.removed);
  return out;
}

function maybeFinish(state: RingState, ctx: ActorContext<RingMessage>): void {
  const { ring } = state;
  if (ring.next === undefined || ring.claimant !== ctx.nodeName || state.syncing !== undefined) return;
  for (const node of awaited(ring, state.transfer.n)) if (!state.ready.has(node)) return;
  const before = ringNodes(ring);
  adopt(state, finishChange(ring, ctx.nodeName), ctx);
  // Leavers are no longer ring nodes: they hear it directly.
  broadcast(state, ctx, before);
}

// -------------------------------------------------------------------------------------------------
// Moves

function isLeaving(state: RingState, node: string): boolean {
  return !settledRing(state.ring).members.some((m) => m.node === node);
}

/** Tells the claimant this node has all it had to receive (and, leaving, holds no hints), while the change is in progress. */
function reportIfReady(state: RingState, ctx: ActorContext<RingMessage>): void {
  const { next } = state.ring;
  if (next === undefined || state.receiver === undefined || !state.receiver.isDone) return;
  if (isLeaving(state, ctx.nodeName) && state.hints.count() > 0) return;
  ctx.tell(ringRef(state.ring.claimant), { type: 'ring-ready', since: next.since, node: ctx.nodeName });
}

function sendPull(state: RingState, pull: Pull, ctx: ActorContext<RingMessage>): void {
  ctx.tell(ringRef(pull.from), { type: 'ring-pull', reqId: pull.reqId, partition: pull.partition, after: pull.after, replyTo: ctx.self });
}

function pullDue(state: RingState, ctx: ActorContext<RingMessage>): void {
  if (state.receiver === undefined) return;
  for (const pull of state.receiver.due(ctx.now())) sendPull(state, pull, ctx);
}

function serve(state: RingState, msg: Extract<RingMessage, { type: 'ring-pull' }>, ctx: ActorContext<RingMessage>): void {
  const now = ctx.now();
  // One snapshot per receiver and partition: another receiver's pass, or an older one, may predate writes this one needs.
  const id = `${msg.replyTo.node}:${msg.partition}`;
  let snapshot = state.serving.get(id);
  if (snapshot === undefined || msg.after === null) {
    // A new pass takes a new snapshot: keys written since reach the receiver as writes.
    snapshot = { keys: state.store.keys(msg.partition).sort(), usedAtMs: now };
    state.serving.set(id, snapshot);
  }
  snapshot.usedAtMs = now;
  let limits: BatchLimits = state.transfer;
  for (;;) {
    const batch = readBatch(state.store, msg.partition, snapshot.keys, msg.after, limits);
    try {
      ctx.tell(msg.replyTo, { type: 'ring-batch', reqId: msg.reqId, partition: msg.partition, from: ctx.nodeName, data: batch.data, lastKey: batch.lastKey, isLast: batch.isLast });
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err;
      if (batch.keys > 1) {
        limits = { ...limits, maxKeys: 1 };
        continue;
      }
      // One key too large for any message (siblings grown past maxMessageBytes): it cannot move,
      // so the move goes on past it; its other replicas keep it. Counted, never a crash loop.
      state.counters.keysTooLarge++;
      const skipped = readBatch(state.store, msg.partition, snapshot.keys, msg.after, { maxKeys: 1, maxBytes: 0 });
      ctx.tell(msg.replyTo, { type: 'ring-batch', reqId: msg.reqId, partition: msg.partition, from: ctx.nodeName, data: new Uint8Array(0), lastKey: skipped.lastKey, isLast: skipped.isLast });
      return;
    }
    state.counters.batchesServed++;
    state.counters.keysSent += batch.keys;
    state.counters.bytesSent += batch.data.length;
    return;
  }
}

function onBatch(state: RingState, msg: Extract<RingMessage, { type: 'ring-batch' }>, ctx: ActorContext<RingMessage>): void {
  const receiver = state.receiver;
  if (receiver === undefined || !receiver.expects(msg.reqId, msg.partition, msg.from)) return;
  const entries = decodeBatch(msg.data);
  // Nothing of a bad batch is merged; its pull is asked again when it times out.
  if (entries === undefined || entries.some(([key]) => partitionOf(state.ring, key) !== msg.partition) || (entries.length > 0 && msg.lastKey !== entries[entries.length - 1]![0])) {
    state.counters.batchesRefused++;
    return;
  }
  for (const [key, clock] of entries) {
    const stored = state.store.get(msg.partition, key);
    state.store.put(msg.partition, key, stored ? sync(stored, clock) : clock);
  }
  state.counters.keysReceived += entries.length;
  state.counters.bytesReceived += msg.data.length;
  const outcome = receiver.merged(msg.reqId, msg.partition, msg.from, { keys: entries.length, bytes: msg.data.length, lastKey: msg.lastKey, isLast: msg.isLast }, ctx.now());
  ctx.disk.area<ReceiverProgress>(PROGRESS_AREA).set('progress', receiver.progress());
  if ('next' in outcome) return sendPull(state, outcome.next, ctx);
  onFinished(state, outcome.finished, ctx);
  pullDue(state, ctx);
  reportIfReady(state, ctx);
}

function onFinished(state: RingState, f: Finished, ctx: ActorContext<RingMessage>): void {
  state.counters.partitionsReceived++;
  publish(ctx, { kind: 'partition-received', version: state.ring.version, partition: f.partition, from: f.from, keys: f.keys, bytes: f.bytes, durationMs: f.durationMs });
}

/**
 * A node leaving the ring hands its hints over before it goes: each to a node that stays, as a
 * hint for its owner, or, when the owner is leaving too, as data to the partition's first new
 * replica. Acknowledged by revision, as handoff is (storage.ts).
 */
function rehomeHints(state: RingState, ctx: ActorContext<RingMessage>): void {
  if (!isLeaving(state, ctx.nodeName) || state.hints.count() === 0) return;
  const now = ctx.now();
  const settled = settledRing(state.ring);
  const staying = new Set(settled.members.map((m) => m.node));
  let room = state.transfer.maxKeys;
  for (const [rev, r] of state.rehoming) {
    if (state.hints.get(r.owner, r.key)?.rev !== rev || now - r.sentAtMs >= state.transfer.retryAfterMs) state.rehoming.delete(rev);
    else room--;
  }
  for (const owner of state.hints.owners()) {
    for (const h of state.hints.ofOwner(owner, state.transfer.maxKeys)) {
      if (room <= 0) return;
      if (state.rehoming.has(h.rev)) continue;
      const replicas = preferenceList(settled, h.partition, state.transfer.n).filter((n) => n !== ctx.nodeName);
      const holder = staying.has(owner) ? replicas.find((n) => n !== owner) ?? settled.members.find((m) => m.node !== owner && m.node !== ctx.nodeName)?.node : replicas[0];
      if (holder === undefined) continue;
      state.rehoming.set(h.rev, { owner, key: h.key, sentAtMs: now });
      room--;
      const write: StorageRequest = {
        type: 'st-write',
        reqId: `r${state.token}.${h.rev}`,
        partition: h.partition,
        key: h.key,
        clock: h.clock,
        ringVersion: state.ring.version,
        ...(staying.has(owner) ? { hintFor: owner } : {}),
        replyTo: ctx.self as ActorRef<StorageReply>,
      };
      ctx.tell(selectActor<StorageRequest>(holder, STORAGE_PATH), write);
    }
  }
}

function onRehomed(state: RingState, msg: Extract<RingMessage, { type: 'st-written' }>, ctx: ActorContext<RingMessage>): void {
  const prefix = `r${state.token}.`;
  if (!msg.reqId.startsWith(prefix)) return;
  const rev = Number(msg.reqId.slice(prefix.length));
  const r = state.rehoming.get(rev);
  if (r === undefined) return;
  state.rehoming.delete(rev);
  if (state.hints.remove(r.owner, r.key, rev)) state.counters.hintsRehomed++;
  if (state.hints.count() === 0) reportIfReady(state, ctx);
}

// -------------------------------------------------------------------------------------------------
// Strays

/** Stray partitions swept at once, at most. */
const STRAY_SWEEPS = 8;

/**
 * Data this node holds for a partition it is not a replica of, with no change in progress: a
 * write from a coordinator with an older ring that landed after the move, or a hint handed over
 * to a former replica. It goes to the partition's replicas, a batch at a time, each batch
 * confirmed by all of them; the partition is dropped once every key was confirmed and none
 * changed since. A few partitions at a time ({@link STRAY_SWEEPS}).
 */
function sweepStrays(state: RingState, ctx: ActorContext<RingMessage>): void {
  const now = ctx.now();
  for (const sweep of state.sweeps.values()) if (sweep.awaiting.size > 0 && now - sweep.sentAtMs >= state.transfer.retryAfterMs) sendSweep(state, sweep, ctx);
  if (state.ring.next !== undefined || state.sweeps.size >= STRAY_SWEEPS) return;
  for (const partition of state.store.partitions()) {
    if (state.sweeps.size >= STRAY_SWEEPS) break;
    if (state.sweeps.has(partition) || holdsPartition(state.ring, partition, state.transfer.n, ctx.nodeName)) continue;
    const sweep: Sweep = { partition, keys: state.store.keys(partition).sort(), next: 0, chunk: [], sent: new Map(), awaiting: new Set(), sentAtMs: now };
    state.sweeps.set(partition, sweep);
    advanceSweep(state, sweep, ctx);
  }
}

/** The next batch of a sweep, or its end once every key was confirmed. */
function advanceSweep(state: RingState, sweep: Sweep, ctx: ActorContext<RingMessage>): void {
  sweep.next += sweep.chunk.length;
  sweep.chunk = sweep.keys.slice(sweep.next, sweep.next + state.transfer.maxKeys);
  if (sweep.chunk.length > 0) return sendSweep(state, sweep, ctx);
  const { partition } = sweep;
  state.sweeps.delete(partition);
  // Every key confirmed: drop, unless something was written here meanwhile (a later round sweeps again).
  const current = state.store.keys(partition);
  const unchanged = current.length === sweep.sent.size && current.every((k) => state.store.get(partition, k) === sweep.sent.get(k));
  if (unchanged && !holdsPartition(state.ring, partition, state.transfer.n, ctx.nodeName)) {
    state.counters.keysDropped += state.store.drop(partition);
    state.counters.strayPartitionsDropped++;
  }
}

function sendSweep(state: RingState, sweep: Sweep, ctx: ActorContext<RingMessage>): void {
  const { partition } = sweep;
  const replicas = preferenceList(state.ring, partition, state.transfer.n).filter((node) => node !== ctx.nodeName);
  sweep.awaiting.clear();
  sweep.sentAtMs = ctx.now();
  for (const key of sweep.chunk) {
    const clock = state.store.get(partition, key);
    if (clock === undefined) continue;
    sweep.sent.set(key, clock);
    for (const node of replicas) {
      const reqId = `s${state.token}.${partition}.${++state.nextAsk}`;
      sweep.awaiting.add(reqId);
      ctx.tell(selectActor<StorageRequest>(node, STORAGE_PATH), { type: 'st-write', reqId, partition, key, clock, ringVersion: state.ring.version, replyTo: ctx.self as ActorRef<StorageReply> });
    }
  }
  if (sweep.awaiting.size === 0) advanceSweep(state, sweep, ctx);
}

function onSweepAck(state: RingState, msg: Extract<RingMessage, { type: 'st-written' }>, ctx: ActorContext<RingMessage>): boolean {
  const prefix = `s${state.token}.`;
  if (!msg.reqId.startsWith(prefix)) return false;
  const partition = Number(msg.reqId.slice(prefix.length).split('.')[0]);
  const sweep = state.sweeps.get(partition);
  if (sweep !== undefined && sweep.awaiting.delete(msg.reqId) && sweep.awaiting.size === 0) advanceSweep(state, sweep, ctx);
  return true;
}

// -------------------------------------------------------------------------------------------------
// Ticks

function gossipTick(state: RingState, ctx: ActorContext<RingMessage>): void {
  const others = peers(state, ctx);
  if (others.length > 0) ctx.tell(ringRef(others[Math.floor(ctx.random() * others.length)]!), { type: 'ring-state', ring: state.ring, from: ctx.nodeName, ...(state.syncing === undefined ? {} : { pull: true }) });
  for (const [id, a] of state.asked) ctx.tell(ringRef(state.ring.claimant), { type: 'ring-commit', id, change: a.change, from: ctx.nodeName, hops: 0 });
  reportIfReady(state, ctx);
  const now = ctx.now();
  for (const [p, s] of state.serving) if (now - s.usedAtMs >= SNAPSHOT_IDLE_MS) state.serving.delete(p);
}

function status(state: RingState, ctx: ActorContext<RingMessage>): TransferStatus {
  return {
    type: 'ring-status',
    node: ctx.nodeName,
    ringVersion: state.ring.version,
    isChanging: state.ring.next !== undefined,
    partitionsPending: state.receiver?.pending ?? 0,
    partitionsActive: state.receiver?.active ?? 0,
    ...state.counters,
    lastChangeMs: state.lastChangeMs,
    malformedMessages: state.malformedMessages,
  };
}

function randomToken(ctx: ActorContext<RingMessage>): string {
  return Math.floor(ctx.random() * 0x1_0000_0000).toString(36);
}

/** The ring keeper. */
export const ringKeeperActor = defineActor<RingMessage, RingState, RingKeeperProps>({
  name: 'starling.ring',
  init(props, ctx) {
    const saved = savedRing(ctx.disk);
    const token = randomToken(ctx);
    return {
      ring: saved !== undefined && saved.version > props.ring.version ? saved : props.ring,
      clusterNodes: props.clusterNodes,
      gossipIntervalMs: props.gossipIntervalMs,
      transfer: props.transfer,
      store: openStore(ctx.disk, props.store, ctx.nodeUid, () => randomToken(ctx)),
      hints: openHints(ctx.disk, props.store, ctx.nodeUid),
      token,
      asked: new Map(),
      nextAsk: 0,
      ready: new Set(),
      receiver: undefined,
      serving: new Map(),
      rehoming: new Map(),
      sweeps: new Map(),
      waiters: [],
      syncing: saved !== undefined ? undefined : new Set(),
      deferred: [],
      reassigns: [],
      former: new Set(),
      changeStartedAtMs: undefined,
      lastChangeMs: undefined,
      counters: { partitionsReceived: 0, keysReceived: 0, bytesReceived: 0, batchesServed: 0, keysSent: 0, bytesSent: 0, partitionsDropped: 0, keysDropped: 0, hintsRehomed: 0, batchesRefused: 0, strayPartitionsDropped: 0, keysTooLarge: 0 },
      malformedMessages: 0,
    };
  },
  onStart(state, ctx) {
    ctx.timers.repeat('gossip', state.gossipIntervalMs, { type: 'ring-gossip-tick', token: state.token });
    ctx.timers.repeat('transfer', state.transfer.tickMs, { type: 'ring-transfer-tick', token: state.token });
    // A change in progress when this node stopped goes on where its receiver's cursors stand.
    if (state.ring.next !== undefined) startReceiving(state, state.ring, ctx);
    syncedIfMajority(state, ctx); // a cluster of one
    askPeersForRings(state, ctx);
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null || !isWellFormedRingMessage(msg)) {
      state.malformedMessages++;
      return state;
    }
    switch (msg.type) {
      case 'ring-gossip-tick':
        if (msg.token === state.token) gossipTick(state, ctx);
        break;
      case 'ring-transfer-tick':
        if (msg.token !== state.token) break;
        askPeersForRings(state, ctx);
        pullDue(state, ctx);
        rehomeHints(state, ctx);
        sweepStrays(state, ctx);
        break;
      case 'ring-state':
        onRingState(state, msg, ctx);
        break;
      case 'ring-get':
        ctx.tell(msg.replyTo, { type: 'ring', ring: state.ring });
        break;
      case 'ring-change': {
        const id = `${ctx.nodeName}.${state.token}.${++state.nextAsk}`;
        state.asked.set(id, { change: msg.change, replyTo: msg.replyTo });
        ctx.tell(ringRef(state.ring.claimant), { type: 'ring-commit', id, change: msg.change, from: ctx.nodeName, hops: 0 });
        break;
      }
      case 'ring-commit':
        onCommit(state, msg, ctx);
        break;
      case 'ring-commit-answer': {
        const asked = state.asked.get(msg.id);
        if (asked === undefined) break;
        state.asked.delete(msg.id);
        ctx.tell(asked.replyTo, msg.reply);
        break;
      }
      case 'ring-reassign':
        // First the newest ring a majority has (this node may have missed the last commit), then the role.
        if (state.reassigns.length < MAX_DEFERRED) state.reassigns.push(msg.replyTo);
        state.syncing ??= new Set();
        askPeersForRings(state, ctx);
        syncedIfMajority(state, ctx);
        break;
      case 'ring-await':
        if (state.ring.next === undefined && state.ring.version >= msg.version) ctx.tell(msg.replyTo, { type: 'ring-settled', ring: state.ring });
        else if (state.waiters.length < MAX_WAITERS) state.waiters.push({ version: msg.version, replyTo: msg.replyTo });
        break;
      case 'ring-status':
        ctx.tell(msg.replyTo, status(state, ctx));
        break;
      case 'ring-ready':
        if (state.ring.claimant !== ctx.nodeName || state.ring.next?.since !== msg.since) break;
        state.ready.add(msg.node);
        maybeFinish(state, ctx);
        break;
      case 'ring-pull':
        serve(state, msg, ctx);
        break;
      case 'ring-batch':
        onBatch(state, msg, ctx);
        break;
      case 'st-written':
        if (!onSweepAck(state, msg, ctx)) onRehomed(state, msg, ctx);
        break;
    }
    return state;
  },
});
