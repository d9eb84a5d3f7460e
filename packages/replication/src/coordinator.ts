/**
 * `/system/coordinator`: serves `get`, `put` and `delete` for clients (Dynamo §4.5-4.7).
 *
 * - put/delete: coordinated by a primary replica of the key (one of the first N distinct nodes of
 *   its preference list); another node forwards the request to the first reachable primary. The
 *   coordinator's storage mints the new version under its (node, storage epoch) id and stores it,
 *   then the coordinator sends it to the other replicas and answers once W (its own store
 *   included) acknowledged.
 * - Sloppy quorum (on unless a request or bucket says `sloppy: false`): a primary that membership
 *   reports down is replaced by the next reachable node clockwise, which stores the version as a
 *   hint naming that primary and hands it over when the primary is back (storage.ts). A replica
 *   silent for `fallbackAfterMs` gets a fallback too. When no primary is reachable at all, the
 *   first reachable fallback coordinates, minting under its hint id for the key (hints.ts).
 * - get: any node coordinates; it asks the reachable primaries (and fallbacks) and answers with the
 *   merge of the first R replies: all siblings and one causal context. A session read (`atLeast`)
 *   waits until the merge covers the session's context, asking every reachable node if the first
 *   replicas cannot (Terry et al. 1994), or fails `SESSION_UNAVAILABLE`.
 * - Read repair: after answering, the read keeps collecting replies until every replica asked has
 *   answered or the deadline passes, then sends the merged version to each primary that answered
 *   with an older one or none.
 * - No reply by the deadline: a get fails (it changed nothing); a put or delete is *unknown*, since
 *   the version may already be stored at some replicas.
 *
 * Every node starts from the same ring (computed from the cluster's node list); `/system/ring`
 * tells the coordinator of newer ones. Requests to replicas carry the ring version they were
 * routed with.
 */
import { type ActorContext, type ActorRef, defineActor, isActorRef, selectActor, type Terminated } from '@starling/actors';
import { isMembershipNotice, type MembershipNotice, subscribeToMembership } from '@starling/gossip';
import { clockDescends, descends, type Dot, join, values, type VersionVector } from './dvv.ts';
import type { KvErrorCode, KvOutcome } from './errors.ts';
import { placeReplicas, type ReplicaTarget } from './placement.ts';
import { type CoordinatorStats, type GetReply, isKvRequest, type KvOptions, type KvRequest, type PutReply, type StatsRequest, type StorageReply } from './protocol.ts';
import { type QuorumSpec, ReadQuorum, WriteQuorum } from './quorum.ts';
import { Reachability } from './reachability.ts';
import { isRing, partitionOf, type Ring, ringNodes, supersedes } from './ring.ts';
import { savedRing } from './ring-disk.ts';
import type { RingUpdated } from './ring-protocol.ts';
import { STORAGE_PATH, storageRef } from './storage.ts';
import { isStoredClock, type StoredClock } from './store.ts';

/** Where the coordinator lives on every node. */
export const COORDINATOR_PATH = '/system/coordinator';

/** Replication settings, per request, bucket or plugin default. */
export interface ReplicationDefaults extends QuorumSpec {
  /** Request deadline, in ms. */
  readonly timeoutMs: number;
  /** Sloppy quorum: fallbacks stand in for unreachable primaries, holding hints. */
  readonly sloppy: boolean;
  /** Under sloppy quorum, how long a replica may stay silent before a fallback gets its copy, in ms. */
  readonly fallbackAfterMs: number;
  /** Read repair: a read writes the merged version back to primaries that answered with less. */
  readonly readRepair: boolean;
}

/** Dynamo's common configuration (§6): N = 3, R = 2, W = 2, sloppy quorum, read repair. */
export const DEFAULT_REPLICATION: ReplicationDefaults = { n: 3, r: 2, w: 2, timeoutMs: 2_000, sloppy: true, fallbackAfterMs: 500, readRepair: true };

/** How long write requests are remembered for de-duplication, in ms: above the runtime's default `maxMessageAgeMs` (10 s). */
export const DEDUPE_WINDOW_MS = 30_000;

/** Longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 1_024;

/** Longest request deadline accepted, in ms: a pending request is state the coordinator keeps. */
export const MAX_TIMEOUT_MS = 600_000;

/** Shortest `fallbackAfterMs` accepted, in ms: a session read first asks again after this (then after twice as long, and so on). */
export const MIN_FALLBACK_MS = 10;

type Timeout = { readonly type: 'kv-timeout'; readonly reqId: string; readonly token: number; readonly phase: 'fallback' | 'deadline' };

/** Everything the coordinator accepts. */
export type CoordinatorMessage = KvRequest | StatsRequest | StorageReply | Timeout | MembershipNotice | RingUpdated | Terminated;

interface PendingPut {
  readonly kind: 'put';
  readonly replyTo: ActorRef<PutReply>;
  readonly partition: number;
  readonly storeKey: string;
  /** Where the version goes: this node first, then the other replicas; fallbacks for silent ones are appended. */
  readonly targets: ReplicaTarget[];
  /** Reachable nodes not yet used, for replicas that stay silent. */
  readonly spares: string[];
  readonly quorum: WriteQuorum;
  readonly sloppy: boolean;
  readonly fallbackAfterMs: number;
  dot?: Dot;
  clock?: StoredClock;
  /** The client has its answer; the write stays to give silent replicas a fallback. */
  isAnswered: boolean;
  /** Counted in `sloppyWrites` already. */
  isCountedSloppy: boolean;
}

interface PendingGet {
  readonly kind: 'get';
  readonly replyTo: ActorRef<GetReply>;
  readonly partition: number;
  readonly storeKey: string;
  readonly primaries: readonly string[];
  readonly spares: string[];
  readonly quorum: ReadQuorum<unknown>;
  readonly sloppy: boolean;
  readonly readRepair: boolean;
  /** Delay of the next fallback step, in ms: `fallbackAfterMs`, doubled after each time a session read asks again. */
  fallbackAfterMs: number;
  readonly atLeast?: VersionVector;
  /** The client has its answer; the read stays to repair replicas. */
  isAnswered: boolean;
  /** Every reachable node was asked, for a session's context. */
  isExtended: boolean;
}

interface Counts {
  puts: number;
  gets: number;
  sloppyWrites: number;
  fallbackCoordinated: number;
  lateReplicas: number;
  readRepairs: number;
  sessionReadsExtended: number;
  sessionReadsFailed: number;
}

interface CoordinatorState {
  /** The newest ring this node's ring keeper told of. */
  ring: Ring;
  readonly defaults: ReplicationDefaults;
  readonly buckets: Readonly<Record<string, Partial<ReplicationDefaults>>>;
  readonly pending: Map<string, PendingPut | PendingGet>;
  /** Who the membership plugin reports down (nobody without it). */
  readonly reachability: Reachability;
  /** Write requests seen lately (by reply address) → when: duplicates are dropped. */
  readonly seenWrites: Map<string, number>;
  /** Drawn at each start of the actor: request ids and timer messages of an earlier start never match. */
  readonly token: number;
  nextReq: number;
  readonly counts: Counts;
  malformedMessages: number;
}

/** The props the plugin gives the coordinator. */
export interface CoordinatorProps {
  readonly ring: Ring;
  readonly defaults: ReplicationDefaults;
  readonly buckets: Readonly<Record<string, Partial<ReplicationDefaults>>>;
}

/** The store key of a bucket's key: partitions and replicas are chosen by it. */
export function storeKey(bucket: string | undefined, key: string): string {
  return `${bucket ?? 'default'}/${key}`;
}

function settingsFor(state: CoordinatorState, bucket: string | undefined, options: KvOptions | undefined): ReplicationDefaults {
  return { ...state.defaults, ...state.buckets[bucket ?? 'default'], ...options };
}

/** When a silent replica gets a fallback: `fallbackAfterMs`, but always before the deadline, or it never would. */
function fallbackDelayMs(s: ReplicationDefaults): number {
  return Math.min(s.fallbackAfterMs, s.timeoutMs / 2);
}

