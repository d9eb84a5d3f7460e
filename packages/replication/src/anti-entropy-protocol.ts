/**
 * What `/system/anti-entropy` accepts and answers (anti-entropy.ts is the actor): the operator's
 * messages, the exchange between two replicas of a partition, progress counters, and the checks
 * every message from another node passes first.
 *
 * A round with a peer starts with the roots of every partition both hold, in one message
 * (`ae-roots`, answered by the partitions whose roots differ); each differing partition then gets
 * an exchange, driven by the node that starts it (the initiator) against the peer, both trees at
 * the larger of their two depths:
 *
 *   ae-root    -> (roots equal: ae-equal, done)   ae-hashes of the first levels below the root
 *   ae-descend -> ae-hashes                      (only under differing nodes, several levels a trip;
 *                                                 the ask names the differing nodes, the answer
 *                                                 carries hashes only)
 *   ae-list    -> ae-listed                      (keys and pair hashes of the differing buckets)
 *   ae-repair  -> ae-repaired                    (the initiator's versions of the differing keys,
 *                                                 merged there; the peer's where it had more)
 *
 * Hashes travel as `Uint32Array`s (hi, lo per node), keys and entries packed with msgpackr, so the
 * bytes an exchange moves are counted exactly.
 */
import { type ActorRef, isActorRef, selectActor } from '@starling/actors';

/** Where the anti-entropy actor lives on every node. */
export const ANTI_ENTROPY_PATH = '/system/anti-entropy';

/** How anti-entropy runs (plugin options, resolved). */
export interface AntiEntropyConfig {
  /** Mean time between two exchanges a node starts when nothing is queued, in ms (each wait drawn from 0.5x to 1.5x). */
  readonly intervalMs: number;
  /** Bytes per second a node's exchanges may move (both directions), on average. */
  readonly bytesPerSec: number;
  /** Tree levels a descent covers per round trip. */
  readonly levelsPerRound: number;
  /** An exchange step unanswered this long is abandoned, in ms. */
  readonly timeoutMs: number;
  /** Replicas per partition (the largest N the buckets use). */
  readonly n: number;
  /**
   * A tombstone is collected once every primary of its partition holds it and this long has passed
   * since this node first saw it, in ms: longer than the cluster's `maxMessageAgeMs` and the
   * replication's `hintTtlMs`, so no delayed message or hint can bring an older version back.
   */
  readonly tombstoneGraceMs: number;
}

/** What a node's anti-entropy counts since it started. */
export interface AntiEntropyStatus {
  readonly type: 'ae-status';
  readonly node: string;
  /** Exchanges this node started and finished (equal at once, or repaired). */
  readonly exchanges: number;
  /** Of them, those whose roots were equal at once. */
  readonly exchangesEqual: number;
  /** Exchanges abandoned (peer silent, refused, or the partition moved). */
  readonly exchangesFailed: number;
  /** Partition roots this node compared with a peer's (in `ae-roots` rounds, either side). */
  readonly partitionsCompared: number;
  /** Keys whose version changed in this node's store through an exchange (either side). */
  readonly keysRepaired: number;
  /** Payload bytes this node sent and received in exchanges. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** Round trips of the exchanges this node started. */
  readonly rounds: number;
  /** Tombstones this node collected (every primary held them, the grace period had passed). */
  readonly tombstonesCollected: number;
  /** Versions larger than a repair part (256 KiB) that could not travel; their other replicas keep them. */
  readonly keysTooLarge: number;
  /** Exchanges waiting to run back to back (after a restart, a heal, or an ask). */
  readonly queued: number;
  readonly malformedMessages: number;
}

/**
 * The Merkle roots of a node's partitions, as its store keeps them (incrementally, on every write):
 * a verifier compares them across replicas once their contents are equal, which checks the
 * trees' upkeep as well as the data.
 */
export interface TreeRoots {
  readonly type: 'ae-tree-roots';
  readonly node: string;
  /** Partitions the store holds, ascending. */
  readonly partitions: readonly number[];
  /** `roots[i]` is partition `partitions[i]`'s root as `hi:lo` in hex. */
  readonly roots: readonly string[];
}

