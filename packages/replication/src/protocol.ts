/**
 * The messages of the key-value store: what clients ask a node's `/system/coordinator`, what
 * coordinators ask `/system/storage` on the replicas, and their replies. Plain data; every message
 * from another node is validated before use (types vanish across nodes).
 */
import { type ActorRef, isActorRef } from '@starling/actors';
import type { Dot, VersionVector } from './dvv.ts';
import type { KvErrorCode, KvOutcome } from './errors.ts';
import type { StoredClock, StoredValue } from './store.ts';

/** Per-request replication settings; absent fields come from the bucket, then the plugin defaults. */
export interface KvOptions {
  readonly n?: number;
  readonly r?: number;
  readonly w?: number;
  /** How long the coordinator waits for the quorum, in ms. */
  readonly timeoutMs?: number;
  /**
   * Sloppy quorum (default true): unreachable primaries are replaced by the next reachable nodes
   * clockwise, which hold the replica with a hint. False: only primaries count (strict quorum).
   */
  readonly sloppy?: boolean;
  /** Under sloppy quorum, how long a replica may stay silent before a fallback gets its copy, in ms. */
  readonly fallbackAfterMs?: number;
  /** Read repair (default true): a read writes the merged version back to primaries that answered with less. */
  readonly readRepair?: boolean;
}

/** A key of the store: a bucket (with its own N/R/W) and a key within it. */
export interface KvKey {
  /** Default `default`. */
  readonly bucket?: string;
  readonly key: string;
}

/** A successful put or delete. */
export interface PutOk {
  readonly type: 'kv-put-ok';
  /**
   * The causal context after this write. It covers every value in `values`, so a put with it
   * replaces them all: look at `values` first (Riak's `return_body`), or read again.
   */
  readonly context: VersionVector;
  /** The key's values at the coordinator right after this write: this write's value, and any sibling concurrent with it. */
  readonly values: readonly unknown[];
  /** The event this write created (the coordinator's replica id and counter). */
  readonly dot: Dot;
  /** Replicas that acknowledged it by the time W was reached (principle 8), fallbacks included. */
  readonly replicas: readonly string[];
  /** Those of `replicas` that are fallbacks, holding the write as a hint for an unreachable primary. */
  readonly hinted: readonly string[];
}

/** A successful get. */
export interface GetOk {
  readonly type: 'kv-get-ok';
  /** The current values: one, or siblings from concurrent writes. Empty when absent or deleted. */
  readonly values: readonly unknown[];
  /** True when the key holds only tombstones (it was deleted, and nothing concurrent survives). */
  readonly isDeleted: boolean;
  /** One causal context for all the siblings: a put with it replaces them all. */
  readonly context: VersionVector;
  /** Replicas whose answer the result merges. */
  readonly replicas: readonly string[];
  /**
   * Those of `replicas` that are not primaries of the key (fallbacks, or nodes a session read
   * asked): a read answered with few primaries among `replicas` may be stale.
   */
  readonly fallbacks: readonly string[];
}

/** A failed or uncertain request. */
export interface KvFailure {
  readonly type: 'kv-error';
  readonly code: KvErrorCode;
  readonly message: string;
  readonly outcome: KvOutcome;
  readonly replicas: readonly string[];
}

export type PutReply = PutOk | KvFailure;
export type GetReply = GetOk | KvFailure;

/**
 * Names a write for de-duplication: the network may deliver a request twice, and a write
 * coordinated twice stores one value under two dots. A coordinator treats requests with the same
 * reply address, `requestId` and key as one. An ask's reply address is unique already; an actor
 * that reuses its own ref as `replyTo` gives each write a distinct `requestId`.
 */
export interface WriteIdentity {
  readonly requestId?: string;
}

/** What a client asks a coordinator. */
export type KvRequest =
  | (KvKey & WriteIdentity & { readonly type: 'kv-put'; readonly value: unknown; readonly context?: VersionVector; readonly options?: KvOptions; readonly replyTo: ActorRef<PutReply>; readonly isForwarded?: boolean })
  | (KvKey & WriteIdentity & { readonly type: 'kv-delete'; readonly context?: VersionVector; readonly options?: KvOptions; readonly replyTo: ActorRef<PutReply>; readonly isForwarded?: boolean })
  | (KvKey & {
      readonly type: 'kv-get';
      readonly options?: KvOptions;
      /**
       * A session's context for the key (read-your-writes, monotonic reads): the answer is at
       * least this new, reading further replicas if needed, or the read fails `SESSION_UNAVAILABLE`.
       */
      readonly atLeast?: VersionVector;
      readonly replyTo: ActorRef<GetReply>;
    });

/** What storage answers a coordinator. */
export type StorageReply =
  | { readonly type: 'st-coordinated'; readonly reqId: string; readonly node: string; readonly clock: StoredClock; readonly dot: Dot }
  | { readonly type: 'st-written'; readonly reqId: string; readonly node: string }
  | { readonly type: 'st-read-result'; readonly reqId: string; readonly node: string; readonly clock: StoredClock | null };