function fail(code: KvErrorCode, message: string, outcome: KvOutcome, replicas: readonly string[] = []): { type: 'kv-error'; code: KvErrorCode; message: string; outcome: KvOutcome; replicas: readonly string[] } {
  return { type: 'kv-error', code, message, outcome, replicas };
}

/** What is wrong with a request, if anything (answered with INVALID_REQUEST). */
function invalid(msg: KvRequest, s: ReplicationDefaults, ring: Ring): string | undefined {
  if (msg.key.length === 0 || msg.key.length > MAX_KEY_LENGTH) return `a key is 1 to ${MAX_KEY_LENGTH} characters`;
  // `bucket/key` names the object: a `/` in the bucket would let two pairs name one object.
  if (msg.bucket !== undefined && (msg.bucket.length === 0 || msg.bucket.includes('/'))) return 'a bucket name is non-empty and has no "/"';
  if (![s.n, s.r, s.w].every((x) => Number.isInteger(x) && x >= 1)) return 'n, r and w are integers >= 1';
  if (s.r > s.n || s.w > s.n) return `r (${s.r}) and w (${s.w}) cannot exceed n (${s.n})`;
  if (s.n > ring.members.length) return `n (${s.n}) exceeds the ${ring.members.length} nodes of the ring`;
  if (!(s.timeoutMs >= 1 && s.timeoutMs <= MAX_TIMEOUT_MS)) return `timeoutMs is 1 to ${MAX_TIMEOUT_MS} ms`;
  if (!(s.fallbackAfterMs >= MIN_FALLBACK_MS)) return `fallbackAfterMs is at least ${MIN_FALLBACK_MS} ms`;
  if (typeof s.sloppy !== 'boolean' || typeof s.readRepair !== 'boolean') return 'sloppy and readRepair are booleans';
  if (msg.type === 'kv-put' && (msg.value === null || msg.value === undefined)) return 'a value cannot be null or undefined: delete the key instead';
  return undefined;
}

/** What failure detection says of a node, as this coordinator sees it: never itself. */
function isDown(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>): (node: string) => boolean {
  return (node) => node !== ctx.nodeName && state.reachability.isDown(node);
}

function nextReqId(state: CoordinatorState): string {
  return `${state.token.toString(36)}.${state.nextReq++}`;
}

function arm(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, phase: Timeout['phase'], afterMs: number): void {
  ctx.timers.once(`${phase}:${reqId}`, afterMs, { type: 'kv-timeout', reqId, token: state.token, phase });
}

function finish(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string): void {
  state.pending.delete(reqId);
  ctx.timers.cancel(`deadline:${reqId}`);
  ctx.timers.cancel(`fallback:${reqId}`);
}

/**
 * True when this write request was seen already: the network duplicates messages, and a write
 * coordinated twice would store one value under two dots. A request's reply address is unique
 * (an ask's temporary ref), so it names the request. Deliveries older than the runtime's
 * `maxMessageAgeMs` are dropped, so remembering a window longer than that is enough.
 */
function isDuplicate(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Extract<KvRequest, { type: 'kv-put' | 'kv-delete' }>): boolean {
  const { replyTo } = msg;
  const now = ctx.now();
  for (const [key, atMs] of state.seenWrites) {
    if (now - atMs < DEDUPE_WINDOW_MS) break;
    state.seenWrites.delete(key);
  }
  const key = `${replyTo.node}|${replyTo.nodeUid}|${replyTo.path}|${replyTo.uid}|${msg.requestId ?? ''}|${storeKey(msg.bucket, msg.key)}`;
  if (state.seenWrites.has(key)) return true;
  state.seenWrites.set(key, now);
  return false;
}

// -------------------------------------------------------------------------------------------------
// Writes