/** The figures of one finished exchange, in the `starling.anti-entropy` event. */
export interface ExchangeReport {
  readonly kind: 'exchange';
  readonly partition: number;
  readonly peer: string;
  readonly depth: number;
  readonly isEqual: boolean;
  readonly rounds: number;
  readonly bytes: number;
  readonly keysDiffering: number;
  readonly durationMs: number;
}

/** Tree levels a descent may cover in one round trip, at most (2^12 hashes, 32 KiB, per differing node). */
export const MAX_LEVELS_PER_ROUND = 12;

/**
 * What the anti-entropy actor accepts. Every ask of an exchange carries its step number `seq`, and
 * every answer echoes it: a duplicated or late answer to an earlier step is dropped.
 */
export type AntiEntropyMessage =
  /** An operator's ask: exchange every partition this node holds with every other replica, back to back; answered when queued. */
  | { readonly type: 'ae-now'; readonly replyTo: ActorRef<{ readonly type: 'ae-queued'; readonly exchanges: number }> }
  | { readonly type: 'ae-status'; readonly replyTo: ActorRef<AntiEntropyStatus> }
  /** A verifier's ask (from the host): the roots of every partition this node's store holds. */
  | { readonly type: 'ae-tree-roots-get'; readonly replyTo: ActorRef<TreeRoots> }
  /** Initiator to peer: the roots (hi, lo each) of partitions both hold, by this node's ring. */
  | { readonly type: 'ae-roots'; readonly xid: string; readonly seq: number; readonly partitions: Uint32Array; readonly roots: Uint32Array; readonly replyTo: ActorRef<AntiEntropyMessage> }
  /** Peer to initiator: those of them whose roots differ from the peer's (partitions it does not hold left out). */
  | { readonly type: 'ae-roots-diff'; readonly xid: string; readonly seq: number; readonly partitions: Uint32Array }
  /** Initiator to peer: the initiator's root at its depth; if they differ, the peer answers with the hashes `levels` levels down. */
  | { readonly type: 'ae-root'; readonly xid: string; readonly seq: number; readonly partition: number; readonly depth: number; readonly root: Uint32Array; readonly levels: number; readonly replyTo: ActorRef<AntiEntropyMessage> }
  /** Peer to initiator: roots equal, nothing to do. */
  | { readonly type: 'ae-equal'; readonly xid: string; readonly seq: number }
  /** Peer to initiator: it does not hold the partition (its ring differs), or is busy. */
  | { readonly type: 'ae-refused'; readonly xid: string; readonly seq: number; readonly reason: string }
  /** Initiator to peer: the hashes of the nodes `levels` levels below each of `frontier` (the differing nodes), in the tree at `depth`. */
  | { readonly type: 'ae-descend'; readonly xid: string; readonly seq: number; readonly partition: number; readonly depth: number; readonly frontier: Uint32Array; readonly levels: number; readonly replyTo: ActorRef<AntiEntropyMessage> }
  /** Peer to initiator: the hashes asked (hi, lo each, in `descendants` order), at `depth` (the larger of the two). */
  | { readonly type: 'ae-hashes'; readonly xid: string; readonly seq: number; readonly depth: number; readonly hashes: Uint32Array }
  /** Initiator to peer: list the keys of these buckets (at `depth`). */
  | { readonly type: 'ae-list'; readonly xid: string; readonly seq: number; readonly partition: number; readonly depth: number; readonly buckets: Uint32Array; readonly replyTo: ActorRef<AntiEntropyMessage> }
  /** Peer to initiator: its keys in those buckets (packed) and each one's pair hash (hi, lo). */
  | { readonly type: 'ae-listed'; readonly xid: string; readonly seq: number; readonly keys: Uint8Array; readonly hashes: Uint32Array }
  /**
   * Initiator to peer: its versions of the differing keys it holds (packed entries), the differing
   * keys it does not hold (packed), and `collected`: keys (packed) whose version the peer listed
   * (pair hashes in `collectedHashes`) is a tombstone this node has collected, for the peer to
   * collect too.
   */
  | {
      readonly type: 'ae-repair';
      readonly xid: string;
      readonly seq: number;
      readonly partition: number;
      readonly entries: Uint8Array;
      readonly want: Uint8Array;
      readonly collected: Uint8Array;
      readonly collectedHashes: Uint32Array;
      readonly replyTo: ActorRef<AntiEntropyMessage>;
    }
  /** Peer to initiator: its versions of the keys where it held something the initiator lacked, and tombstones it had collected that the initiator sent. */
  | { readonly type: 'ae-repaired'; readonly xid: string; readonly seq: number; readonly entries: Uint8Array; readonly collected: Uint8Array; readonly collectedHashes: Uint32Array }
  | { readonly type: 'ae-tick'; readonly token: string }
  /** The rate cap's wait before the next step of exchange `xid` is over. */
  | { readonly type: 'ae-pace'; readonly token: string; readonly xid: string }
  | { readonly type: 'ae-timeout'; readonly token: string; readonly xid: string };

