/**
 * `/system/anti-entropy`: replicas that missed writes (a partition, a crash, dropped messages,
 * expired hints, a restart empty) converge without any client reading the key (Dynamo §4.7, with
 * Riak's Tictac trees: merkle.ts).
 *
 * Every `intervalMs` (jittered) a node takes the next peer that shares partitions with it and
 * sends the roots of all of them in one message; the peer answers with those that differ, and
 * each of those gets an exchange (anti-entropy-protocol.ts has its messages): descend only under
 * differing nodes, several levels per round trip; list the keys of the differing buckets with
 * their pair hashes; send this side's versions of the differing keys and get the peer's where it
 * had more. Merging is the version vectors' `sync`, so siblings are kept, tombstones respected and
 * nothing is resurrected. One exchange at a time per node, and on average at most `bytesPerSec`
 * moved (both directions), so repair never starves clients. The same rounds run back to back
 * after a start (a restart, a restart empty), when membership sees a node come back (a heal), and
 * when an operator asks (`ae-now`).
 *
 * The store is the node's (principle 8), shared with `/system/storage`; its trees are kept up to
 * date by every write (store.ts).
 */
import { type ActorContext, type ActorRef, defineActor } from '@starling/actors';
import { isMembershipNotice, type MembershipNotice, subscribeToMembership } from '@starling/gossip';
import {
  type AntiEntropyConfig,
  type AntiEntropyMessage,
  type AntiEntropyStatus,
  antiEntropyRef,
  type ExchangeReport,
  isWellFormedAntiEntropyMessage,
} from './anti-entropy-protocol.ts';
import { sync } from './dvv.ts';
import { descendants, differing, type Hash64, levelOf, MAX_MERKLE_DEPTH, type MerkleTree } from './merkle.ts';
import { Reachability } from './reachability.ts';
import { partitionOf, preferenceList, type Ring } from './ring.ts';
import { savedRing } from './ring-disk.ts';
import { isTombstone, openStore, type Store, type StoredClock, type StoreKind } from './store.ts';
import { decodeBatch, decodeKeys, packEntries, packKeys } from './transfer-batch.ts';
import { bucketHash, clockSummary, pairHash, treeOf } from './version-hash.ts';


/** What the actor receives: the protocol, and membership news (a node back starts a round with it). */
type Ctx = ActorContext<AntiEntropyMessage | MembershipNotice>;

/** The anti-entropy actor's props. */
export interface AntiEntropyProps {
  readonly ring: Ring;
  readonly store: StoreKind;
  readonly config: AntiEntropyConfig;
}

/** Node indices asked in one descent message, at most: past it, every bucket under the frontier is listed instead. */
const MAX_INDICES = 4_096;
/** Buckets listed in one round trip, at most (about 4 keys each). */
const BUCKETS_PER_LIST = 256;
/** A peer forgets an exchange's tree unused this long, in ms. */
const SERVED_IDLE_MS = 30_000;
/** Exchanges a peer keeps trees for at once, at most (the oldest is forgotten first). */
const MAX_SERVED = 16;
/** Bytes of versions in one repair message, at most (a quarter of the default message limit). */
const REPAIR_BYTES = 262_144;

type Item = { readonly kind: 'roots'; readonly peer: string } | { readonly kind: 'partition'; readonly partition: number; readonly peer: string };

/** An exchange (or roots round) this node started. */
interface Active {
  readonly xid: string;
  readonly item: Item;
  readonly startedAtMs: number;
  rounds: number;
  bytes: number;
  depth: number;
  tree: MerkleTree | undefined;
  /** Differing buckets not listed yet. */
  buckets: number[];
  /** The buckets of the listing on its way. */
  chunk: number[];
  /** The nodes whose hashes the step on its way asked for. */
  asked: number[];
  /** The step number of the ask on its way: an answer must echo it. */
  seq: number;
  /** This side's versions of differing keys still to send, in byte-capped parts, after the part on its way. */
  repairs: Uint8Array[];
  /** A roots round's partitions (to note which were equal). */
  shared: number[];
  /** This side's keys by bucket at `depth`, built at the first listing. */
  byBucket: Map<number, string[]> | undefined;
  keysDiffering: number;
  /** A step held back by the rate cap, sent when its wait is over. */
  held: { readonly msg: AntiEntropyMessage; readonly bytes: number } | undefined;
}

/** A peer's side of an exchange: the tree at the agreed depth, and its keys by bucket. */
interface Served {
  readonly partition: number;
  readonly tree: MerkleTree;
  byBucket: Map<number, string[]> | undefined;
  usedAtMs: number;
}

interface Counters {
  tombstonesCollected: number;
  keysTooLarge: number;
  exchanges: number;
  exchangesEqual: number;
  exchangesFailed: number;
  partitionsCompared: number;
  keysRepaired: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  rounds: number;
}

