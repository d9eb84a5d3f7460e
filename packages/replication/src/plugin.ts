/**
 * The replication plugin: `/system/storage` and `/system/coordinator` on every node, over one ring
 * computed from the cluster's node list (every node computes the same ring).
 */
import { definePlugin, InvalidArgumentError, type PluginSpec } from '@starling/actors';
import { coordinatorActor, DEFAULT_REPLICATION, MAX_TIMEOUT_MS, MIN_FALLBACK_MS, type ReplicationDefaults } from './coordinator.ts';
import { createRing, DEFAULT_PARTITION_COUNT } from './ring.ts';
import { ringKeeperActor } from './ring-keeper.ts';
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
  /** Hints sent to one primary per round, at most. Default 64. */
  readonly handoffBatchSize?: number;
}

/** Options after validation. */
export interface ResolvedReplicationOptions {
  readonly defaults: ReplicationDefaults;
  readonly buckets: Readonly<Record<string, Partial<ReplicationDefaults>>>;
  readonly partitionCount: number;
  readonly store: StoreKind;
  readonly ringGossipIntervalMs: number;
  readonly handoff: HandoffConfig;
}

/** Handoff defaults: hints kept an hour, rounds every second, 64 hints per primary per round. */
export const DEFAULT_HANDOFF: HandoffConfig = { hintTtlMs: 3_600_000, handoffIntervalMs: 1_000, handoffBatchSize: 64 };

const KNOBS = ['n', 'r', 'w', 'timeoutMs', 'fallbackAfterMs', 'sloppy'] as const;
const OPTIONS = ['defaults', 'buckets', 'partitionCount', 'store', 'ringGossipIntervalMs', 'hintTtlMs', 'handoffIntervalMs', 'handoffBatchSize'];

function settings(name: string, raw: unknown): Partial<ReplicationDefaults> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError('INVALID_CONFIG', `${name} must be an object`);
  const out: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(KNOBS as readonly string[]).includes(k)) throw new InvalidArgumentError('INVALID_CONFIG', `${name} has no option '${k}'`);
    if (k === 'sloppy') {
      if (typeof v !== 'boolean') throw new InvalidArgumentError('INVALID_CONFIG', `${name}.sloppy must be a boolean, got ${String(v)}`);
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
  return { defaults, buckets, partitionCount, store, ringGossipIntervalMs, handoff };
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
  actors: [storageActor, coordinatorActor, ringKeeperActor],
  options: resolveOptions,
  setup(ctx) {
    const ring = createRing(
      ctx.clusterNodes.map((node) => ({ node, weight: 1 })),
      { partitionCount: Math.max(ctx.options.partitionCount, ctx.clusterNodes.length) },
    );
    ctx.spawn('system', storageActor, { store: ctx.options.store, ring, ...ctx.options.handoff }, { name: 'storage' });
    ctx.spawn('system', coordinatorActor, { ring, defaults: ctx.options.defaults, buckets: ctx.options.buckets }, { name: 'coordinator' });
    ctx.spawn('system', ringKeeperActor, { ring, gossipIntervalMs: ctx.options.ringGossipIntervalMs }, { name: 'ring' });
  },
});

/** The config entry of the replication plugin. */
export function useReplication(options?: ReplicationOptions): PluginSpec {
  return options === undefined ? { module: replicationPlugin.module, name: replicationPlugin.name } : { module: replicationPlugin.module, name: replicationPlugin.name, options };
}