function isIndex(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isCollected(msg: { readonly collected: unknown; readonly collectedHashes: unknown }): boolean {
  return msg.collected instanceof Uint8Array && msg.collectedHashes instanceof Uint32Array;
}

function isStep(msg: { readonly xid: unknown; readonly seq: unknown }): boolean {
  return typeof msg.xid === 'string' && isIndex(msg.seq);
}

/** Whether a message's fields have the types its kind says (messages from other nodes are data, not trusted types). */
export function isWellFormedAntiEntropyMessage(msg: AntiEntropyMessage): boolean {
  switch (msg.type) {
    case 'ae-now':
    case 'ae-status':
    case 'ae-tree-roots-get':
      return isActorRef(msg.replyTo);
    case 'ae-roots':
      return isStep(msg) && msg.partitions instanceof Uint32Array && msg.roots instanceof Uint32Array && msg.roots.length === 2 * msg.partitions.length && isActorRef(msg.replyTo);
    case 'ae-roots-diff':
      return isStep(msg) && msg.partitions instanceof Uint32Array;
    case 'ae-root':
      return isStep(msg) && isIndex(msg.partition) && isIndex(msg.depth) && msg.root instanceof Uint32Array && msg.root.length === 2 && isIndex(msg.levels) && msg.levels >= 1 && msg.levels <= MAX_LEVELS_PER_ROUND && isActorRef(msg.replyTo);
    case 'ae-equal':
      return isStep(msg);
    case 'ae-refused':
      return isStep(msg) && typeof msg.reason === 'string';
    case 'ae-descend':
      return isStep(msg) && isIndex(msg.partition) && isIndex(msg.depth) && msg.frontier instanceof Uint32Array && isIndex(msg.levels) && msg.levels >= 1 && msg.levels <= MAX_LEVELS_PER_ROUND && isActorRef(msg.replyTo);
    case 'ae-hashes':
      return isStep(msg) && isIndex(msg.depth) && msg.hashes instanceof Uint32Array;
    case 'ae-list':
      return isStep(msg) && isIndex(msg.partition) && isIndex(msg.depth) && msg.buckets instanceof Uint32Array && isActorRef(msg.replyTo);
    case 'ae-listed':
      return isStep(msg) && msg.keys instanceof Uint8Array && msg.hashes instanceof Uint32Array;
    case 'ae-repair':
      return isStep(msg) && isIndex(msg.partition) && msg.entries instanceof Uint8Array && msg.want instanceof Uint8Array && isCollected(msg) && isActorRef(msg.replyTo);
    case 'ae-repaired':
      return isStep(msg) && msg.entries instanceof Uint8Array && isCollected(msg);
    case 'ae-tick':
      return typeof msg.token === 'string';
    case 'ae-timeout':
    case 'ae-pace':
      return typeof msg.token === 'string' && typeof msg.xid === 'string';
    default:
      return false;
  }
}

/** The typed ref of a node's anti-entropy actor. */
export function antiEntropyRef(node: string): ActorRef<AntiEntropyMessage> {
  return selectActor<AntiEntropyMessage>(node, ANTI_ENTROPY_PATH);
}
