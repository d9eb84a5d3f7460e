/**
 * The replication plugin: `/system/storage` and `/system/coordinator` on every node, over one ring
 * computed from the cluster's node list (every node computes the same ring).
 */
import { definePlugin, InvalidArgumentError, type PluginSpec } from '@starling/actors';
import { antiEntropyActor } from './anti-entropy.ts';
import { type AntiEntropyConfig, MAX_LEVELS_PER_ROUND } from './anti-entropy-protocol.ts';
import { coordinatorActor, DEFAULT_REPLICATION, MAX_TIMEOUT_MS, MIN_FALLBACK_MS, type ReplicationDefaults } from './coordinator.ts';
import { createRing, DEFAULT_PARTITION_COUNT } from './ring.ts';
import { ringKeeperActor } from './ring-keeper.ts';
import type { TransferConfig } from './ring-protocol.ts';
import { type HandoffConfig, storageActor } from './storage.ts';
import type { StoreKind } from './store.ts';

/** Options of the replication plugin. */
export interface ReplicationOptions {
  /**
   * Default N, R, W, request timeout, sloppy quorum and fallback delay. Default 3 / 2 / 2,
   * 2 000 ms (Dynamo §6), sloppy quorum on, a fallback for a replica silent 500 ms.
   */
  readonly defaults?: Partial<ReplicationDefaults>;
  /** Per-bucket overrides of the defaults. */
  readonly buckets?: Readonly<Record<string, Partial<ReplicationDefaults>>>;
  /** Q, the number of equal partitions of the ring. Default 1024 (Dynamo's strategy 3). */
  readonly partitionCount?: number;
  /** Where stores keep their data. Default `disk` (survives kill in simulation; see store.ts). */
  readonly store?: StoreKind;
  /** Time between sends of this node's ring to one random member, in ms. Default 1 000. */
  readonly ringGossipIntervalMs?: number;
  /**
   * A hint unchanged this long expires, in ms: it is no longer handed over, and its data moves
   * into the holder's own store. Default 3 600 000 (an hour): a primary down longer needs
   * anti-entropy to catch up. Tombstone collection waits longer than this.
   */
  readonly hintTtlMs?: number;
  /** Time between handoff rounds, in ms (a primary coming back alive also starts one at once). Default 1 000. */
  readonly handoffIntervalMs?: number;
  /** Hints in flight to one primary at once, at most: each acknowledgement sends the next. Default 64. */
  readonly handoffBatchSize?: number;
  /**
   * The nodes of the first ring. Default: every node of the cluster. Other nodes run (gossip,
   * coordinators) and own nothing until they join (`RingAdmin.join`).
   */
  readonly ringMembers?: readonly string[];
  /** Partitions a node pulls at once during a ring change, at most. Default 2 (Riak's handoff_concurrency). */
  readonly transferConcurrency?: number;
  /** Keys per batch of a moving partition, at most. Default 512. */
  readonly transferBatchKeys?: number;
  /** Bytes per batch of a moving partition, at most. Default 262 144 (256 KiB, a quarter of the message limit). */
  readonly transferBatchBytes?: number;
  /** A pull unanswered this long is asked again (backing off to 8 times this), in ms. Default 2 000. */
  readonly transferRetryMs?: number;
  /** Time between rounds that start pulls and hand a leaving node's hints over, in ms. Default 200. */
  readonly transferTickMs?: number;
  /** Merkle-tree anti-entropy (`/system/anti-entropy`). Default true. */
  readonly antiEntropy?: boolean;
  /**
   * Mean time between two anti-entropy rounds a node starts (each compares every partition it
   * shares with one peer, then repairs those that differ), in ms, each wait drawn from 0.5x to
   * 1.5x. Default 10 000. Rounds also run at once after a start, when a node comes back, and on ask.
   */
  readonly antiEntropyIntervalMs?: number;
  /** Bytes per second one node's anti-entropy may move, both directions, on average. Default 1 048 576 (1 MiB/s). */
  readonly antiEntropyBytesPerSec?: number;
  /** Tree levels a descent covers per round trip, 1 to 12. Default 2 (as many bytes as 1, half the round trips). */
  readonly antiEntropyLevelsPerRound?: number;
  /** An exchange step unanswered this long is abandoned, in ms. Default 5 000. */
  readonly antiEntropyTimeoutMs?: number;
  /**
   * A tombstone (a delete) is collected once every primary of its key holds it and this long has
   * passed since, in ms; it must exceed the cluster's `maxMessageAgeMs` and `hintTtlMs` (principle
   * 9). Default `hintTtlMs + maxMessageAgeMs + 60 000`.
   */
  readonly tombstoneGraceMs?: number;
}