/** What a coordinator (or a checker) asks `/system/storage`. */
export type StorageRequest =
  /**
   * On the coordinator's own node: mint the new version under this store's replica id and store
   * it; with `hintFor`, the node is a fallback: it mints under the key's hint id and keeps the
   * version as a hint for that primary.
   */
  | { readonly type: 'st-coordinate'; readonly reqId: string; readonly partition: number; readonly key: string; readonly value: StoredValue; readonly context: VersionVector; readonly hintFor?: string; readonly replyTo: ActorRef<StorageReply> }
  /** Merge this clock into the replica's copy (a replicated write, a handoff, a read repair); with `hintFor`, into a hint for that primary. */
  | { readonly type: 'st-write'; readonly reqId: string; readonly partition: number; readonly key: string; readonly clock: StoredClock; readonly ringVersion: number; readonly hintFor?: string; readonly replyTo: ActorRef<StorageReply> }
  | { readonly type: 'st-read'; readonly reqId: string; readonly partition: number; readonly key: string; readonly ringVersion: number; readonly replyTo: ActorRef<StorageReply> }
  /** Everything stored, hints included, for checkers and tests: store key (`bucket/key`) → clock. */
  /**
   * Everything the node holds, or only the keys (and hints) of `partitions`: a whole store may
   * not fit one message (`maxMessageBytes`), so readers page by partition.
   */
  | { readonly type: 'st-dump'; readonly partitions?: readonly number[]; readonly replyTo: ActorRef<StorageDump> }
  | { readonly type: 'st-stats'; readonly replyTo: ActorRef<StorageStats> };

/** A replica's whole content. */
export interface StorageDump {
  readonly type: 'st-dump';
  readonly node: string;
  /** `node@epoch`: the id this replica mints dots under. */
  readonly replicaId: string;
  readonly keys: Readonly<Record<string, StoredClock>>;
  /** Hints held: store key → the primaries they are held for (their data is in `keys` too). */
  readonly hints: Readonly<Record<string, readonly string[]>>;
  /** The dump asked for did not fit one message (`maxMessageBytes`); `keys` and `hints` are empty: ask for fewer partitions. */
  readonly isTooLarge?: true;
}

/** What a node's storage counts (since the node started, except `hints`, which is what it holds now). */
export interface StorageStats {
  readonly type: 'st-stats';
  readonly node: string;
  /** Keys in the store (hints not included). */
  readonly keys: number;
  /** Hints held now, in total and per primary. */
  readonly hints: number;
  readonly hintsByOwner: Readonly<Record<string, number>>;
  /** Writes taken as hints that changed a hint (replicated or coordinated here; duplicates not counted). */
  readonly hintedWrites: number;
  /** Writes that arrived under an older ring than this node's, passed on (as hints) to the replicas the newer ring adds. */
  readonly forwarded: number;
  /** Hints delivered to their primary and deleted. */
  readonly handedOff: number;
  /** Hints unchanged for `hintTtlMs`: no longer handed over, their data moved into this node's own store. */
  readonly expired: number;
}

/** What a node's coordinator counts since it started. */
export interface CoordinatorStats {
  readonly type: 'kv-stats';
  readonly node: string;
  readonly puts: number;
  readonly gets: number;
  /** Writes that went to at least one fallback (sloppy quorum). */
  readonly sloppyWrites: number;
  /** Writes this node coordinated as a fallback, no primary being reachable. */
  readonly fallbackCoordinated: number;
  /** Replicas given a fallback because they did not answer within `fallbackAfterMs`, or because membership suspected them. */
  readonly lateReplicas: number;
  /** Replicas sent the merged value by read repair. */
  readonly readRepairs: number;
  /** Session reads that queried more replicas to reach the session's context. */
  readonly sessionReadsExtended: number;
  /** Session reads that failed `SESSION_UNAVAILABLE`. */
  readonly sessionReadsFailed: number;
}

/** Asks a coordinator for its counts. */
export interface StatsRequest {
  readonly type: 'kv-stats';
  readonly replyTo: ActorRef<CoordinatorStats>;
}

/** Checks a context from outside. */
export function isVersionVector(x: unknown): x is VersionVector {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  return Object.values(x).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
}

/** Checks options from outside: their types (the coordinator answers values out of range with INVALID_REQUEST). */
export function isKvOptions(x: unknown): x is KvOptions {
  if (x === undefined) return true;
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  if (o['sloppy'] !== undefined && typeof o['sloppy'] !== 'boolean') return false;
  return ['n', 'r', 'w', 'timeoutMs', 'fallbackAfterMs'].every((k) => o[k] === undefined || typeof o[k] === 'number');
}

/** Checks a client request's shape (not its values' sense: the coordinator answers those with INVALID_REQUEST). */
export function isKvRequest(x: unknown): x is KvRequest {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as KvRequest;
  if (m.type !== 'kv-put' && m.type !== 'kv-get' && m.type !== 'kv-delete') return false;
  if (!isActorRef(m.replyTo) || typeof m.key !== 'string' || (m.bucket !== undefined && typeof m.bucket !== 'string') || !isKvOptions(m.options)) return false;
  if (m.type === 'kv-get' && m.atLeast !== undefined && !isVersionVector(m.atLeast)) return false;
  if (m.type !== 'kv-get' && ((m.context !== undefined && !isVersionVector(m.context)) || (m.requestId !== undefined && typeof m.requestId !== 'string'))) return false;
  return true;
}
