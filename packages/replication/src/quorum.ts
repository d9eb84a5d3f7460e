/**
 * Quorum bookkeeping for one request, pure: which replicas of the preference list answered, and
 * whether R (reads) or W (writes) of them did. Strict quorum (Dynamo §4.5 before sloppiness): only
 * the first N distinct nodes of the preference list count.
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
  private readonly acked = new Set<string>();

  constructor(
    readonly preference: readonly string[],
    readonly w: number,
  ) {
    assert(w >= 1 && w <= preference.length, 'W within the preference list');
  }

  /** Records an acknowledgement; false for a node outside the preference list (ignored). */
  ack(node: string): boolean {
    if (!this.preference.includes(node)) return false;
    this.acked.add(node);
    return true;
  }

  get isMet(): boolean {
    return this.acked.size >= this.w;
  }

  /** The replicas that acknowledged, in preference order. */
  replicas(): string[] {
    return this.preference.filter((n) => this.acked.has(n));
  }
}

/** A read's replies, merged as they come. */
export class ReadQuorum<V> {
  private readonly replied = new Set<string>();
  private merged: DvvSet<V> = emptyClock();

  constructor(
    readonly preference: readonly string[],
    readonly r: number,
  ) {
    assert(r >= 1 && r <= preference.length, 'R within the preference list');
  }

  /** Records a replica's clock (undefined: it holds nothing for the key); false when ignored. */
  reply(node: string, clock: DvvSet<V> | undefined): boolean {
    if (!this.preference.includes(node) || this.replied.has(node)) return false;
    this.replied.add(node);
    if (clock) this.merged = sync(this.merged, clock);
    return true;
  }

  get isMet(): boolean {
    return this.replied.size >= this.r;
  }

  /** The sync of every clock received. */
  result(): DvvSet<V> {
    return this.merged;
  }

  replicas(): string[] {
    return this.preference.filter((n) => this.replied.has(n));
  }
}
