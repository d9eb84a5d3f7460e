/**
 * Quorum bookkeeping for one request, pure: which of the nodes a request went to answered, and
 * whether R (reads) or W (writes) of them did. Under sloppy quorum the nodes are the reachable
 * primaries and the fallbacks standing in for the others (Dynamo §4.6: "the first N healthy
 * nodes"); a fallback added later, for a replica that did not answer in time, counts for that
 * replica's slot: the replica and its stand-in count once together. Each node counts once.
 */
import { assert } from '@starling/gossip';
import { type DvvSet, emptyClock, sync } from './dvv.ts';

/** N, R and W of a request. */
export interface QuorumSpec {
  /** Replicas per key. */
  readonly n: number;
  /** Replies a read waits for. */
  readonly r: number;
  /** Acknowledgements a write waits for (the coordinator's own store counts). */
  readonly w: number;
}

/** A write's acknowledgements. */
export class WriteQuorum {
  private readonly targets: string[];
  private readonly acked = new Set<string>();
  /** A late fallback's slot: the target it stands in for (its own name otherwise). */
  private readonly slots = new Map<string, string>();

  constructor(
    targets: readonly string[],
    readonly w: number,
  ) {
    assert(w >= 1, 'W is at least 1');
    this.targets = [...new Set(targets)];
  }

  /**
   * Adds a node the write was sent to (a fallback), standing in for target `standsFor` if given;
   * false if it was a target already. A target and its stand-in count once towards W: W
   * acknowledgements mean W distinct replicas' worth, which the W + pending rule of a ring change
   * relies on.
   */
  addTarget(node: string, standsFor?: string): boolean {
    if (this.targets.includes(node)) return false;
    this.targets.push(node);
    if (standsFor !== undefined) this.slots.set(node, this.slotOf(standsFor));
    return true;
  }

  private slotOf(node: string): string {
    return this.slots.get(node) ?? node;
  }

  /** Records an acknowledgement; false for a node the write was not sent to (ignored). */
  ack(node: string): boolean {
    if (!this.targets.includes(node)) return false;
    this.acked.add(node);
    return true;
  }

  get isMet(): boolean {
    if (this.slots.size === 0) return this.acked.size >= this.w;
    return new Set([...this.acked].map((n) => this.slotOf(n))).size >= this.w;
  }

  /** True when every target acknowledged. */
  get isComplete(): boolean {
    return this.acked.size === this.targets.length;
  }

  hasAcked(node: string): boolean {
    return this.acked.has(node);
  }

  /** The nodes that acknowledged, in the order they became targets. */
  replicas(): string[] {
    return this.targets.filter((n) => this.acked.has(n));
  }
}

/** A read's replies, merged as they come. */
export class ReadQuorum<V> {
  private readonly targetList: string[];
  private readonly replies = new Map<string, DvvSet<V> | undefined>();
  private merged: DvvSet<V> = emptyClock();

  constructor(
    targets: readonly string[],
    readonly r: number,
  ) {
    assert(r >= 1, 'R is at least 1');
    this.targetList = [...new Set(targets)];
  }

  /** Adds a node the read was sent to; false if it was a target already. */
  addTarget(node: string): boolean {
    if (this.targetList.includes(node)) return false;
    this.targetList.push(node);
    return true;
  }

  /**
   * Records a node's clock (undefined: it holds nothing for the key). True when the node's first
   * reply; a later one (the node was asked again) is merged but counts once; a non-target is ignored.
   */
  reply(node: string, clock: DvvSet<V> | undefined): boolean {
    if (!this.targetList.includes(node)) return false;
    if (clock) this.merged = sync(this.merged, clock);
    if (this.replies.has(node)) {
      const before = this.replies.get(node);
      if (clock) this.replies.set(node, before ? sync(before, clock) : clock);
      return false;
    }
    this.replies.set(node, clock);
    return true;
  }

  get isMet(): boolean {
    return this.replies.size >= this.r;
  }

  /** True when every target replied. */
  get isComplete(): boolean {
    return this.replies.size === this.targetList.length;
  }

  isTarget(node: string): boolean {
    return this.targetList.includes(node);
  }

  /** The sync of every clock received. */
  result(): DvvSet<V> {
    return this.merged;
  }

  /** What `node` replied: a clock, undefined for nothing held; absent if it did not reply. */
  replyOf(node: string): { readonly clock: DvvSet<V> | undefined } | undefined {
    return this.replies.has(node) ? { clock: this.replies.get(node) } : undefined;
  }

  /** The nodes that replied, in the order they became targets. */
  replicas(): string[] {
    return this.targetList.filter((n) => this.replies.has(n));
  }

  /** Every node the read went to, in the order they became targets. */
  targets(): readonly string[] {
    return this.targetList;
  }

  /** The targets that have not replied. */
  silent(): string[] {
    return this.targetList.filter((n) => !this.replies.has(n));
  }
}