interface AntiEntropyState {
  readonly config: AntiEntropyConfig;
  readonly initialRing: Ring;
  readonly store: Store;
  /** Drawn at each start: timers and exchange ids of an earlier start never match. */
  readonly token: string;
  nextXid: number;
  readonly reachability: Reachability;
  readonly queue: Item[];
  /** Round robin over peers for the periodic rounds. */
  peerCursor: number;
  active: Active | undefined;
  readonly served: Map<string, Served>;
  /** The rate cap's bucket, in bytes (negative: in debt). */
  tokens: number;
  refilledAtMs: number;
  readonly counters: Counters;
  malformedMessages: number;
  /** Tombstones this node holds, by store key: the version, and when this node first saw it. */
  readonly tombSeen: Map<string, { readonly summary: string; readonly atMs: number }>;
  /** Per partition and peer: the last time a round found both stores equal (the round's send time). */
  readonly equalAt: Map<number, Map<string, number>>;
  /** Tombstones collected here, by store key (their pair hash), for one grace period: the same version offered back is dropped. */
  readonly collected: Map<string, { readonly hi: number; readonly lo: number; readonly atMs: number }>;
  /** Round robin over held partitions for tombstone collection. */
  gcCursor: number;
}

function ringOf(state: AntiEntropyState, ctx: Ctx): Ring {
  return savedRing(ctx.disk) ?? state.initialRing;
}

/** The partitions `node` replicates under `ring` (its preference lists of N), in order. */
function heldBy(ring: Ring, n: number, node: string): number[] {
  const out: number[] = [];
  for (let p = 0; p < ring.partitionCount; p++) if (preferenceList(ring, p, n).includes(node)) out.push(p);
  return out;
}

/** The nodes sharing at least one partition with this one, by name. */
function peersOf(ring: Ring, n: number, self: string): string[] {
  const out = new Set<string>();
  for (let p = 0; p < ring.partitionCount; p++) {
    const pl = preferenceList(ring, p, n);
    if (pl.includes(self)) for (const x of pl) if (x !== self) out.add(x);
  }
  return [...out].sort();
}

function toArray(h: Hash64): Uint32Array {
  return Uint32Array.of(h.hi, h.lo);
}

/** A partition's tree at `depth`: the store's own if it has that depth, else one built for the exchange. */
function treeAt(store: Store, partition: number, depth: number): MerkleTree {
  const own = store.tree(partition);
  if (own.depth === depth) return own;
  if (own.depth > depth) return own.fold(depth);
  return treeOf(
    depth,
    store.keys(partition).map((k) => [k, store.get(partition, k)!] as const),
  );
}

function keysByBucket(store: Store, partition: number, depth: number): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const shift = 32 - depth;
  for (const key of store.keys(partition)) {
    const bucket = depth === 0 ? 0 : bucketHash(key) >>> shift;
    const list = out.get(bucket);
    if (list === undefined) out.set(bucket, [key]);
    else list.push(key);
  }
  return out;
}

/**
 * Merges a peer's version of a key into the store: `changed`, `same`, or `collected` (a tombstone
 * this node collected, offered back: dropped, and the peer is told).
 */
function merge(state: AntiEntropyState, partition: number, key: string, clock: StoredClock): 'changed' | 'same' | 'collected' {
  const memo = state.collected.get(key);
  if (memo !== undefined && state.store.get(partition, key) === undefined) {
    const h = pairHash(key, clock);
    if (h.hi === memo.hi && h.lo === memo.lo) return 'collected';
  }
  const stored = state.store.get(partition, key);
  const merged = stored === undefined ? clock : sync(stored, clock);
  if (stored !== undefined && clockSummary(merged) === clockSummary(stored)) return 'same';
  state.store.put(partition, key, merged);
  state.counters.keysRepaired++;
  return 'changed';
}

// -------------------------------------------------------------------------------------------------
// Tombstone collection (principle 9)

/** Keys looked at per tick, at most. */
const GC_KEYS_PER_TICK = 2_048;

function noteEqual(state: AntiEntropyState, partition: number, peer: string, atMs: number): void {
  let m = state.equalAt.get(partition);
  if (m === undefined) state.equalAt.set(partition, (m = new Map()));
  if ((m.get(peer) ?? -Infinity) < atMs) m.set(peer, atMs);
}

function collect(state: AntiEntropyState, partition: number, key: string, clock: StoredClock, ctx: Ctx): void {
  const h = pairHash(key, clock);
  state.store.remove(partition, key);
  state.tombSeen.delete(key);
  state.collected.set(key, { hi: h.hi, lo: h.lo, atMs: ctx.now() });
  state.counters.tombstonesCollected++;
}

/**
 * Collects tombstones that every primary of their partition holds, a grace period after this
 * node first saw them. "Every primary holds it": a round this node started after it first saw the
 * tombstone found its store equal to each other primary's, so each held this very version then,
 * and versions only grow. The grace period outlasts `maxMessageAgeMs` and `hintTtlMs`: no delayed
 * message or hint still carries a version from before the delete. Nothing is collected while the
 * ring changes.
 */
