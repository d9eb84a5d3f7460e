/**
 * `/system/storage`: a node's replica of the keys it holds, and the hints it holds for others.
 * It mints new versions for the coordinator on its node (under its replica id, `node@epoch`, or
 * as a fallback under the key's hint id), merges replicated versions, answers reads (store and
 * hints merged), and hands hints over to their primaries (Dynamo §4.6): when membership shows the
 * primary alive, and every `handoffIntervalMs` while hints remain; a hint is deleted once its
 * primary acknowledged it, or after `hintTtlMs` unchanged. The data lives in the {@link Store} and
 * the {@link HintStore}, outside the actor.
 */
import { type ActorContext, type ActorRef, defineActor, isActorRef, MessageTooLargeError } from '@starling/actors';
import { isMembershipNotice, type MembershipNotice, subscribeToMembership } from '@starling/gossip';
import { clientWrite, type DvvSet, emptyClock, latestDot, sync, update } from './dvv.ts';
import { type HintStore, openHints } from './hints.ts';
import { isVersionVector, type StorageDump, type StorageReply, type StorageRequest, type StorageStats } from './protocol.ts';
import { Reachability } from './reachability.ts';
import { isRing, partitionOf, preferenceList, type Ring, ringNodes, settledRing, supersedes } from './ring.ts';
import type { RingUpdated } from './ring-protocol.ts';
import { holdsPartition, pendingReplicas } from './transfer-plan.ts';
import { savedRing } from './ring-disk.ts';
import { isStoredClock, openStore, type Store, type StoreKind, type StoredClock } from './store.ts';

/** Where the storage actor lives on every node. */
export const STORAGE_PATH = '/system/storage';

/** How a node keeps and hands over hints. */
export interface HandoffConfig {
  /** A hint unchanged this long expires (no longer handed over; its data moves into this node's store), in ms. */
  readonly hintTtlMs: number;
  /** Time between handoff rounds (and expiry checks), in ms. */
  readonly handoffIntervalMs: number;
  /** Hints sent to one primary per round, at most. */
  readonly handoffBatchSize: number;
}

/** The props the plugin gives the storage actor. */
export interface StorageProps extends HandoffConfig {
  readonly store: StoreKind;
  /** The ring the cluster starts with: hints are taken only for its members (or those of a newer ring on disk). */
  readonly ring: Ring;
  /** Replicas per partition that ring changes move (the largest N the buckets use). */
  readonly transferN: number;
}

type HandoffTick = { readonly type: 'st-handoff-tick'; readonly token: number };

/** Everything the storage actor accepts. */
export type StorageMessage = StorageRequest | StorageReply | MembershipNotice | HandoffTick | RingUpdated;

/** A hint (at one revision) on its way to its primary. */
interface InFlight {
  readonly owner: string;
  readonly key: string;
  readonly rev: number;
  readonly sentAtMs: number;
  /** Sends so far: the next waits `handoffIntervalMs * 2^(sends - 1)`, at most {@link MAX_BACKOFF_ROUNDS} rounds. */
  readonly sends: number;
}

/** Longest wait before a hint is sent again, in handoff rounds. */
const MAX_BACKOFF_ROUNDS = 32;

interface StorageState {
  readonly store: Store;
  readonly hints: HintStore;
  /** The id this replica mints dots under as a primary. */
  readonly replicaId: string;
  readonly config: HandoffConfig;
  readonly reachability: Reachability;
  /**
   * Hints sent and not yet acknowledged, by revision (one entry per hint held, at most): an
   * acknowledgement names the revision, however late it comes.
   */
  readonly inFlight: Map<number, InFlight>;
  /** The newest ring known (the ring keeper tells this actor of each). */
  ring: Ring;
  readonly transferN: number;
  /** Nodes of the newest ring known: hints are taken only for them. */
  members: ReadonlySet<string>;
  /** Drawn at each start of the actor: handoff ids and timer messages of an earlier start never match. */
  readonly token: number;
  nextReq: number;
  hintedWrites: number;
  forwarded: number;
  handedOff: number;
  expired: number;
  malformedMessages: number;
}