/** Options after validation. */
export interface ResolvedReplicationOptions {
  readonly defaults: ReplicationDefaults;
  readonly buckets: Readonly<Record<string, Partial<ReplicationDefaults>>>;
  readonly partitionCount: number;
  readonly store: StoreKind;
  readonly ringGossipIntervalMs: number;
  readonly handoff: HandoffConfig;
  readonly ringMembers: readonly string[] | undefined;
  readonly transfer: TransferConfig;
  /** Undefined: anti-entropy off. The grace period is settled at setup, where `maxMessageAgeMs` is known. */
  readonly antiEntropy: (Omit<AntiEntropyConfig, 'tombstoneGraceMs'> & { readonly tombstoneGraceMs: number | undefined }) | undefined;
}

/** Handoff defaults: hints kept an hour, rounds every second, 64 hints per primary per round. */
export const DEFAULT_HANDOFF: HandoffConfig = { hintTtlMs: 3_600_000, handoffIntervalMs: 1_000, handoffBatchSize: 64 };

const KNOBS = ['n', 'r', 'w', 'timeoutMs', 'fallbackAfterMs', 'sloppy', 'readRepair'] as const;
const OPTIONS = [
  'defaults',
  'buckets',
  'partitionCount',
  'store',
  'ringGossipIntervalMs',
  'hintTtlMs',
  'handoffIntervalMs',
  'handoffBatchSize',
  'ringMembers',
  'transferConcurrency',
  'transferBatchKeys',
  'transferBatchBytes',
  'transferRetryMs',
  'transferTickMs',
  'antiEntropy',
  'antiEntropyIntervalMs',
  'antiEntropyBytesPerSec',
  'antiEntropyLevelsPerRound',
  'antiEntropyTimeoutMs',
  'tombstoneGraceMs',
];

function settings(name: string, raw: unknown): Partial<ReplicationDefaults> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError('INVALID_CONFIG', `${name} must be an object`);
  const out: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(KNOBS as readonly string[]).includes(k)) throw new InvalidArgumentError('INVALID_CONFIG', `${name} has no option '${k}'`);
    if (k === 'sloppy' || k === 'readRepair') {
      if (typeof v !== 'boolean') throw new InvalidArgumentError('INVALID_CONFIG', `${name}.${k} must be a boolean, got ${String(v)}`);
      out[k] = v;
      continue;
    }
    if (typeof v !== 'number' || !(v >= 1) || (k.endsWith('Ms') ? !Number.isFinite(v) : !Number.isInteger(v))) throw new InvalidArgumentError('INVALID_CONFIG', `${name}.${k} must be ${k.endsWith('Ms') ? 'a number' : 'an integer'} >= 1, got ${String(v)}`);
    out[k] = v;
  }
  return out;
}

