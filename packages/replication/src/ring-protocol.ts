/**
 * What `/system/ring` accepts and answers (ring-keeper.ts is the actor): the operator's messages,
 * the keepers' messages between nodes, progress, and the checks every message from outside
 * passes before the keeper acts on it (bad input is counted, never trusted).
 */
import { type ActorRef, isActorRef, selectActor } from '@starling/actors';
import type { StorageReply } from './protocol.ts';
import { isRing, type Ring, type RingChange } from './ring.ts';
import type { BatchLimits } from './transfer-batch.ts';
import type { ReceiverConfig } from './transfer-receiver.ts';

export type { RingChange };

/** Where the ring keeper lives on every node. */
export const RING_PATH = '/system/ring';


/** The answer to a change: the version that committed it, or why not. */
export type RingChangeReply = { readonly type: 'ring-committed'; readonly version: number } | { readonly type: 'ring-refused'; readonly code: string; readonly message: string };

/** The answer to `ring-await`: the first ring at or past the version asked for with no change in progress. */
export interface RingSettled {
  readonly type: 'ring-settled';
  readonly ring: Ring;
}

/** A node's view of ring changes and their moves: counters since the actor started, and the change in progress. */
export interface TransferStatus {
  readonly type: 'ring-status';
  readonly node: string;
  readonly ringVersion: number;
  /** True while this node's ring has a change in progress. */
  readonly isChanging: boolean;
  /** Partitions this node still has to receive for the change in progress. */
  readonly partitionsPending: number;
  /** Partitions being pulled right now. */
  readonly partitionsActive: number;
  readonly partitionsReceived: number;
  readonly keysReceived: number;
  /** Packed bytes of the batches merged (transfer-batch.ts). */
  readonly bytesReceived: number;
  readonly batchesServed: number;
  readonly keysSent: number;
  readonly bytesSent: number;
  readonly partitionsDropped: number;
  readonly keysDropped: number;
  /** Hints a leaving node handed to another node. */
  readonly hintsRehomed: number;
  /** How long the last change this node saw took, from adopting its start to adopting its end, in ms. */
  readonly lastChangeMs: number | undefined;
  /** Batches refused (malformed, or keys outside their partition). */
  readonly batchesRefused: number;
  /** Partitions this node held without being their replica (late writes, expired hints), handed to their replicas and dropped. */
  readonly strayPartitionsDropped: number;
  /** Keys this node could not send in a move: larger than any message (`maxMessageBytes`); their other replicas keep them. */
  readonly keysTooLarge: number;
  readonly malformedMessages: number;
}

/** What the ring keeper accepts. */
export type RingMessage =
  | { readonly type: 'ring-get'; readonly replyTo: ActorRef<{ readonly type: 'ring'; readonly ring: Ring }> }
  /** An operator's change: answered once the claimant committed its start. */
  | { readonly type: 'ring-change'; readonly change: RingChange; readonly replyTo: ActorRef<RingChangeReply> }
  /** An operator's action: make this node the claimant. */
  | { readonly type: 'ring-reassign'; readonly replyTo: ActorRef<RingChangeReply> }
  | { readonly type: 'ring-await'; readonly version: number; readonly replyTo: ActorRef<RingSettled> }
  | { readonly type: 'ring-status'; readonly replyTo: ActorRef<TransferStatus> }
  /** Between keepers: a change sent to the claimant (repeated until answered). */
  | { readonly type: 'ring-commit'; readonly id: string; readonly change: RingChange; readonly from: string; readonly hops: number }
  | { readonly type: 'ring-commit-answer'; readonly id: string; readonly reply: RingChangeReply }
  /** Between keepers: a node received everything it had to for the change begun at `since` (and, leaving, handed its hints over). */
  | { readonly type: 'ring-ready'; readonly since: number; readonly node: string }
  | { readonly type: 'ring-pull'; readonly reqId: string; readonly partition: number; readonly after: string | null; readonly replyTo: ActorRef<RingMessage> }
  | {
      readonly type: 'ring-batch';
      readonly reqId: string;
      readonly partition: number;
      readonly from: string;
      readonly data: Uint8Array;
      readonly lastKey: string | null;
      readonly isLast: boolean;
    }
  /** A node's ring (gossip, broadcast). With `from`, a receiver whose ring is newer answers with it; with `pull`, with whatever it has. */
  | { readonly type: 'ring-state'; readonly ring: Ring; readonly from?: string; readonly pull?: boolean }
  | { readonly type: 'ring-gossip-tick'; readonly token: string }
  | { readonly type: 'ring-transfer-tick'; readonly token: string }
  /** Acknowledgements of hints a leaving node hands over. */
  | Extract<StorageReply, { type: 'st-written' }>;

/** What the coordinator and the storage actor on the same node hear when the ring changes. */
export interface RingUpdated {
  readonly type: 'ring-updated';
  readonly ring: Ring;
}

/** How moves run. */
export interface TransferConfig extends ReceiverConfig, BatchLimits {
  /** Replicas per partition the moves keep (the largest N the buckets use). */
  readonly n: number;
  /** Time between rounds that start pulls and hand hints over, in ms. */
  readonly tickMs: number;
}

function isChange(x: unknown): x is RingChange {
  const c = x as RingChange;
  if (typeof x !== 'object' || x === null) return false;
  if (c.kind === 'leave') return typeof c.node === 'string' && (c.force === undefined || typeof c.force === 'boolean');
  return c.kind === 'join' && typeof c.member === 'object' && c.member !== null && typeof c.member.node === 'string' && typeof c.member.weight === 'number';
}

/** Whether a message's fields have the types its kind says (messages from other nodes are data, not trusted types). */
export function isWellFormedRingMessage(msg: RingMessage): boolean {
  switch (msg.type) {
    case 'ring-get':
    case 'ring-reassign':
    case 'ring-status':
      return isActorRef(msg.replyTo);
    case 'ring-change':
      return isActorRef(msg.replyTo) && isChange(msg.change);
    case 'ring-await':
      return isActorRef(msg.replyTo) && Number.isSafeInteger(msg.version);
    case 'ring-commit':
      return typeof msg.id === 'string' && isChange(msg.change) && typeof msg.from === 'string' && Number.isSafeInteger(msg.hops);
    case 'ring-commit-answer':
      return typeof msg.id === 'string' && typeof msg.reply === 'object' && msg.reply !== null;
    case 'ring-ready':
      return Number.isSafeInteger(msg.since) && typeof msg.node === 'string';
    case 'ring-pull':
      return typeof msg.reqId === 'string' && Number.isSafeInteger(msg.partition) && (msg.after === null || typeof msg.after === 'string') && isActorRef(msg.replyTo);
    case 'ring-batch':
      return (
        typeof msg.reqId === 'string' &&
        Number.isSafeInteger(msg.partition) &&
        typeof msg.from === 'string' &&
        (msg.lastKey === null || typeof msg.lastKey === 'string') &&
        typeof msg.isLast === 'boolean'
      );
    case 'ring-state':
      return isRing(msg.ring) && (msg.from === undefined || typeof msg.from === 'string') && (msg.pull === undefined || typeof msg.pull === 'boolean');
    case 'st-written':
      return typeof msg.reqId === 'string' && typeof msg.node === 'string';
    case 'ring-gossip-tick':
    case 'ring-transfer-tick':
      return typeof msg.token === 'string';
    default:
      return false;
  }
}

/** The typed ref of a node's ring keeper. */
export function ringRef(node: string): ActorRef<RingMessage> {
  return selectActor<RingMessage>(node, RING_PATH);
}