function randomHex(ctx: ActorContext<StorageMessage>): string {
  return Math.floor(ctx.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
}

function isOptionalName(x: unknown): boolean {
  return x === undefined || (typeof x === 'string' && x.length > 0);
}

/** Shape checks for requests from other nodes. */
function isWellFormed(msg: StorageRequest): boolean {
  if (msg.type === 'st-stats') return isActorRef(msg.replyTo);
  if (msg.type === 'st-dump') return isActorRef(msg.replyTo) && (msg.partitions === undefined || isPartitionList(msg.partitions));
  // Store keys are `bucket/key` (coordinator.ts): a key without `/` is not one, and could be a
  // name (`__proto__`) some encodings treat specially.
  if (typeof msg.reqId !== 'string' || !Number.isSafeInteger(msg.partition) || msg.partition < 0 || typeof msg.key !== 'string' || !msg.key.includes('/') || !isActorRef(msg.replyTo)) return false;
  if (msg.type === 'st-coordinate') return isVersionVector(msg.context) && msg.value !== undefined && isOptionalName(msg.hintFor);
  if (msg.type === 'st-write') return isStoredClock(msg.clock) && Number.isSafeInteger(msg.ringVersion) && isOptionalName(msg.hintFor);
  return msg.type === 'st-read' && Number.isSafeInteger(msg.ringVersion);
}

/** Partitions a dump may name at once: more than any ring has (Q is at most a few thousand). */
const MAX_DUMP_PARTITIONS = 65_536;

function isPartitionList(x: unknown): boolean {
  return Array.isArray(x) && x.length <= MAX_DUMP_PARTITIONS && x.every((p) => Number.isSafeInteger(p) && (p as number) >= 0);
}

/** What this node holds for `key`: its own replica and every hint, merged. */
function heldClock(state: StorageState, partition: number, key: string): StoredClock | undefined {
  let clock = state.store.get(partition, key);
  for (const h of state.hints.forKey(key)) clock = clock ? sync(clock, h.clock) : h.clock;
  return clock;
}

/** Mints the client's write (Dynamo's coordinator step): it descends what the client saw and is stored here before it is replicated. */
function coordinate(state: StorageState, msg: Extract<StorageRequest, { type: 'st-coordinate' }>, ctx: ActorContext<StorageMessage>): void {
  const client = clientWrite(msg.context, msg.value);
  let clock: StoredClock;
  let id: string;
  if (msg.hintFor === undefined || msg.hintFor === ctx.nodeName) {
    const generation = state.store.generation(msg.partition);
    id = generation === 0 ? state.replicaId : `${state.replicaId}.${generation}`;
    clock = update(client, state.store.get(msg.partition, msg.key) ?? emptyClock(), id);
    state.store.put(msg.partition, msg.key, clock);
  } else {
    // A fallback: the key's hint id, and a stored version that is everything held for the key.
    id = state.hints.mintId(msg.key, () => `${state.replicaId}~${randomHex(ctx)}`);
    clock = update(client, heldClock(state, msg.partition, msg.key) ?? emptyClock(), id);
    if (state.hints.put(msg.hintFor, msg.partition, msg.key, clock, ctx.now())) state.hintedWrites++;
  }
  const dot = latestDot(clock, id)!;
  ctx.tell(msg.replyTo, { type: 'st-coordinated', reqId: msg.reqId, node: ctx.nodeName, clock, dot });
}

/** True when `node` is a member of the newest ring known (the one on disk, if newer than the last looked at). */
function isMember(state: StorageState, node: string, ctx: ActorContext<StorageMessage>): boolean {
  if (state.members.has(node)) return true;
  const saved = savedRing(ctx.disk);
  if (saved) state.members = new Set(ringNodes(saved));
  return state.members.has(node);
}

function write(state: StorageState, msg: Extract<StorageRequest, { type: 'st-write' }>, ctx: ActorContext<StorageMessage>): void {
  const clock = msg.clock as StoredClock;
  if (msg.hintFor === undefined || msg.hintFor === ctx.nodeName) {
    const stored = state.store.get(msg.partition, msg.key);
    state.store.put(msg.partition, msg.key, stored ? sync(stored, clock) : clock);
    if (msg.ringVersion < state.ring.version) forwardStale(state, msg, clock, ctx);
  } else if (state.hints.put(msg.hintFor, msg.partition, msg.key, clock, ctx.now())) state.hintedWrites++;
  ctx.tell(msg.replyTo, { type: 'st-written', reqId: msg.reqId, node: ctx.nodeName });
}

/**
 * A write sent under an older ring than this node's (a coordinator that has not heard of a ring
 * change yet, or a hint handed over): this node passes it on to the replicas the newer ring adds,
 * so writes reach the new owners during a move even from a stale view, and to the partition's
 * replicas if this node no longer holds it. As hints for them: handed over, acknowledged and sent
 * again until they are (on disk meanwhile), so a lost message cannot leave a new owner without an
 * acknowledged write once the old copies are dropped.
 */
function forwardStale(state: StorageState, msg: Extract<StorageRequest, { type: 'st-write' }>, clock: StoredClock, ctx: ActorContext<StorageMessage>): void {
  const { ring, transferN: n } = state;
  if (msg.partition >= ring.partitionCount || partitionOf(ring, msg.key) !== msg.partition) return;
  const to = new Set(pendingReplicas(ring, msg.partition, n));
  if (!holdsPartition(ring, msg.partition, n, ctx.nodeName)) for (const node of preferenceList(settledRing(ring), msg.partition, n)) to.add(node);
  to.delete(ctx.nodeName);
  for (const node of to) {
    if (!state.hints.put(node, msg.partition, msg.key, clock, ctx.now())) continue;
    state.forwarded++;
    handOff(state, node, ctx);
  }
}

/**
 * Sends `owner` its oldest hints, at most a batch on their way at once. A hint not acknowledged
 * is sent again after a round, then two, four... (at most {@link MAX_BACKOFF_ROUNDS}), so a slow
 * primary is not flooded; when membership reports the primary back (`isOwnerBack`), at once.
 */
function handOff(state: StorageState, owner: string, ctx: ActorContext<StorageMessage>, isOwnerBack = false): void {
  if (owner === ctx.nodeName || state.reachability.isDown(owner)) return;
  const now = ctx.now();
  const interval = state.config.handoffIntervalMs;
  const due = (f: InFlight): boolean => isOwnerBack || now - f.sentAtMs >= interval * Math.min(2 ** (f.sends - 1), MAX_BACKOFF_ROUNDS);
  let waiting = 0;
  for (const f of state.inFlight.values()) if (f.owner === owner && !due(f)) waiting++;
  let room = state.config.handoffBatchSize - waiting;
  if (room <= 0) return;
  for (const h of state.hints.ofOwner(owner, state.config.handoffBatchSize + waiting)) {
    const f = state.inFlight.get(h.rev);
    if (f !== undefined && !due(f)) continue;
    state.inFlight.set(h.rev, { owner, key: h.key, rev: h.rev, sentAtMs: now, sends: (f?.sends ?? 0) + 1 });
    ctx.tell(storageRef(owner), { type: 'st-write', reqId: `h${state.token.toString(36)}.${h.rev}`, partition: h.partition, key: h.key, clock: h.clock, ringVersion: 0, replyTo: ctx.self as ActorRef<StorageReply> });
    if (--room === 0) break;
  }
}

function onHandoffAck(state: StorageState, msg: Extract<StorageReply, { type: 'st-written' }>, ctx: ActorContext<StorageMessage>): void {
  const prefix = `h${state.token.toString(36)}.`;
  if (!msg.reqId.startsWith(prefix)) return;
  const rev = Number(msg.reqId.slice(prefix.length));
  const f = state.inFlight.get(rev);
  if (!f || f.owner !== msg.node) return;
  state.inFlight.delete(rev);
  // A hint changed since it was sent keeps its newer part: it goes in a later round.
  if (state.hints.remove(f.owner, f.key, f.rev)) state.handedOff++;
  // Ack-clocked: each acknowledgement makes room for the next hint, so a backlog drains at the
  // owner's pace (a window of handoffBatchSize in flight), not one window per handoffIntervalMs.
  handOff(state, f.owner, ctx);
}

function handoffRound(state: StorageState, ctx: ActorContext<StorageMessage>): void {
  const now = ctx.now();
  for (const h of state.hints.expire(now, state.config.hintTtlMs)) {
    const stored = state.store.get(h.partition, h.key);
    state.store.put(h.partition, h.key, stored ? sync(stored, h.clock) : h.clock);
    state.expired++;
  }
  // An entry whose hint changed or left waits for nothing.
  for (const [rev, f] of state.inFlight) if (state.hints.get(f.owner, f.key)?.rev !== rev) state.inFlight.delete(rev);
  for (const owner of state.hints.owners()) handOff(state, owner, ctx);
}

function dump(state: StorageState, ctx: ActorContext<StorageMessage>, replyTo: ActorRef<StorageDump>, partitions: readonly number[] | undefined): void {
  // No prototype: a key such as `__proto__` is data.
  const keys: Record<string, DvvSet<unknown>> = Object.create(null) as Record<string, DvvSet<unknown>>;
  const hints: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const only = partitions === undefined ? undefined : new Set(partitions);
  for (const p of state.store.partitions()) {
    if (only !== undefined && !only.has(p)) continue;
    for (const k of state.store.keys(p)) keys[k] = state.store.get(p, k)!;
  }
  for (const owner of state.hints.owners()) {
    for (const h of state.hints.ofOwner(owner, Number.POSITIVE_INFINITY)) {
      if (only !== undefined && !only.has(h.partition)) continue;
      keys[h.key] = keys[h.key] ? sync(keys[h.key]!, h.clock) : h.clock;
      (hints[h.key] ??= []).push(owner);
    }
  }
  try {
    ctx.tell(replyTo, { type: 'st-dump', node: ctx.nodeName, replicaId: state.replicaId, keys, hints });
  } catch (err) {
    // More than one message holds: say so, and the reader asks for fewer partitions (inspect.ts).
    if (!(err instanceof MessageTooLargeError)) throw err;
    ctx.tell(replyTo, { type: 'st-dump', node: ctx.nodeName, replicaId: state.replicaId, keys: {}, hints: {}, isTooLarge: true });
  }
}

function stats(state: StorageState, ctx: ActorContext<StorageMessage>, replyTo: ActorRef<StorageStats>): void {
  let keys = 0;
  for (const p of state.store.partitions()) keys += state.store.keys(p).length;
  ctx.tell(replyTo, {
    type: 'st-stats',
    node: ctx.nodeName,
    keys,
    hints: state.hints.count(),
    hintsByOwner: state.hints.countByOwner(),
    hintedWrites: state.hintedWrites,
    forwarded: state.forwarded,
    handedOff: state.handedOff,
    expired: state.expired,
  });
}

/** The storage actor. */
export const storageActor = defineActor<StorageMessage, StorageState, StorageProps>({
  name: 'starling.storage',
  init(props, ctx) {
    const store = openStore(ctx.disk, props.store, ctx.nodeUid, () => randomHex(ctx));
    return {
      store,
      hints: openHints(ctx.disk, props.store, ctx.nodeUid),
      replicaId: `${ctx.nodeName}@${store.epoch}`,
      config: { hintTtlMs: props.hintTtlMs, handoffIntervalMs: props.handoffIntervalMs, handoffBatchSize: props.handoffBatchSize },
      reachability: new Reachability(),
      inFlight: new Map(),
      ring: savedRing(ctx.disk) ?? props.ring,
      transferN: props.transferN,
      members: new Set(ringNodes(savedRing(ctx.disk) ?? props.ring)),
      token: Math.floor(ctx.random() * 0x1_0000_0000),
      nextReq: 1,
      hintedWrites: 0,
      forwarded: 0,
      handedOff: 0,
      expired: 0,
      malformedMessages: 0,
    };
  },
  onStart(state, ctx) {
    // Which primaries are alive, from the membership plugin when it runs (a harmless dead letter otherwise).
    subscribeToMembership(ctx);
    ctx.timers.repeat('handoff', state.config.handoffIntervalMs, { type: 'st-handoff-tick', token: state.token });
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    switch (msg.type) {
      case 'st-coordinate':
      case 'st-write':
      case 'st-read':
      case 'st-dump':
      case 'st-stats':
        if (!isWellFormed(msg)) break;
        // A hint for a node outside the ring could never be handed over.
        if ((msg.type === 'st-write' || msg.type === 'st-coordinate') && msg.hintFor !== undefined && !isMember(state, msg.hintFor, ctx)) break;
        if (msg.type === 'st-coordinate') coordinate(state, msg, ctx);
        else if (msg.type === 'st-write') write(state, msg, ctx);
        else if (msg.type === 'st-read') ctx.tell(msg.replyTo, { type: 'st-read-result', reqId: msg.reqId, node: ctx.nodeName, clock: heldClock(state, msg.partition, msg.key) ?? null });
        else if (msg.type === 'st-dump') dump(state, ctx, msg.replyTo, msg.partitions);
        else stats(state, ctx, msg.replyTo);
        return state;
      case 'st-written':
        if (typeof msg.reqId !== 'string' || typeof msg.node !== 'string') break;
        onHandoffAck(state, msg, ctx);
        return state;
      case 'st-handoff-tick':
        if (msg.token !== state.token) break;
        handoffRound(state, ctx);
        return state;
      case 'ring-updated':
        if (!isRing(msg.ring)) break;
        if (supersedes(msg.ring, state.ring)) {
          state.ring = msg.ring;
          state.members = new Set(ringNodes(msg.ring));
        }
        return state;
      case 'membership-snapshot':
      case 'membership-event':
        if (!isMembershipNotice(msg)) break;
        // A primary back: hand its hints over now rather than at the next round.
        for (const node of state.reachability.apply(msg)) handOff(state, node, ctx, true);
        return state;
      default:
        break;
    }
    state.malformedMessages++;
    return state;
  },
});

/** The ref of a node's storage actor. */
export function storageRef(node: string): ActorRef<StorageRequest> {
  return { node, nodeUid: '', path: STORAGE_PATH, uid: 0 };
}

export type { StorageReply };
