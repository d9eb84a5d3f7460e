/**
 * `/system/coordinator`: serves `get`, `put` and `delete` for clients (Dynamo §4.5, strict quorum).
 *
 * - put/delete: coordinated by a primary replica of the key (the first N distinct nodes of its
 *   preference list); another node forwards the request there. The coordinator's storage mints
 *   the new version under its (node, storage epoch) id and stores it, then the coordinator sends
 *   it to the other N - 1 primaries and answers once W (its own store included) acknowledged.
 * - get: any node coordinates; it asks the N primaries and answers with the merge of the first R
 *   replies: all siblings and one causal context.
 * - No reply by the deadline: a get fails (it changed nothing); a put or delete is *unknown*, since
 *   the version may already be stored at some replicas.
 *
 * Every node starts from the same ring (computed from the cluster's node list); `/system/ring`
 * tells the coordinator of newer ones. Requests to replicas carry the ring version they were
 * routed with.
 */
import { type ActorContext, type ActorRef, defineActor, selectActor, type Terminated } from '@starling/actors';
import { gossipRef, isActive, isMembershipNotice, type MembershipNotice } from '@starling/gossip';
import { type Dot, isDvvSet, join, values } from './dvv.ts';
import type { KvErrorCode, KvOutcome } from './errors.ts';
import { type GetReply, isKvRequest, type KvOptions, type KvRequest, type PutReply, type StorageReply } from './protocol.ts';
import { type QuorumSpec, ReadQuorum, WriteQuorum } from './quorum.ts';
import { isRing, partitionOf, preferenceList, type Ring } from './ring.ts';
import { type RingUpdated, savedRing } from './ring-keeper.ts';
import { STORAGE_PATH, storageRef } from './storage.ts';
import type { StoredClock } from './store.ts';

/** Where the coordinator lives on every node. */
export const COORDINATOR_PATH = '/system/coordinator';

/** Replication settings of the plugin. */
export interface ReplicationDefaults extends QuorumSpec {
  /** Default request deadline, in ms. */
  readonly timeoutMs: number;
}

/** Dynamo's common configuration (§6): N = 3, R = 2, W = 2. */
export const DEFAULT_REPLICATION: ReplicationDefaults = { n: 3, r: 2, w: 2, timeoutMs: 2_000 };

/** How long write requests are remembered for de-duplication, in ms: above the runtime's default `maxMessageAgeMs` (10 s). */
export const DEDUPE_WINDOW_MS = 30_000;

/** Longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 1_024;

type Timeout = { readonly type: 'kv-timeout'; readonly reqId: string; readonly token: number };

/** Everything the coordinator accepts. */
export type CoordinatorMessage = KvRequest | StorageReply | Timeout | MembershipNotice | RingUpdated | Terminated;

interface PendingPut {
  readonly kind: 'put';
  readonly replyTo: ActorRef<PutReply>;
  readonly partition: number;
  readonly storeKey: string;
  readonly quorum: WriteQuorum;
  dot?: Dot;
  clock?: StoredClock;
  isDone: boolean;
}

interface PendingGet {
  readonly kind: 'get';
  readonly replyTo: ActorRef<GetReply>;
  readonly quorum: ReadQuorum<unknown>;
  isDone: boolean;
}

interface CoordinatorState {
  /** The newest ring this node's ring keeper told of. */
  ring: Ring;
  readonly defaults: ReplicationDefaults;
  readonly buckets: Readonly<Record<string, Partial<ReplicationDefaults>>>;
  readonly pending: Map<string, PendingPut | PendingGet>;
  /** Members the membership plugin reports down (empty without it). */
  readonly down: Set<string>;
  /** Write requests seen lately (by reply address) → when: duplicates are dropped. */
  readonly seenWrites: Map<string, number>;
  /** Drawn at each start of the actor: request ids and timer messages of an earlier start never match. */
  readonly token: number;
  nextReq: number;
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
  if (msg.type === 'kv-put' && (msg.value === null || msg.value === undefined)) return 'a value cannot be null or undefined: delete the key instead';
  return undefined;
}