function startWrite(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Extract<KvRequest, { type: 'kv-put' | 'kv-delete' }>): void {
  if (isDuplicate(state, ctx, msg)) return;
  const s = settingsFor(state, msg.bucket, msg.options);
  const problem = invalid(msg, s, state.ring);
  if (problem) return ctx.tell(msg.replyTo, fail('INVALID_REQUEST', problem, 'failed'));
  const key = storeKey(msg.bucket, msg.key);
  const partition = partitionOf(state.ring, key);
  const down = isDown(state, ctx);
  const place = placeReplicas(state.ring, partition, s.n, down, s.sloppy);
  const isPrimary = place.primaries.includes(ctx.nodeName);
  if (!isPrimary && !s.sloppy && msg.isForwarded === true) {
    // Strict quorum: only a primary coordinates (views disagree, or the request claims to be forwarded).
    return ctx.tell(msg.replyTo, fail('QUORUM_NOT_MET', 'strict quorum: this node is not a primary of the key', 'failed'));
  }
  if (!isPrimary && msg.isForwarded !== true) {
    // Only a replica mints the dot, since it must know its own version of the key: the first
    // reachable primary, or with none the first fallback. A request forwarded once is coordinated
    // where it lands, even if views disagree for a moment: never forwarded again, so it cannot
    // bounce between two nodes.
    // Forward to a replica nobody suspects: a forward is not retried, so one sent to a node that
    // is failing is lost and the client waits out its deadline, and suspicion comes seconds
    // before a death is confirmed (SWIM). With every replica suspected, a sloppy write is
    // coordinated here, as a fallback, rather than sent into the void.
    const suspect = (t: { node: string }): boolean => state.reachability.isSuspect(t.node);
    // A primary first: a pending replica of a ring change or a fallback is not one, and under
    // strict quorum only a primary may coordinate.
    const healthy = place.targets.find((t) => place.primaries.includes(t.node) && !suspect(t)) ?? (s.sloppy ? place.targets.find((t) => !suspect(t)) : undefined);
    const to = healthy?.node ?? (s.sloppy && place.targets.length > 0 ? ctx.nodeName : place.targets[0]?.node);
    if (to === undefined) return ctx.tell(msg.replyTo, fail('QUORUM_NOT_MET', `no replica of the key is reachable (sloppy quorum ${s.sloppy ? 'on' : 'off'})`, 'failed'));
    if (to !== ctx.nodeName) return ctx.tell(selectActor<KvRequest>(to, COORDINATOR_PATH), { ...msg, isForwarded: true });
  }
  const targets = [...place.targets];
  const spares = [...place.spares];
  let self = targets.findIndex((t) => t.node === ctx.nodeName);
  /** The primary this node stands in for while that primary is a target too: one slot for both. */
  let standsFor: string | undefined;
  if (self < 0) {
    // Coordinating as a fallback this view did not pick: take the first hinted slot, or hold a
    // hint for a primary (the first down, else the first suspected). Either way the version
    // reaches a primary in the end.
    const slot = targets.findIndex((t) => t.hintFor !== undefined);
    if (slot >= 0) {
      spares.unshift(targets[slot]!.node);
      targets[slot] = { node: ctx.nodeName, hintFor: targets[slot]!.hintFor! };
    } else {
      const primary = place.primaries.find(down) ?? place.primaries.find((n) => state.reachability.isSuspect(n)) ?? place.primaries[0]!;
      targets.push({ node: ctx.nodeName, hintFor: primary });
      if (targets.some((t) => t.node === primary)) standsFor = primary;
    }
    self = targets.findIndex((t) => t.node === ctx.nodeName);
  }
  const own = targets.splice(self, 1)[0]!;
  targets.unshift(own);
  // During a ring change, one more acknowledgement per pending replica (transfer-plan.ts).
  const w = s.w + place.pending.length;
  const slots = standsFor === undefined ? targets.length : targets.length - 1;
  if (slots < w) {
    // Nothing stored yet: the write certainly did not happen.
    return ctx.tell(msg.replyTo, fail('QUORUM_NOT_MET', `only ${targets.length} replicas are reachable (sloppy quorum ${s.sloppy ? 'on' : 'off'}), W is ${w}`, 'failed', targets.map((t) => t.node)));
  }
  const hasFallback = targets.some((t) => t.hintFor !== undefined);
  state.counts.puts++;
  if (!isPrimary) state.counts.fallbackCoordinated++;
  if (hasFallback) state.counts.sloppyWrites++;
  const reqId = nextReqId(state);
  state.pending.set(reqId, {
    kind: 'put',
    replyTo: msg.replyTo,
    partition,
    storeKey: key,
    targets,
    spares: spares.filter((n) => n !== ctx.nodeName),
    quorum: writeQuorum(targets, w, ctx.nodeName, standsFor),
    sloppy: s.sloppy,
    fallbackAfterMs: fallbackDelayMs(s),
    isAnswered: false,
    isCountedSloppy: hasFallback,
  });
  ctx.tell(storageRef(ctx.nodeName), {
    type: 'st-coordinate',
    reqId,
    partition,
    key,
    value: msg.type === 'kv-put' ? msg.value : null,
    context: msg.context ?? {},
    ...(own.hintFor !== undefined ? { hintFor: own.hintFor } : {}),
    replyTo: ctx.self as ActorRef<StorageReply>,
  });
  arm(state, ctx, reqId, 'deadline', s.timeoutMs);
}