function collectTombstones(state: AntiEntropyState, ctx: Ctx): void {
  const now = ctx.now();
  const grace = state.config.tombstoneGraceMs;
  for (const [key, c] of state.collected) if (now - c.atMs > grace) state.collected.delete(key);
  const ring = ringOf(state, ctx);
  if (ring.next !== undefined) return;
  const { n } = state.config;
  const held = heldBy(ring, n, ctx.nodeName);
  let budget = GC_KEYS_PER_TICK;
  for (let i = 0; i < held.length && budget > 0; i++) {
    const p = held[state.gcCursor++ % held.length]!;
    const others = preferenceList(ring, p, n).filter((x) => x !== ctx.nodeName);
    const equal = state.equalAt.get(p);
    for (const key of state.store.tombstones(p)) {
      if (--budget < 0) break;
      const clock = state.store.get(p, key)!;
      const summary = clockSummary(clock);
      const seen = state.tombSeen.get(key);
      if (seen === undefined || seen.summary !== summary) {
        state.tombSeen.set(key, { summary, atMs: now });
        continue;
      }
      if (now - seen.atMs <= grace || !others.every((q) => (equal?.get(q) ?? -Infinity) > seen.atMs)) continue;
      collect(state, p, key, clock, ctx);
    }
  }
}

/** Keys (with pair hashes) a peer collected: collected here too if this node holds that very tombstone. */
function collectNamed(state: AntiEntropyState, partition: number, keys: readonly string[], hashes: Uint32Array, ctx: Ctx): void {
  for (const [i, key] of keys.entries()) {
    const clock = state.store.get(partition, key);
    if (clock === undefined || !isTombstone(clock)) continue;
    const h = pairHash(key, clock);
    if (h.hi === hashes[2 * i] && h.lo === hashes[2 * i + 1]) collect(state, partition, key, clock, ctx);
  }
}

function packCollected(entries: readonly (readonly [string, Hash64])[]): { collected: Uint8Array; collectedHashes: Uint32Array } {
  const collectedHashes = new Uint32Array(entries.length * 2);
  entries.forEach(([, h], i) => {
    collectedHashes[2 * i] = h.hi;
    collectedHashes[2 * i + 1] = h.lo;
  });
  return { collected: packKeys(entries.map(([k]) => k)), collectedHashes };
}

// -------------------------------------------------------------------------------------------------
// Sending, paced

function payloadBytes(msg: AntiEntropyMessage): number {
  let bytes = 0;
  for (const v of Object.values(msg)) if (v instanceof Uint8Array || v instanceof Uint32Array) bytes += v.byteLength;
  return bytes;
}

function refill(state: AntiEntropyState, ctx: Ctx): void {
  const now = ctx.now();
  state.tokens = Math.min(state.config.bytesPerSec, state.tokens + ((now - state.refilledAtMs) * state.config.bytesPerSec) / 1_000);
  state.refilledAtMs = now;
}

function noteReceived(state: AntiEntropyState, msg: AntiEntropyMessage, ctx: Ctx): number {
  const bytes = payloadBytes(msg);
  state.counters.bytesReceived += bytes;
  state.counters.messagesReceived++;
  refill(state, ctx);
  charge(state, bytes);
  return bytes;
}

/** Sends a reply at once (a peer answers what it is asked; the initiator's cap paces the asks). */
function reply(state: AntiEntropyState, ctx: Ctx, to: ActorRef<AntiEntropyMessage>, msg: AntiEntropyMessage): void {
  state.counters.bytesSent += payloadBytes(msg);
  state.counters.messagesSent++;
  ctx.tell(to, msg);
}

