/**
 * The cluster's counters over the whole run. Every node counts since its own start, and a killed
 * node's counts die with it (in threads, with its worker), so the sampler keeps the last sample of
 * every start of every node and adds them up; the runner samples a node just before it kills it.
 */
import { type Cluster, StarlingError } from '@starling/actors';
import {
  type AntiEntropyMessage,
  antiEntropyRef,
  type AntiEntropyStatus,
  type CoordinatorStats,
  coordinatorStatsRef,
  type RingMessage,
  ringRef,
  type StatsRequest,
  type StorageRequest,
  type StorageStats,
  storageRef,
  type TransferStatus,
} from '@starling/replication';

/** What the report adds up over every start of every node. */
export interface ClusterCounters {
  /** Messages nodes sent to other nodes, by the message's `type`. */
  readonly messagesByType: Record<string, number>;
  readonly actorRestarts: number;
  readonly deadLetters: number;
  readonly readRepairs: number;
  readonly sloppyWrites: number;
  /** Writes taken as hints for an unreachable primary (several writes of a key make one hint). */
  readonly hintsStored: number;
  /** Hints delivered to their primary (a hint holds every write of its key). */
  readonly hintsDelivered: number;
  /** Hints whose primary stayed away for `hintTtlMs`: kept in the holder's own store instead. */
  readonly hintsExpired: number;
  readonly antiEntropyExchanges: number;
  /** Keys whose version changed through an anti-entropy exchange (on either side). */
  readonly keysRepairedByAntiEntropy: number;
  readonly tombstonesCollected: number;
  /** Keys received through ownership transfers (ring joins and leaves). */
  readonly keysTransferred: number;
}

/** One node's latest store counts (its current start's). */
export interface NodeLatest {
  readonly storage?: StorageStats;
  readonly transfer?: TransferStatus;
}

interface Sample {
  readonly sentByType: Readonly<Record<string, number>>;
  readonly restarts: number;
  readonly deadLetters: number;
  readonly coordinator?: CoordinatorStats;
  readonly storage?: StorageStats;
  readonly antiEntropy?: AntiEntropyStatus;
  readonly transfer?: TransferStatus;
}

const ASK_MS = 2_000;

/** Counters being added up: the report's figures, with message types in a map (their names are peers' choice: `constructor`, `__proto__`...). */
type Sum = { -readonly [K in Exclude<keyof ClusterCounters, 'messagesByType'>]: number } & { byType: Map<string, number> };

function emptySum(): Sum {
  return { byType: new Map(), actorRestarts: 0, deadLetters: 0, readRepairs: 0, sloppyWrites: 0, hintsStored: 0, hintsDelivered: 0, hintsExpired: 0, antiEntropyExchanges: 0, keysRepairedByAntiEntropy: 0, tombstonesCollected: 0, keysTransferred: 0 };
}

function add(t: Sum, s: Sample): void {
  for (const [type, n] of Object.entries(s.sentByType)) t.byType.set(type, (t.byType.get(type) ?? 0) + n);
  t.actorRestarts += s.restarts;
  t.deadLetters += s.deadLetters;
  t.readRepairs += s.coordinator?.readRepairs ?? 0;
  t.sloppyWrites += s.coordinator?.sloppyWrites ?? 0;
  t.hintsStored += s.storage?.hintedWrites ?? 0;
  t.hintsDelivered += s.storage?.handedOff ?? 0;
  t.hintsExpired += s.storage?.expired ?? 0;
  t.antiEntropyExchanges += s.antiEntropy?.exchanges ?? 0;
  t.keysRepairedByAntiEntropy += s.antiEntropy?.keysRepaired ?? 0;
  t.tombstonesCollected += s.antiEntropy?.tombstonesCollected ?? 0;
  t.keysTransferred += s.transfer?.keysReceived ?? 0;
}

export class CounterSampler {
  /** Each node's latest start and its last sample. */
  private readonly current = new Map<string, { readonly uid: string; readonly sample: Sample }>();
  /** Starts that ended, added up: memory stays bounded however often nodes restart (a server runs for days). */
  private readonly retired = emptySum();

  constructor(
    private readonly cluster: Cluster,
    /** Whether the store's actors run (their counters are asked for). */
    private readonly hasStore: boolean,
  ) {}

  /** Samples every running node (or those named). A node that does not answer keeps its previous sample. */
  async sample(nodes: readonly string[] = this.cluster.nodes): Promise<void> {
    await Promise.all(nodes.filter((n) => this.cluster.nodeState(n) === 'running').map((n) => this.sampleNode(n)));
  }

  private async sampleNode(node: string): Promise<void> {
    const c = this.cluster;
    try {
      const system = await c.stats(node);
      if (system.nodeUid === undefined) return;
      let store: Pick<Sample, 'coordinator' | 'storage' | 'antiEntropy' | 'transfer'> = {};
      if (this.hasStore) {
        const [coordinator, storage, antiEntropy, transfer] = await Promise.all([
          c.ask<StatsRequest, CoordinatorStats>(coordinatorStatsRef(node), (replyTo) => ({ type: 'kv-stats', replyTo }), { timeoutMs: ASK_MS }),
          c.ask<StorageRequest, StorageStats>(storageRef(node), (replyTo) => ({ type: 'st-stats', replyTo }), { timeoutMs: ASK_MS }),
          c.ask<AntiEntropyMessage, AntiEntropyStatus>(antiEntropyRef(node), (replyTo) => ({ type: 'ae-status', replyTo }), { timeoutMs: ASK_MS }).catch(() => undefined),
          c.ask<RingMessage, TransferStatus>(ringRef(node), (replyTo) => ({ type: 'ring-status', replyTo }), { timeoutMs: ASK_MS }).catch(() => undefined),
        ]);
        store = { coordinator, storage, ...(antiEntropy !== undefined ? { antiEntropy } : {}), ...(transfer !== undefined ? { transfer } : {}) };
      }
      // The node may have restarted while it was asked: then these counts are the new start's, and uncertain; skip them.
      if (c.nodeUid(node) !== system.nodeUid) return;
      const deadLetters = Object.values(system.deadLetters).reduce((a, b) => a + b, 0);
      const previous = this.current.get(node);
      // A new start: the last sample of the one before is all it will ever count.
      if (previous !== undefined && previous.uid !== system.nodeUid) add(this.retired, previous.sample);
      this.current.set(node, { uid: system.nodeUid, sample: { sentByType: system.sentByType, restarts: system.restarts, deadLetters, ...store } });
    } catch (err) {
      // A node going down as it is asked: its last sample stands.
      if (!(err instanceof StarlingError)) throw err;
    }
  }

  /** The latest counts of `node`'s current start, if it was sampled since it started. */
  latest(node: string): NodeLatest {
    const uid = this.cluster.nodeUid(node);
    const c = this.current.get(node);
    const s = uid === undefined || c?.uid !== uid ? undefined : c.sample;
    return { ...(s?.storage !== undefined ? { storage: s.storage } : {}), ...(s?.transfer !== undefined ? { transfer: s.transfer } : {}) };
  }

  /** The counters added up over every start sampled so far. */
  totals(): ClusterCounters {
    const t: Sum = { ...this.retired, byType: new Map(this.retired.byType) };
    for (const { sample } of this.current.values()) add(t, sample);
    const { byType, ...rest } = t;
    // Most first; fromEntries defines own properties, so any name is data.
    return { messagesByType: Object.fromEntries([...byType].sort((a, b) => b[1] - a[1])), ...rest };
  }
}
