/**
 * What the dashboard's event stream carries: one snapshot of the cluster per tick. Plain data,
 * with no imports, so the browser code and the server share these types.
 */

/** A node as the host sees it. */
export interface NodeRow {
  readonly name: string;
  readonly state: 'running' | 'paused' | 'down';
  /** The current start's uid; undefined while down. */
  readonly uid: string | undefined;
  /** Whether the ring (as the reporting node has it) holds this node. */
  readonly inRing: boolean;
  /** Partitions it owns in the current ring. */
  readonly partitions: number;
  /** Keys in its storage (primary copies, hints and copies being moved), if it answered. */
  readonly keys: number | undefined;
  /** Hints it holds for unreachable primaries, if it answered. */
  readonly hintsHeld: number | undefined;
}

/** One member in one node's view. */
export interface MemberCell {
  readonly name: string;
  readonly state: 'alive' | 'suspect' | 'dead' | 'left';
  readonly incarnation: number;
}

/** The ring as one node has it. */
export interface RingView {
  /** The node whose ring this is. */
  readonly from: string;
  /** Cluster time this ring was read (older than the snapshot when no node answered since). */
  readonly asOfMs: number;
  readonly version: number;
  readonly claimant: string;
  readonly partitionCount: number;
  /** `owners[p]` owns partition p. */
  readonly owners: readonly string[];
  /** Where a change in progress leads (partitions whose owner differs are moving). */
  readonly nextOwners: readonly string[] | undefined;
}

/** One directed link's traffic over the last tick. */
export interface LinkRow {
  readonly from: string;
  readonly to: string;
  /** Messages sent per second. */
  readonly sentPerS: number;
  /** Messages dropped per second (loss, partition, one-way drop, node down...). */
  readonly droppedPerS: number;
  /** Whether the current rules cut this link (a partition or a one-way drop). */
  readonly isCut: boolean;
}

/** The network's current faults. */
export interface NetworkView {
  /** A human description of the rules, e.g. `partition [n1,n2] | [n3,n4,n5]`. */
  readonly description: string;
  readonly partition: { readonly shape: 'groups'; readonly groups: readonly (readonly string[])[] } | { readonly shape: 'ring'; readonly order: readonly string[] } | null;
  readonly grudges: readonly { readonly from: string; readonly to: string }[];
  readonly lossProbability: number;
}

/** The store's repair and movement counts, added up over every start of every node. */
export interface RepairCounts {
  readonly hintsStored: number;
  readonly hintsDelivered: number;
  readonly hintsExpired: number;
  readonly sloppyWrites: number;
  readonly readRepairs: number;
  readonly antiEntropyExchanges: number;
  readonly keysRepairedByAntiEntropy: number;
  /** Keys received through ownership transfers (joins and leaves). */
  readonly keysTransferred: number;
  /** Partitions still to be received by some node for a ring change in progress. */
  readonly partitionsPending: number;
}

/** Messages per second by type at one tick. */
export interface RatePoint {
  /** Cluster time of the tick, in ms since the cluster started. */
  readonly atMs: number;
  readonly byType: Readonly<Record<string, number>>;
}

/** A line of the event log. */
export interface LogLine {
  readonly atMs: number;
  readonly text: string;
  readonly kind: 'node' | 'network' | 'membership' | 'ring';
}

/** Everything the dashboard draws, at one tick. */
export interface ClusterSnapshot {
  readonly atMs: number;
  readonly runtime: string;
  /** The store's default N, R and W. */
  readonly quorum: { readonly n: number; readonly r: number; readonly w: number };
  readonly nodes: readonly NodeRow[];
  /** Each running node's view of membership; null for a node that did not answer in time. */
  readonly views: Readonly<Record<string, readonly MemberCell[] | null>>;
  readonly ring: RingView | null;
  readonly network: NetworkView;
  readonly links: readonly LinkRow[];
  readonly rates: RatePoint;
  readonly repairs: RepairCounts;
}

/** The first message of a stream: the recent past, so a new page draws at once. */
export interface StreamHello {
  readonly snapshot: ClusterSnapshot | null;
  readonly rates: readonly RatePoint[];
  readonly log: readonly LogLine[];
}