function sendReplica(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingPut, target: ReplicaTarget): void {
  ctx.tell(storageRef(target.node), {
    type: 'st-write',
    reqId,
    partition: p.partition,
    key: p.storeKey,
    clock: p.clock!,
    ringVersion: state.ring.version,
    ...(target.hintFor !== undefined ? { hintFor: target.hintFor } : {}),
    replyTo: ctx.self as ActorRef<StorageReply>,
  });
}

function onWriteReply(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingPut, msg: StorageReply): void {
  if (msg.type === 'st-coordinated') {
    if (msg.node !== ctx.nodeName || p.clock) return;
    p.clock = msg.clock;
    p.dot = msg.dot;
    p.quorum.ack(ctx.nodeName);
    for (const target of p.targets.slice(1)) sendReplica(state, ctx, reqId, p, target);
    if (p.sloppy && p.spares.length > 0) {
      // A replica membership suspects is as good as late: its fallback starts now, not after fallbackAfterMs.
      giveFallbacks(state, ctx, reqId, p, p.targets.slice(1).filter((t) => state.reachability.isSuspect(t.node)));
      if (p.spares.length > 0) arm(state, ctx, reqId, 'fallback', p.fallbackAfterMs);
    }
  } else if (msg.type === 'st-written') {
    if (!p.clock) return;
    p.quorum.ack(msg.node);
  } else return;
  if (!p.isAnswered && p.quorum.isMet && p.clock && p.dot) {
    p.isAnswered = true;
    const hinted = p.targets.filter((t) => t.hintFor !== undefined && p.quorum.hasAcked(t.node)).map((t) => t.node);
    ctx.tell(p.replyTo, { type: 'kv-put-ok', context: join(p.clock), values: values(p.clock).filter((v) => v !== null), dot: p.dot, replicas: p.quorum.replicas(), hinted });
  }
  // Answered, the write stays until every replica acknowledged, or a silent one got a fallback.
  if (p.isAnswered && (p.quorum.isComplete || !p.sloppy || p.spares.length === 0)) finish(state, ctx, reqId);
}

/**
 * Replicas silent for `fallbackAfterMs`, W reached or not: each gets the next spare as a fallback
 * holding its hint, so the write reaches it when it is back, even if membership never said it
 * was down.
 */
function onWriteFallback(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingPut): void {
  giveFallbacks(
    state,
    ctx,
    reqId,
    p,
    p.targets.filter((t) => !p.quorum.hasAcked(t.node)),
  );
  // The client has its answer: nothing more to wait for.
  if (p.isAnswered) finish(state, ctx, reqId);
}

/** A write's quorum over its targets; the coordinator standing in for a primary that is also a target shares its slot. */
function writeQuorum(targets: readonly ReplicaTarget[], w: number, self: string, standsFor: string | undefined): WriteQuorum {
  const quorum = new WriteQuorum(
    targets.filter((t) => standsFor === undefined || t.node !== self).map((t) => t.node),
    w,
  );
  if (standsFor !== undefined) quorum.addTarget(self, standsFor);
  return quorum;
}

/**
 * Sends the version to a spare for each of `late` (while spares last), as a hint naming the
 * replica it stands in for. One stand-in per replica slot: a replica that has one already (given
 * at once for a suspicion, or the coordinator itself) gets no second, which would leave another
 * silent replica without one and count one slot twice.
 */