function resolveOptions(raw: unknown): ResolvedReplicationOptions {
  const o = (raw ?? {}) as ReplicationOptions;
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('INVALID_CONFIG', 'replication options must be an object');
  for (const k of Object.keys(o)) if (!OPTIONS.includes(k)) throw new InvalidArgumentError('INVALID_CONFIG', `replication has no option '${k}'`);
  const defaults = { ...DEFAULT_REPLICATION, ...settings('replication.defaults', o.defaults) };
  if (defaults.r > defaults.n || defaults.w > defaults.n) throw new InvalidArgumentError('INVALID_CONFIG', `replication.defaults: r and w cannot exceed n`);
  const buckets: Record<string, Partial<ReplicationDefaults>> = {};
  for (const [name, b] of Object.entries(o.buckets ?? {})) buckets[name] = settings(`replication.buckets.${name}`, b);
  for (const [name, b] of [['replication.defaults', defaults] as const, ...Object.entries(buckets).map(([k, v]) => [`replication.buckets.${k}`, v] as const)]) {
    if (b.timeoutMs !== undefined && b.timeoutMs > MAX_TIMEOUT_MS) throw new InvalidArgumentError('INVALID_CONFIG', `${name}.timeoutMs must be at most ${MAX_TIMEOUT_MS}, got ${b.timeoutMs}`);
    if (b.fallbackAfterMs !== undefined && b.fallbackAfterMs < MIN_FALLBACK_MS) throw new InvalidArgumentError('INVALID_CONFIG', `${name}.fallbackAfterMs must be at least ${MIN_FALLBACK_MS}, got ${b.fallbackAfterMs}`);
  }
  const partitionCount = o.partitionCount ?? DEFAULT_PARTITION_COUNT;
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new InvalidArgumentError('INVALID_CONFIG', `replication.partitionCount must be an integer >= 1, got ${String(partitionCount)}`);
  const store = o.store ?? 'disk';
  if (store !== 'disk' && store !== 'memory') throw new InvalidArgumentError('INVALID_CONFIG', `replication.store must be 'disk' or 'memory', got ${String(store)}`);
  const ringGossipIntervalMs = o.ringGossipIntervalMs ?? 1_000;
  if (typeof ringGossipIntervalMs !== 'number' || !(ringGossipIntervalMs >= 1)) throw new InvalidArgumentError('INVALID_CONFIG', `replication.ringGossipIntervalMs must be a number >= 1, got ${String(ringGossipIntervalMs)}`);
  const handoff = {
    hintTtlMs: positive('hintTtlMs', o.hintTtlMs, DEFAULT_HANDOFF.hintTtlMs, false),
    handoffIntervalMs: positive('handoffIntervalMs', o.handoffIntervalMs, DEFAULT_HANDOFF.handoffIntervalMs, false),
    handoffBatchSize: positive('handoffBatchSize', o.handoffBatchSize, DEFAULT_HANDOFF.handoffBatchSize, true),
  };
  const ringMembers = o.ringMembers;
  if (ringMembers !== undefined && (!Array.isArray(ringMembers) || ringMembers.length === 0 || !ringMembers.every((m) => typeof m === 'string' && m.length > 0) || new Set(ringMembers).size !== ringMembers.length)) {
    throw new InvalidArgumentError('INVALID_CONFIG', `replication.ringMembers must be a non-empty list of distinct node names, got ${JSON.stringify(ringMembers)}`);
  }
  // Moves keep as many replicas as the most replicated bucket has.
  const n = Math.max(defaults.n, ...Object.values(buckets).map((b) => b.n ?? defaults.n));
  const transfer: TransferConfig = {
    n,
    concurrency: positive('transferConcurrency', o.transferConcurrency, DEFAULT_TRANSFER.concurrency, true),
    maxKeys: positive('transferBatchKeys', o.transferBatchKeys, DEFAULT_TRANSFER.maxKeys, true),
    maxBytes: positive('transferBatchBytes', o.transferBatchBytes, DEFAULT_TRANSFER.maxBytes, true),
    retryAfterMs: positive('transferRetryMs', o.transferRetryMs, DEFAULT_TRANSFER.retryAfterMs, false),
    tickMs: positive('transferTickMs', o.transferTickMs, DEFAULT_TRANSFER.tickMs, false),
  };
  if (o.antiEntropy !== undefined && typeof o.antiEntropy !== 'boolean') throw new InvalidArgumentError('INVALID_CONFIG', `replication.antiEntropy must be a boolean, got ${String(o.antiEntropy)}`);
  const antiEntropy: ResolvedReplicationOptions['antiEntropy'] =
    o.antiEntropy === false
      ? undefined
      : {
          n,
          intervalMs: positive('antiEntropyIntervalMs', o.antiEntropyIntervalMs, DEFAULT_ANTI_ENTROPY.intervalMs, false),
          bytesPerSec: positive('antiEntropyBytesPerSec', o.antiEntropyBytesPerSec, DEFAULT_ANTI_ENTROPY.bytesPerSec, false),
          levelsPerRound: atMost('antiEntropyLevelsPerRound', positive('antiEntropyLevelsPerRound', o.antiEntropyLevelsPerRound, DEFAULT_ANTI_ENTROPY.levelsPerRound, true), MAX_LEVELS_PER_ROUND),
          timeoutMs: positive('antiEntropyTimeoutMs', o.antiEntropyTimeoutMs, DEFAULT_ANTI_ENTROPY.timeoutMs, false),
          tombstoneGraceMs: o.tombstoneGraceMs === undefined ? undefined : positive('tombstoneGraceMs', o.tombstoneGraceMs, 0, false),
        };
  return { defaults, buckets, partitionCount, store, ringGossipIntervalMs, handoff, ringMembers, transfer, antiEntropy };
}