/** Packs entries into parts of at most `maxBytes` each; an entry alone larger than that is left out (it cannot travel) and counted. */
function packParts(state: AntiEntropyState, entries: readonly (readonly [string, StoredClock])[], maxBytes: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let current: (readonly [string, StoredClock])[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = packEntries([entry]).length;
    if (size > maxBytes) {
      state.counters.keysTooLarge++;
      continue;
    }
    if (bytes + size > maxBytes && current.length > 0) {
      parts.push(packEntries(current));
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0 || parts.length === 0) parts.push(packEntries(current));
  return parts;
}

/** The initiator's next step: sent now, or held until the rate cap allows it. */
function step(state: AntiEntropyState, a: Active, peer: string, msg: AntiEntropyMessage, ctx: Ctx): void {
  const bytes = payloadBytes(msg);
  refill(state, ctx);
  a.rounds++;
  if (state.tokens < 0) {
    a.held = { msg, bytes };
    ctx.timers.once('pace', Math.ceil((-state.tokens * 1_000) / state.config.bytesPerSec), { type: 'ae-pace', token: state.token, xid: a.xid });
    return;
  }
  send(state, a, peer, msg, bytes, ctx);
}

function send(state: AntiEntropyState, a: Active, peer: string, msg: AntiEntropyMessage, bytes: number, ctx: Ctx): void {
  charge(state, bytes);
  a.bytes += bytes;
  state.counters.bytesSent += bytes;
  state.counters.messagesSent++;
  // The answer's deadline runs from the send, not from a wait the cap imposed.
  arm(state, a, ctx);
  ctx.tell(antiEntropyRef(peer), msg);
}

/** Takes `bytes` from the cap's bucket; the debt is floored at one second's worth, so no wait exceeds a second. */
function charge(state: AntiEntropyState, bytes: number): void {
  state.tokens = Math.max(-state.config.bytesPerSec, state.tokens - bytes);
}

function arm(state: AntiEntropyState, a: Active, ctx: Ctx): void {
  ctx.timers.once('exchange', state.config.timeoutMs, { type: 'ae-timeout', token: state.token, xid: a.xid });
}

// -------------------------------------------------------------------------------------------------
// The initiator

function enqueue(state: AntiEntropyState, item: Item): void {
  const same = (x: Item): boolean => x.kind === item.kind && x.peer === item.peer && (x.kind === 'roots' || (item.kind === 'partition' && x.partition === item.partition));
  if (!state.queue.some(same) && !(state.active !== undefined && same(state.active.item))) state.queue.push(item);
}

/** Starts the next queued item, or (from a tick) the next periodic round; one at a time. */
function startNext(state: AntiEntropyState, ctx: Ctx, isTick: boolean): void {
  if (state.active !== undefined) return;
  const ring = ringOf(state, ctx);
  const { n } = state.config;
  // Skip what no longer applies: a peer down, or (after a ring change) a partition one side no longer holds.
  const stale = (x: Item): boolean => state.reachability.isDown(x.peer) || (x.kind === 'partition' && !(holds(ring, n, x.partition, ctx.nodeName) && holds(ring, n, x.partition, x.peer)));
  let item = state.queue.shift();
  while (item !== undefined && stale(item)) item = state.queue.shift();
  if (item === undefined) {
    if (!isTick) return;
    const peers = peersOf(ring, n, ctx.nodeName).filter((p) => !state.reachability.isDown(p));
    if (peers.length === 0) return;
    item = { kind: 'roots', peer: peers[state.peerCursor++ % peers.length]! };
  }
  const xid = `${state.token}.${state.nextXid++}`;
  const a: Active = { xid, item, startedAtMs: ctx.now(), rounds: 0, bytes: 0, depth: 0, tree: undefined, buckets: [], chunk: [], asked: [], seq: 0, repairs: [], shared: [], byBucket: undefined, keysDiffering: 0, held: undefined };
  state.active = a;
  if (item.kind === 'roots') {
    const shared = heldBy(ring, n, ctx.nodeName).filter((p) => preferenceList(ring, p, n).includes(item.peer));
    const roots = new Uint32Array(shared.length * 2);
    shared.forEach((p, i) => {
      const r = state.store.tree(p).root;
      roots[2 * i] = r.hi;
      roots[2 * i + 1] = r.lo;
    });
    state.counters.partitionsCompared += shared.length;
    a.shared = shared;
    return step(state, a, item.peer, { type: 'ae-roots', xid, seq: ++a.seq, partitions: Uint32Array.from(shared), roots, replyTo: ctx.self }, ctx);
  }
  const tree = state.store.tree(item.partition);
  const { levelsPerRound: levels } = state.config;
  a.asked = descendants([0], levels);
  step(state, a, item.peer, { type: 'ae-root', xid, seq: ++a.seq, partition: item.partition, depth: tree.depth, root: toArray(tree.root), levels, replyTo: ctx.self }, ctx);
}

function finish(state: AntiEntropyState, ctx: Ctx, outcome: 'equal' | 'repaired' | 'failed'): void {
  const a = state.active!;
  state.active = undefined;
  ctx.timers.cancel('exchange');
  ctx.timers.cancel('pace');
  state.counters.rounds += a.rounds;
  if (a.item.kind === 'partition') {
    if (outcome === 'failed') state.counters.exchangesFailed++;
    else {
      state.counters.exchanges++;
      if (outcome === 'equal') state.counters.exchangesEqual++;
      const report: ExchangeReport = {
        kind: 'exchange',
        partition: a.item.partition,
        peer: a.item.peer,
        depth: a.depth,
        isEqual: outcome === 'equal',
        rounds: a.rounds,
        bytes: a.bytes,
        keysDiffering: a.keysDiffering,
        durationMs: ctx.now() - a.startedAtMs,
      };
      ctx.publish('starling.anti-entropy', report);
    }
  }
  startNext(state, ctx, false);
}

function onRootsDiff(state: AntiEntropyState, a: Active, msg: Extract<AntiEntropyMessage, { type: 'ae-roots-diff' }>, ctx: Ctx): void {
  const ring = ringOf(state, ctx);
  const differ = new Set(msg.partitions);
  for (const p of a.shared) if (!differ.has(p)) noteEqual(state, p, a.item.peer, a.startedAtMs);
  for (const p of differ) if (holds(ring, state.config.n, p, ctx.nodeName)) enqueue(state, { kind: 'partition', partition: p, peer: a.item.peer });
  finish(state, ctx, 'equal');
}

function onHashes(state: AntiEntropyState, a: Active, msg: Extract<AntiEntropyMessage, { type: 'ae-hashes' }>, ctx: Ctx): void {
  if (a.item.kind !== 'partition') return;
  const { partition, peer } = a.item;
  if (a.tree === undefined) {
    // The agreed depth is the larger of the two: never below this side's, never past the maximum.
    if (msg.depth > MAX_MERKLE_DEPTH || msg.depth < state.store.tree(partition).depth) {
      state.malformedMessages++;
      return finish(state, ctx, 'failed');
    }
    a.depth = msg.depth;
    a.tree = treeAt(state.store, partition, msg.depth);
  }
  if (msg.depth !== a.depth) return finish(state, ctx, 'failed');
  const firstLeaf = 2 ** a.depth - 1;
  let frontier: number[];
  let level: number;
  if (a.depth === 0) {
    frontier = [0];
    level = 0;
  } else {
    // The first answer covers min(levels, depth) levels below the root: what was asked, cut to the tree.
    const asked = a.asked.length > 0 && levelOf(a.asked[0]!) > a.depth ? descendants([0], a.depth) : a.asked;
    if (msg.hashes.length !== 2 * asked.length) return finish(state, ctx, 'failed');
    frontier = differing(a.tree, asked, msg.hashes);
    level = levelOf(asked[0]!);
  }
  if (frontier.length === 0) return finish(state, ctx, 'equal');
  if (level < a.depth) {
    const levels = Math.min(state.config.levelsPerRound, a.depth - level);
    const next = descendants(frontier, levels);
    if (next.length <= MAX_INDICES) {
      a.asked = next;
      return step(state, a, peer, { type: 'ae-descend', xid: a.xid, seq: ++a.seq, partition, depth: a.depth, frontier: Uint32Array.from(frontier), levels, replyTo: ctx.self }, ctx);
    }
    // Too wide to descend further: every bucket under the frontier is listed.
    frontier = descendants(frontier, a.depth - level);
  }
  a.buckets = frontier.map((i) => i - firstLeaf);
  listNext(state, a, ctx);
}

function listNext(state: AntiEntropyState, a: Active, ctx: Ctx): void {
  if (a.item.kind !== 'partition') return;
  if (a.buckets.length === 0) return finish(state, ctx, a.keysDiffering === 0 ? 'equal' : 'repaired');
  const chunk = a.buckets.splice(0, BUCKETS_PER_LIST);
  a.chunk = chunk;
  step(state, a, a.item.peer, { type: 'ae-list', xid: a.xid, seq: ++a.seq, partition: a.item.partition, depth: a.depth, buckets: Uint32Array.from(chunk), replyTo: ctx.self }, ctx);
}

function onListed(state: AntiEntropyState, a: Active, msg: Extract<AntiEntropyMessage, { type: 'ae-listed' }>, ctx: Ctx): void {
  if (a.item.kind !== 'partition') return;
  const { partition, peer } = a.item;
  const { chunk } = a;
  const ring = ringOf(state, ctx);
  const keys = decodeKeys(msg.keys);
  if (keys === undefined || msg.hashes.length !== 2 * keys.length || keys.some((k) => partitionOf(ring, k) !== partition)) {
    state.malformedMessages++;
    return finish(state, ctx, 'failed');
  }
  const theirs = new Map<string, number>();
  const asked = new Set(chunk);
  const shift = 32 - a.depth;
  for (const [i, k] of keys.entries()) if (asked.has(a.depth === 0 ? 0 : bucketHash(k) >>> shift)) theirs.set(k, i);
  a.byBucket ??= keysByBucket(state.store, partition, a.depth);
  let differ = 0;
  const mine: [string, NonNullable<ReturnType<Store['get']>>][] = [];
  for (const bucket of chunk) {
    for (const key of a.byBucket.get(bucket) ?? []) {
      const clock = state.store.get(partition, key);
      if (clock === undefined) continue;
      const i = theirs.get(key);
      const h = pairHash(key, clock);
      theirs.delete(key);
      if (i !== undefined && msg.hashes[2 * i] === h.hi && msg.hashes[2 * i + 1] === h.lo) continue;
      differ++;
      mine.push([key, clock]);
    }
  }
  // Keys only the peer holds: asked for by name (for the others, the peer answers where its version is
  // not the one sent), unless it is a tombstone this node collected: then the peer is told to collect it.
  const want: string[] = [];
  const gone: [string, Hash64][] = [];
  for (const [key, i] of theirs) {
    const memo = state.collected.get(key);
    const h = { hi: msg.hashes[2 * i]!, lo: msg.hashes[2 * i + 1]! };
    if (memo !== undefined && memo.hi === h.hi && memo.lo === h.lo) gone.push([key, h]);
    else want.push(key);
  }
  differ += want.length;
  a.keysDiffering += differ;
  if (differ === 0 && gone.length === 0) return listNext(state, a, ctx);
  const [first, ...rest] = packParts(state, mine, REPAIR_BYTES);
  a.repairs = rest;
  step(state, a, peer, { type: 'ae-repair', xid: a.xid, seq: ++a.seq, partition, entries: first!, want: packKeys(want), ...packCollected(gone), replyTo: ctx.self }, ctx);
}

function onRepaired(state: AntiEntropyState, a: Active, msg: Extract<AntiEntropyMessage, { type: 'ae-repaired' }>, ctx: Ctx): void {
  if (a.item.kind !== 'partition') return;
  const { partition } = a.item;
  const ring = ringOf(state, ctx);
  const entries = decodeBatch(msg.entries);
  if (entries === undefined || entries.some(([k]) => partitionOf(ring, k) !== partition)) {
    state.malformedMessages++;
    return finish(state, ctx, 'failed');
  }
  const gone = decodeKeys(msg.collected);
  if (!holds(ring, state.config.n, partition, ctx.nodeName)) return finish(state, ctx, 'failed');
  if (gone === undefined || msg.collectedHashes.length !== 2 * gone.length) {
    state.malformedMessages++;
    return finish(state, ctx, 'failed');
  }
  for (const [key, clock] of entries) merge(state, partition, key, clock);
  collectNamed(state, partition, gone, msg.collectedHashes, ctx);
  const part = a.repairs.shift();
  if (part !== undefined) return step(state, a, a.item.peer, { type: 'ae-repair', xid: a.xid, seq: ++a.seq, partition, entries: part, want: packKeys([]), ...packCollected([]), replyTo: ctx.self }, ctx);
  listNext(state, a, ctx);
}

// -------------------------------------------------------------------------------------------------
// The peer

function holds(ring: Ring, n: number, partition: number, node: string): boolean {
  return partition < ring.partitionCount && preferenceList(ring, partition, n).includes(node);
}

function servedFor(state: AntiEntropyState, xid: string, partition: number, depth: number, ctx: Ctx): Served {
  let s = state.served.get(xid);
  if (s === undefined || s.partition !== partition || s.tree.depth !== depth) {
    s = { partition, tree: treeAt(state.store, partition, depth), byBucket: undefined, usedAtMs: ctx.now() };
    state.served.delete(xid);
    // Map order is insertion order: the first entry is the oldest.
    while (state.served.size >= MAX_SERVED) state.served.delete(state.served.keys().next().value!);
    state.served.set(xid, s);
  }
  s.usedAtMs = ctx.now();
  return s;
}

function onRoots(state: AntiEntropyState, msg: Extract<AntiEntropyMessage, { type: 'ae-roots' }>, ctx: Ctx): void {
  const ring = ringOf(state, ctx);
  const { n } = state.config;
  const out: number[] = [];
  for (let i = 0; i < msg.partitions.length; i++) {
    const p = msg.partitions[i]!;
    if (!holds(ring, n, p, ctx.nodeName)) continue;
    const r = state.store.tree(p).root;
    if (r.hi !== msg.roots[2 * i] || r.lo !== msg.roots[2 * i + 1]) out.push(p);
  }
  state.counters.partitionsCompared += msg.partitions.length;
  reply(state, ctx, msg.replyTo, { type: 'ae-roots-diff', xid: msg.xid, seq: msg.seq, partitions: Uint32Array.from(out) });
}

function onRoot(state: AntiEntropyState, msg: Extract<AntiEntropyMessage, { type: 'ae-root' }>, ctx: Ctx): void {
  const ring = ringOf(state, ctx);
  if (!holds(ring, state.config.n, msg.partition, ctx.nodeName)) return reply(state, ctx, msg.replyTo, { type: 'ae-refused', xid: msg.xid, seq: msg.seq, reason: 'not a replica of the partition' });
  if (msg.depth > MAX_MERKLE_DEPTH || 2 ** msg.levels > MAX_INDICES) return reply(state, ctx, msg.replyTo, { type: 'ae-refused', xid: msg.xid, seq: msg.seq, reason: 'depth or levels out of range' });
  const own = state.store.tree(msg.partition);
  if (own.root.hi === msg.root[0] && own.root.lo === msg.root[1]) return reply(state, ctx, msg.replyTo, { type: 'ae-equal', xid: msg.xid, seq: msg.seq });
  const depth = Math.max(own.depth, msg.depth);
  const { tree } = servedFor(state, msg.xid, msg.partition, depth, ctx);
  const indices = depth === 0 ? [] : descendants([0], Math.min(msg.levels, depth));
  reply(state, ctx, msg.replyTo, { type: 'ae-hashes', xid: msg.xid, seq: msg.seq, depth, hashes: tree.hashesOf(indices) });
}

function onDescend(state: AntiEntropyState, msg: Extract<AntiEntropyMessage, { type: 'ae-descend' }>, ctx: Ctx): void {
  const ring = ringOf(state, ctx);
  if (!holds(ring, state.config.n, msg.partition, ctx.nodeName) || msg.depth > MAX_MERKLE_DEPTH || msg.levels > msg.depth || msg.frontier.length === 0 || msg.frontier.length * 2 ** msg.levels > MAX_INDICES) {
    return reply(state, ctx, msg.replyTo, { type: 'ae-refused', xid: msg.xid, seq: msg.seq, reason: 'bad descent' });
  }
  // Every asked node must lie inside the tree: the frontier's level plus `levels` at most the depth.
  if (msg.frontier.some((i) => levelOf(i) + msg.levels > msg.depth)) return reply(state, ctx, msg.replyTo, { type: 'ae-refused', xid: msg.xid, seq: msg.seq, reason: 'index outside the tree' });
  const { tree } = servedFor(state, msg.xid, msg.partition, msg.depth, ctx);
  reply(state, ctx, msg.replyTo, { type: 'ae-hashes', xid: msg.xid, seq: msg.seq, depth: msg.depth, hashes: tree.hashesOf(descendants([...msg.frontier], msg.levels)) });
}

function onList(state: AntiEntropyState, msg: Extract<AntiEntropyMessage, { type: 'ae-list' }>, ctx: Ctx): void {
  const ring = ringOf(state, ctx);
  if (!holds(ring, state.config.n, msg.partition, ctx.nodeName) || msg.depth > MAX_MERKLE_DEPTH || msg.buckets.length > BUCKETS_PER_LIST) return reply(state, ctx, msg.replyTo, { type: 'ae-refused', xid: msg.xid, seq: msg.seq, reason: 'bad listing' });
  const s = servedFor(state, msg.xid, msg.partition, msg.depth, ctx);
  s.byBucket ??= keysByBucket(state.store, msg.partition, msg.depth);
  const keys: string[] = [];
  for (const bucket of msg.buckets) for (const key of s.byBucket.get(bucket) ?? []) if (state.store.get(msg.partition, key) !== undefined) keys.push(key);
  const hashes = new Uint32Array(keys.length * 2);
  keys.forEach((key, i) => {
    const h = pairHash(key, state.store.get(msg.partition, key)!);
    hashes[2 * i] = h.hi;
    hashes[2 * i + 1] = h.lo;
  });
  reply(state, ctx, msg.replyTo, { type: 'ae-listed', xid: msg.xid, seq: msg.seq, keys: packKeys(keys), hashes });
}

function onRepair(state: AntiEntropyState, msg: Extract<AntiEntropyMessage, { type: 'ae-repair' }>, ctx: Ctx): void {
  const ring = ringOf(state, ctx);
  const entries = decodeBatch(msg.entries);
  const want = decodeKeys(msg.want);
  const named = decodeKeys(msg.collected);
  const inPartition = (k: string): boolean => partitionOf(ring, k) === msg.partition;
  if (
    !holds(ring, state.config.n, msg.partition, ctx.nodeName) ||
    entries === undefined ||
    want === undefined ||
    named === undefined ||
    msg.collectedHashes.length !== 2 * named.length ||
    !entries.every(([k]) => inPartition(k)) ||
    !want.every(inPartition) ||
    !named.every(inPartition)
  ) {
    state.malformedMessages++;
    return reply(state, ctx, msg.replyTo, { type: 'ae-refused', xid: msg.xid, seq: msg.seq, reason: 'bad repair' });
  }
  collectNamed(state, msg.partition, named, msg.collectedHashes, ctx);
  const sent = new Map<string, string>();
  const gone: [string, Hash64][] = [];
  for (const [key, clock] of entries) {
    if (merge(state, msg.partition, key, clock) === 'collected') gone.push([key, pairHash(key, clock)]);
    else sent.set(key, clockSummary(clock));
  }
  // Back only what the initiator lacks: the keys it named, and those where this side's (merged) version is not the one it sent.
  const back: [string, NonNullable<ReturnType<Store['get']>>][] = [];
  for (const key of [...want, ...sent.keys()]) {
    const clock = state.store.get(msg.partition, key);
    if (clock !== undefined && sent.get(key) !== clockSummary(clock)) back.push([key, clock]);
  }
  // At most one part back: what does not fit is repaired by a later round.
  reply(state, ctx, msg.replyTo, { type: 'ae-repaired', xid: msg.xid, seq: msg.seq, entries: packParts(state, back, REPAIR_BYTES)[0]!, ...packCollected(gone) });
}

// -------------------------------------------------------------------------------------------------
// The actor

function queueAll(state: AntiEntropyState, ctx: Ctx, only?: string): number {
  const before = state.queue.length;
  for (const peer of peersOf(ringOf(state, ctx), state.config.n, ctx.nodeName)) if (only === undefined || peer === only) enqueue(state, { kind: 'roots', peer });
  return state.queue.length - before;
}

function scheduleTick(state: AntiEntropyState, ctx: Ctx): void {
  ctx.timers.once('tick', Math.max(1, Math.round(state.config.intervalMs * (0.5 + ctx.random()))), { type: 'ae-tick', token: state.token });
}

function status(state: AntiEntropyState, ctx: Ctx): AntiEntropyStatus {
  return { type: 'ae-status', node: ctx.nodeName, ...state.counters, queued: state.queue.length, malformedMessages: state.malformedMessages };
}

function forgetServed(state: AntiEntropyState, ctx: Ctx): void {
  const now = ctx.now();
  for (const [xid, s] of state.served) if (now - s.usedAtMs >= SERVED_IDLE_MS) state.served.delete(xid);
}

/** The anti-entropy actor. */
export const antiEntropyActor = defineActor<AntiEntropyMessage | MembershipNotice, AntiEntropyState, AntiEntropyProps>({
  name: 'starling.anti-entropy',
  init(props, ctx) {
    return {
      config: props.config,
      initialRing: props.ring,
      store: openStore(ctx.disk, props.store, ctx.nodeUid, () => Math.floor(ctx.random() * 0x1_0000_0000).toString(16)),
      token: Math.floor(ctx.random() * 0x1_0000_0000).toString(36),
      nextXid: 1,
      reachability: new Reachability(),
      queue: [],
      peerCursor: 0,
      active: undefined,
      served: new Map(),
      tokens: props.config.bytesPerSec,
      refilledAtMs: ctx.now(),
      counters: { tombstonesCollected: 0, keysTooLarge: 0, exchanges: 0, exchangesEqual: 0, exchangesFailed: 0, partitionsCompared: 0, keysRepaired: 0, bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, rounds: 0 },
      malformedMessages: 0,
      tombSeen: new Map(),
      equalAt: new Map(),
      collected: new Map(),
      gcCursor: 0,
    };
  },
  onStart(state, ctx) {
    subscribeToMembership(ctx);
    // After a start (a restart, a restart empty): compare with every peer soon, back to back.
    queueAll(state, ctx);
    scheduleTick(state, ctx);
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    if (msg.type === 'membership-snapshot' || msg.type === 'membership-event') {
      if (!isMembershipNotice(msg)) state.malformedMessages++;
      // A node back (a heal, a restart): compare with it now.
      else for (const node of state.reachability.apply(msg)) queueAll(state, ctx, node);
      if (state.active === undefined) startNext(state, ctx, false);
      return state;
    }
    if (!isWellFormedAntiEntropyMessage(msg)) {
      state.malformedMessages++;
      return state;
    }
    const a = state.active;
    const mine = (xid: string): Active | undefined => (a !== undefined && a.xid === xid ? a : undefined);
    switch (msg.type) {
      case 'ae-now':
        ctx.tell(msg.replyTo, { type: 'ae-queued', exchanges: queueAll(state, ctx) });
        startNext(state, ctx, false);
        break;
      case 'ae-status':
        ctx.tell(msg.replyTo, status(state, ctx));
        break;
      case 'ae-tree-roots-get': {
        const partitions = state.store.partitions().sort((a, b) => a - b);
        const roots = partitions.map((p) => {
          const r = state.store.tree(p).root;
          return `${(r.hi >>> 0).toString(16)}:${(r.lo >>> 0).toString(16)}`;
        });
        ctx.tell(msg.replyTo, { type: 'ae-tree-roots', node: ctx.nodeName, partitions, roots });
        break;
      }
      case 'ae-tick':
        if (msg.token !== state.token) break;
        forgetServed(state, ctx);
        collectTombstones(state, ctx);
        startNext(state, ctx, true);
        scheduleTick(state, ctx);
        break;
      case 'ae-pace': {
        const x = msg.token === state.token ? mine(msg.xid) : undefined;
        if (x?.held === undefined) break;
        const held = x.held;
        x.held = undefined;
        refill(state, ctx);
        send(state, x, x.item.peer, held.msg, held.bytes, ctx);
        break;
      }
      case 'ae-timeout':
        if (msg.token === state.token && mine(msg.xid) !== undefined) finish(state, ctx, 'failed');
        break;
      case 'ae-roots':
        noteReceived(state, msg, ctx);
        onRoots(state, msg, ctx);
        break;
      case 'ae-root':
        noteReceived(state, msg, ctx);
        onRoot(state, msg, ctx);
        break;
      case 'ae-descend':
        noteReceived(state, msg, ctx);
        onDescend(state, msg, ctx);
        break;
      case 'ae-list':
        noteReceived(state, msg, ctx);
        onList(state, msg, ctx);
        break;
      case 'ae-repair':
        noteReceived(state, msg, ctx);
        onRepair(state, msg, ctx);
        break;
      default: {
        // Answers to this node's own exchange: late or stray ones are dropped.
        const x = mine(msg.xid);
        // A late or duplicated answer to an earlier step is dropped.
        if (x === undefined || msg.seq !== x.seq) break;
        x.bytes += noteReceived(state, msg, ctx);
        arm(state, x, ctx);
        if (msg.type === 'ae-equal') {
          if (x.item.kind === 'partition') noteEqual(state, x.item.partition, x.item.peer, x.startedAtMs);
          finish(state, ctx, 'equal');
        }
        else if (msg.type === 'ae-refused') finish(state, ctx, 'failed');
        else if (msg.type === 'ae-roots-diff') onRootsDiff(state, x, msg, ctx);
        else if (msg.type === 'ae-hashes') onHashes(state, x, msg, ctx);
        else if (msg.type === 'ae-listed') onListed(state, x, msg, ctx);
        else if (msg.type === 'ae-repaired') onRepaired(state, x, msg, ctx);
        break;
      }
    }
    return state;
  },
});