function giveFallbacks(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingPut, late: readonly ReplicaTarget[]): void {
  for (const t of late) {
    const slot = t.hintFor ?? t.node;
    if (p.targets.some((f) => f !== t && f.hintFor === slot)) continue;
    const spare = p.spares.shift();
    if (spare === undefined) break;
    const fallback = { node: spare, hintFor: t.hintFor ?? t.node };
    p.targets.push(fallback);
    p.quorum.addTarget(spare, t.node);
    state.counts.lateReplicas++;
    if (!p.isCountedSloppy) {
      p.isCountedSloppy = true;
      state.counts.sloppyWrites++;
    }
    sendReplica(state, ctx, reqId, p, fallback);
  }
}

// -------------------------------------------------------------------------------------------------
// Reads

function startRead(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Extract<KvRequest, { type: 'kv-get' }>): void {
  const s = settingsFor(state, msg.bucket, msg.options);
  const problem = invalid(msg, s, state.ring);
  if (problem) return ctx.tell(msg.replyTo, fail('INVALID_REQUEST', problem, 'failed'));
  const key = storeKey(msg.bucket, msg.key);
  const partition = partitionOf(state.ring, key);
  const place = placeReplicas(state.ring, partition, s.n, isDown(state, ctx), s.sloppy);
  // Reads go to the current replicas only: a pending one may not have received the partition yet.
  const isPending = (node: string | undefined): boolean => node !== undefined && place.pending.includes(node);
  const targets = place.targets.filter((t) => !isPending(t.node) && !isPending(t.hintFor)).map((t) => t.node);
  if (targets.length < s.r) {
    return ctx.tell(msg.replyTo, fail('QUORUM_NOT_MET', `only ${targets.length} replicas are reachable (sloppy quorum ${s.sloppy ? 'on' : 'off'}), R is ${s.r}`, 'failed', targets));
  }
  state.counts.gets++;
  const reqId = nextReqId(state);
  const p: PendingGet = {
    kind: 'get',
    replyTo: msg.replyTo,
    partition,
    storeKey: key,
    primaries: place.primaries,
    spares: [...place.spares],
    quorum: new ReadQuorum(targets, s.r),
    sloppy: s.sloppy,
    readRepair: s.readRepair,
    fallbackAfterMs: fallbackDelayMs(s),
    ...(msg.atLeast !== undefined && Object.keys(msg.atLeast).length > 0 ? { atLeast: msg.atLeast } : {}),
    isAnswered: false,
    isExtended: false,
  };
  state.pending.set(reqId, p);
  for (const node of targets) askReplica(state, ctx, reqId, p, node);
  arm(state, ctx, reqId, 'deadline', s.timeoutMs);
  if (p.atLeast !== undefined || (s.sloppy && p.spares.length > 0)) arm(state, ctx, reqId, 'fallback', p.fallbackAfterMs);
}

function askReplica(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingGet, node: string): void {
  ctx.tell(storageRef(node), { type: 'st-read', reqId, partition: p.partition, key: p.storeKey, ringVersion: state.ring.version, replyTo: ctx.self as ActorRef<StorageReply> });
}

/** True when the merge so far is at least as new as the session's context. */
function isNewEnough(p: PendingGet): boolean {
  return p.atLeast === undefined || descends(join(p.quorum.result()), p.atLeast);
}

/**
 * A session read the replicas asked cannot serve: ask again, those that answered included (data
 * moves while the read waits: a hint handed over after its holder answered), and under sloppy
 * quorum every reachable node, where fallbacks may hold the version as a hint. A repeated answer
 * is merged and counted once. Under strict quorum only primaries are asked: their answers alone
 * count toward R.
 */
function extendRead(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingGet): void {
  if (!p.isExtended) state.counts.sessionReadsExtended++;
  p.isExtended = true;
  const down = isDown(state, ctx);
  const nodes = p.sloppy ? ringNodes(state.ring) : p.primaries;
  for (const node of nodes) {
    if (down(node)) continue;
    p.quorum.addTarget(node);
    askReplica(state, ctx, reqId, p, node);
  }
}