/** Transfer defaults (N comes from the buckets): 2 partitions at once, batches of 512 keys or 256 KiB, a pull asked again after 2 s, rounds every 200 ms. */
export const DEFAULT_TRANSFER: Omit<TransferConfig, 'n'> = { concurrency: 2, maxKeys: 512, maxBytes: 262_144, retryAfterMs: 2_000, tickMs: 200 };

/** Anti-entropy defaults: a round every 10 s, 1 MiB/s, two tree levels per round trip, steps abandoned after 5 s. */
export const DEFAULT_ANTI_ENTROPY: Omit<AntiEntropyConfig, 'n' | 'tombstoneGraceMs'> = { intervalMs: 10_000, bytesPerSec: 1_048_576, levelsPerRound: 2, timeoutMs: 5_000 };

function atMost(name: string, value: number, max: number): number {
  if (value > max) throw new InvalidArgumentError('INVALID_CONFIG', `replication.${name} must be at most ${max}, got ${value}`);
  return value;
}

function positive(name: string, raw: unknown, fallback: number, isInteger: boolean): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 1 || (isInteger && !Number.isInteger(raw))) {
    throw new InvalidArgumentError('INVALID_CONFIG', `replication.${name} must be ${isInteger ? 'an integer' : 'a number'} >= 1, got ${String(raw)}`);
  }
  return raw;
}

/**
 * The replication plugin. With it every node stores its share of the keys and coordinates
 * requests; talk to it with a {@link KvClient} from the host, or with `KvRequest` messages to
 * `coordinatorRef(node)` from actors. Runs with or without the gossip plugin (with it,
 * coordinators skip primaries that membership reports down and fail fast when fewer than R or W
 * are up).
 */
export const replicationPlugin = definePlugin<ResolvedReplicationOptions>({
  name: 'starling.replication',
  module: import.meta.url,
  actors: [storageActor, coordinatorActor, ringKeeperActor, antiEntropyActor],
  options: resolveOptions,
  setup(ctx) {
    const members = ctx.options.ringMembers ?? ctx.clusterNodes;
    for (const m of members) if (!ctx.clusterNodes.includes(m)) throw new InvalidArgumentError('INVALID_CONFIG', `replication.ringMembers names ${m}, which is not a node of the cluster`);
    const ring = createRing(
      members.map((node) => ({ node, weight: 1 })),
      { partitionCount: Math.max(ctx.options.partitionCount, ctx.clusterNodes.length) },
    );
    const { transfer } = ctx.options;
    ctx.spawn('system', storageActor, { store: ctx.options.store, ring, transferN: transfer.n, ...ctx.options.handoff }, { name: 'storage' });
    ctx.spawn('system', coordinatorActor, { ring, defaults: ctx.options.defaults, buckets: ctx.options.buckets }, { name: 'coordinator' });
    ctx.spawn('system', ringKeeperActor, { ring, clusterNodes: ctx.clusterNodes, gossipIntervalMs: ctx.options.ringGossipIntervalMs, store: ctx.options.store, transfer }, { name: 'ring' });
    const { antiEntropy, handoff } = ctx.options;
    if (antiEntropy !== undefined) {
      const floor = Math.max(handoff.hintTtlMs, ctx.maxMessageAgeMs);
      const tombstoneGraceMs = antiEntropy.tombstoneGraceMs ?? handoff.hintTtlMs + ctx.maxMessageAgeMs + 60_000;
      if (!(tombstoneGraceMs > floor)) {
        throw new InvalidArgumentError('INVALID_CONFIG', `replication.tombstoneGraceMs must exceed hintTtlMs and the cluster's maxMessageAgeMs (${floor} ms), got ${tombstoneGraceMs}`);
      }
      ctx.spawn('system', antiEntropyActor, { ring, store: ctx.options.store, config: { ...antiEntropy, tombstoneGraceMs } }, { name: 'anti-entropy' });
    }
  },
});

/** The config entry of the replication plugin. */
export function useReplication(options?: ReplicationOptions): PluginSpec {
  return options === undefined ? { module: replicationPlugin.module, name: replicationPlugin.name } : { module: replicationPlugin.module, name: replicationPlugin.name, options };
}