function nextReqId(state: CoordinatorState): string {
  return `${state.token.toString(36)}.${state.nextReq++}`;
}

function armDeadline(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string, timeoutMs: number): void {
  ctx.timers.once(`req:${reqId}`, timeoutMs, { type: 'kv-timeout', reqId, token: state.token });
}

function finish(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, reqId: string): void {
  const p = state.pending.get(reqId);
  if (p) p.isDone = true;
  state.pending.delete(reqId);
  ctx.timers.cancel(`req:${reqId}`);
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

function startWrite(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Extract<KvRequest, { type: 'kv-put' | 'kv-delete' }>): void {
  if (isDuplicate(state, ctx, msg)) return;
  const s = settingsFor(state, msg.bucket, msg.options);
  const problem = invalid(msg, s, state.ring);
  if (problem) return ctx.tell(msg.replyTo, fail('INVALID_REQUEST', problem, 'failed'));
  const key = storeKey(msg.bucket, msg.key);
  const partition = partitionOf(state.ring, key);
  const preference = preferenceList(state.ring, partition, s.n);
  if (!preference.includes(ctx.nodeName) && msg.isForwarded !== true) {
    // Only a primary mints the dot, since it must know its own version of the key. A request
    // forwarded once is coordinated where it lands, even if rings disagree for a moment: never
    // forwarded again, so it cannot bounce between two nodes.
    const target = preference.find((n) => !state.down.has(n)) ?? preference[0]!;
    ctx.tell(selectActor<KvRequest>(target, COORDINATOR_PATH), { ...msg, isForwarded: true });
    return;
  }
  const reachable = preference.filter((n) => n === ctx.nodeName || !state.down.has(n));
  if (reachable.length < s.w) {
    // Nothing stored yet: the write certainly did not happen.
    return ctx.tell(msg.replyTo, fail('QUORUM_NOT_MET', `only ${reachable.length} of ${s.n} replicas are reachable, W is ${s.w}`, 'failed', reachable));
  }
  const reqId = nextReqId(state);
  state.pending.set(reqId, { kind: 'put', replyTo: msg.replyTo, partition, storeKey: key, quorum: new WriteQuorum(preference, s.w), isDone: false });
  ctx.tell(storageRef(ctx.nodeName), {
    type: 'st-coordinate',
    reqId,
    partition,
    key,
    value: msg.type === 'kv-put' ? msg.value : null,
    context: msg.context ?? {},
    replyTo: ctx.self as ActorRef<StorageReply>,
  });
  armDeadline(state, ctx, reqId, s.timeoutMs);
}

function startRead(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Extract<KvRequest, { type: 'kv-get' }>): void {
  const s = settingsFor(state, msg.bucket, msg.options);
  const problem = invalid(msg, s, state.ring);
  if (problem) return ctx.tell(msg.replyTo, fail('INVALID_REQUEST', problem, 'failed'));
  const key = storeKey(msg.bucket, msg.key);
  const partition = partitionOf(state.ring, key);
  const preference = preferenceList(state.ring, partition, s.n);
  const reachable = preference.filter((n) => n === ctx.nodeName || !state.down.has(n));
  if (reachable.length < s.r) {
    return ctx.tell(msg.replyTo, fail('QUORUM_NOT_MET', `only ${reachable.length} of ${s.n} replicas are reachable, R is ${s.r}`, 'failed', reachable));
  }
  const reqId = nextReqId(state);
  state.pending.set(reqId, { kind: 'get', replyTo: msg.replyTo, quorum: new ReadQuorum(preference, s.r), isDone: false });
  for (const node of preference) {
    ctx.tell(storageRef(node), { type: 'st-read', reqId, partition, key, ringVersion: state.ring.version, replyTo: ctx.self as ActorRef<StorageReply> });
  }
  armDeadline(state, ctx, reqId, s.timeoutMs);
}

function onStorageReply(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: StorageReply): void {
  const p = state.pending.get(msg.reqId);
  if (!p) return; // late: the request is already answered
  if (p.kind === 'get') {
    if (msg.type !== 'st-read-result') return;
    p.quorum.reply(msg.node, msg.clock ?? undefined);
    if (!p.quorum.isMet) return;
    const merged = p.quorum.result();
    const all = values(merged);
    const live = all.filter((v) => v !== null);
    finish(state, ctx, msg.reqId);
    ctx.tell(p.replyTo, { type: 'kv-get-ok', values: live, isDeleted: all.length > 0 && live.length === 0, context: join(merged), replicas: p.quorum.replicas() });
    return;
  }
  if (msg.type === 'st-coordinated') {
    if (msg.node !== ctx.nodeName || p.clock) return;
    p.clock = msg.clock;
    p.dot = msg.dot;
    p.quorum.ack(ctx.nodeName);
    for (const node of p.quorum.preference) {
      if (node === ctx.nodeName) continue;
      ctx.tell(storageRef(node), {
        type: 'st-write',
        reqId: msg.reqId,
        partition: p.partition,
        key: p.storeKey,
        clock: msg.clock,
        ringVersion: state.ring.version,
        replyTo: ctx.self as ActorRef<StorageReply>,
      });
    }
  } else if (msg.type === 'st-written') {
    if (!p.clock) return;
    p.quorum.ack(msg.node);
  } else return;
  if (p.quorum.isMet && p.clock && p.dot) {
    finish(state, ctx, msg.reqId);
    ctx.tell(p.replyTo, { type: 'kv-put-ok', context: join(p.clock), values: values(p.clock).filter((v) => v !== null), dot: p.dot, replicas: p.quorum.replicas() });
  }
}

function onTimeout(state: CoordinatorState, ctx: ActorContext<CoordinatorMessage>, msg: Timeout): void {
  const p = state.pending.get(msg.reqId);
  if (!p || msg.token !== state.token) return;
  finish(state, ctx, msg.reqId);
  const replicas = p.quorum.replicas();
  if (p.kind === 'get') {
    ctx.tell(p.replyTo, fail('QUORUM_NOT_MET', `${replicas.length} of R=${p.quorum.r} replicas answered in time`, 'failed', replicas));
  } else {
    // The version may be stored at the coordinator and some replicas (or still on its way there): it may survive.
    ctx.tell(p.replyTo, fail('QUORUM_NOT_MET', `${replicas.length} of W=${p.quorum.w} replicas acknowledged in time`, 'unknown', replicas));
  }
}

/** Replies from storage come from other nodes too: check them before use. */
function isStorageReply(msg: StorageReply): boolean {
  if (typeof msg.reqId !== 'string' || typeof msg.node !== 'string') return false;
  if (msg.type === 'st-read-result') return msg.clock === null || isDvvSet(msg.clock);
  if (msg.type === 'st-coordinated') return isDvvSet(msg.clock) && typeof msg.dot === 'object' && msg.dot !== null && typeof msg.dot.id === 'string' && Number.isSafeInteger(msg.dot.counter);
  return true;
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
      down: new Set(),
      seenWrites: new Map(),
      token: Math.floor(ctx.random() * 0x1_0000_0000),
      nextReq: 1,
      malformedMessages: 0,
    };
  },
  onStart(state, ctx) {
    // Which primaries are down, from the membership plugin when it runs (a harmless dead letter otherwise).
    ctx.tell(gossipRef(ctx.nodeName), { type: 'subscribe', subscriber: ctx.self as ActorRef<MembershipNotice> });
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
        if (msg.type === 'membership-event') {
          if (isActive(msg.event.member.state)) state.down.delete(msg.event.member.name);
          else state.down.add(msg.event.member.name);
          return state;
        }
        state.down.clear();
        for (const m of msg.members) if (!isActive(m.state)) state.down.add(m.name);
        return state;
      case 'ring-updated':
        if (!isRing(msg.ring)) break;
        if (msg.ring.version > state.ring.version) state.ring = msg.ring;
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

export { STORAGE_PATH };