function answerRead(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, p: PendingGet): void {
  p.isAnswered = true;
  const merged = p.quorum.result();
  const all = values(merged);
  const live = all.filter((v) => v !== null);
  const replicas = p.quorum.replicas();
  ctx.tell(p.replyTo, { type: 'kv-get-ok', values: live, isDeleted: all.length > 0 && live.length === 0, context: join(merged), replicas, fallbacks: replicas.filter((n) => !p.primaries.includes(n)) });
}

function failSession(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingGet): void {
  state.counts.sessionReadsFailed++;
  finish(state, ctx, reqId);
  ctx.tell(p.replyTo, fail('SESSION_UNAVAILABLE', `no reachable replica holds the session's version of the key (${p.quorum.replicas().length} answered)`, 'failed', p.quorum.replicas()));
}

/**
 * Read repair: every primary that answered with a version older than the merge (or none) gets
 * the merge. Fallbacks are left alone: they hold hints, which handoff delivers.
 */
function repair(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, p: PendingGet): void {
  if (!p.readRepair) return;
  const merged = p.quorum.result();
  if (merged.entries.length === 0 && merged.anonymous.length === 0) return;
  for (const node of p.primaries) {
    const reply = p.quorum.replyOf(node);
    if (!reply || (reply.clock && clockDescends(reply.clock, merged))) continue;
    state.counts.readRepairs++;
    ctx.tell(storageRef(node), { type: 'st-write', reqId: 'repair', partition: p.partition, key: p.storeKey, clock: merged, ringVersion: state.ring.version, replyTo: ctx.self as ActorRef<StorageReply> });
  }
}

function onReadReply(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingGet, msg: StorageReply): void {
  if (msg.type !== 'st-read-result' || !p.quorum.isTarget(msg.node)) return;
  p.quorum.reply(msg.node, msg.clock ?? undefined);
  if (!p.isAnswered) {
    if (p.quorum.isMet && isNewEnough(p)) answerRead(state, ctx, p);
    // Every replica asked is behind the session: ask everyone reachable now rather than at the timer.
    else if (p.quorum.isComplete && !isNewEnough(p) && !p.isExtended) extendRead(state, ctx, reqId, p);
  }
  if (p.isAnswered && p.quorum.isComplete) {
    finish(state, ctx, reqId);
    repair(state, ctx, p);
  }
}

/**
 * Targets silent for `fallbackAfterMs`. A session read not yet new enough asks again (see
 * {@link extendRead}), again after twice the delay, and so on until the deadline: bounded, and
 * patient with data on its way. A sloppy read short of R asks a spare for each silent target.
 */
function onReadFallback(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, p: PendingGet): void {
  if (p.isAnswered) return;
  if (!isNewEnough(p)) {
    extendRead(state, ctx, reqId, p);
    p.fallbackAfterMs *= 2;
    arm(state, ctx, reqId, 'fallback', p.fallbackAfterMs);
    return;
  }
  if (!p.sloppy) return;
  for (let i = p.quorum.silent().length; i > 0; i--) {
    const spare = p.spares.shift();
    if (spare === undefined) break;
    if (p.quorum.addTarget(spare)) askReplica(state, ctx, reqId, p, spare);
  }
}

// -------------------------------------------------------------------------------------------------

function onStorageReply(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: StorageReply): void {
  const p = state.pending.get(msg.reqId);
  if (!p) return; // late: the request is finished (a read repair's acknowledgement, too)
  if (p.kind === 'get') onReadReply(state, ctx, msg.reqId, p, msg);
  else onWriteReply(state, ctx, msg.reqId, p, msg);
}

function onTimeout(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Timeout): void {
  const p = state.pending.get(msg.reqId);
  if (!p || msg.token !== state.token) return;
  if (msg.phase === 'fallback') {
    if (p.kind === 'get') onReadFallback(state, ctx, msg.reqId, p);
    else onWriteFallback(state, ctx, msg.reqId, p);
    return;
  }
  if (p.kind === 'get') {
    if (p.isAnswered) {
      finish(state, ctx, msg.reqId);
      return repair(state, ctx, p);
    }
    if (p.quorum.isMet) return failSession(state, ctx, msg.reqId, p);
    finish(state, ctx, msg.reqId);
    const replicas = p.quorum.replicas();
    return ctx.tell(p.replyTo, fail('QUORUM_NOT_MET', `${replicas.length} of R=${p.quorum.r} replicas answered in time`, 'failed', replicas));
  }
  finish(state, ctx, msg.reqId);
  if (p.isAnswered) return;
  // The version may be stored at the coordinator and some replicas (or still on its way there): it may survive.
  const replicas = p.quorum.replicas();
  ctx.tell(p.replyTo, fail('QUORUM_NOT_MET', `${replicas.length} of W=${p.quorum.w} replicas acknowledged in time`, 'unknown', replicas));
}

/** Replies from storage come from other nodes too: check them before use. */
function isStorageReply(msg: StorageReply): boolean {
  if (typeof msg.reqId !== 'string' || typeof msg.node !== 'string') return false;
  if (msg.type === 'st-read-result') return msg.clock === null || isStoredClock(msg.clock);
  if (msg.type === 'st-coordinated') return isStoredClock(msg.clock) && typeof msg.dot === 'object' && msg.dot !== null && typeof msg.dot.id === 'string' && Number.isSafeInteger(msg.dot.counter);
  return true;
}

function statsOf(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>): CoordinatorStats {
  return { type: 'kv-stats', node: ctx.nodeName, ...state.counts };
}

/** The coordinator actor. */
export const coordinatorActor = defineActor<CoordinatorMessage, CoordinatorState, CoordinatorProps>({
  name: 'starling.coordinator',
  init(props, ctx) {
    // The ring keeper saves each ring it adopts: a restarted coordinator starts from the newest.
    const saved = savedRing(ctx.disk);
    return {
      ring: saved !== undefined && saved.version > props.ring.version ? saved : props.ring,
      defaults: props.defaults,
      buckets: props.buckets,
      pending: new Map(),
      reachability: new Reachability(),
      seenWrites: new Map(),
      token: Math.floor(ctx.random() * 0x1_0000_0000),
      nextReq: 1,
      counts: { puts: 0, gets: 0, sloppyWrites: 0, fallbackCoordinated: 0, lateReplicas: 0, readRepairs: 0, sessionReadsExtended: 0, sessionReadsFailed: 0 },
      malformedMessages: 0,
    };
  },
  onStart(state, ctx) {
    // Which primaries are down, from the membership plugin when it runs (a harmless dead letter otherwise).
    subscribeToMembership(ctx);
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    switch (msg.type) {
      case 'kv-put':
      case 'kv-delete':
      case 'kv-get':
        if (!isKvRequest(msg)) break;
        if (msg.type === 'kv-get') startRead(state, ctx, msg);
        else startWrite(state, ctx, msg);
        return state;
      case 'kv-stats':
        if (!isActorRef(msg.replyTo)) break;
        ctx.tell(msg.replyTo, statsOf(state, ctx));
        return state;
      case 'st-coordinated':
      case 'st-written':
      case 'st-read-result':
        if (!isStorageReply(msg)) break;
        onStorageReply(state, ctx, msg);
        return state;
      case 'kv-timeout':
        onTimeout(state, ctx, msg);
        return state;
      case 'membership-snapshot':
      case 'membership-event':
        if (!isMembershipNotice(msg)) break;
        state.reachability.apply(msg);
        return state;
      case 'ring-updated':
        if (!isRing(msg.ring)) break;
        if (supersedes(msg.ring, state.ring)) state.ring = msg.ring;
        return state;
      case 'terminated':
        return state;
      default:
        break;
    }
    state.malformedMessages++;
    return state;
  },
});

/** The typed ref of a node's coordinator. */
export function coordinatorRef(node: string): ActorRef<KvRequest> {
  return selectActor<KvRequest>(node, COORDINATOR_PATH);
}

/** The ref of a node's coordinator, for its counts. */
export function coordinatorStatsRef(node: string): ActorRef<StatsRequest> {
  return selectActor<StatsRequest>(node, COORDINATOR_PATH);
}

export { STORAGE_PATH };
