/**
 * The queue of membership updates waiting to be piggybacked (memberlist's
 * `TransmitLimitedQueue`). One update per member: a newer one replaces the older. Each is sent
 * `retransmitMult * ceil(log10(n + 1))` times, least-sent first, which in SWIM's analysis reaches
 * every member with high probability while keeping each message small.
 */
import type { MemberUpdate } from './messages.ts';

interface Queued {
  readonly update: MemberUpdate;
  transmits: number;
}

/** How many times each update is sent in a cluster of `members`. */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return retransmitMult * Math.ceil(Math.log10(members + 1));
}

/**
 * Updates are kept in one bucket per transmit count, so taking the least-sent few costs O(taken),
 * not a sort of the whole queue: after a mass join a node holds hundreds of pending updates and
 * takes from them on every message.
 */
export class UpdateQueue {
  private readonly byMember = new Map<string, Queued>();
  /** `levels[t]`: pending updates sent `t` times, oldest first. */
  private readonly levels: Map<string, Queued>[] = [];

  /** Queues `update`, replacing any pending update about the same member. */
  push(update: MemberUpdate): void {
    this.forget(update.member.name);
    const q: Queued = { update, transmits: 0 };
    this.byMember.set(update.member.name, q);
    this.level(0).set(update.member.name, q);
  }

  /** Drops the pending update about `name` (superseded, or its member reaped from the view). */
  forget(name: string): void {
    const q = this.byMember.get(name);
    if (!q) return;
    this.byMember.delete(name);
    this.levels[q.transmits]?.delete(name);
  }

  get size(): number {
    return this.byMember.size;
  }

  /**
   * Takes up to `max` updates to piggyback, least-transmitted first, counting one transmission
   * each; an update sent `limit` times leaves the queue. `first` (if pending) goes in regardless:
   * Lifeguard's buddy system puts a suspicion into the probe of the suspected member.
   */
  take(max: number, limit: number, first?: string): MemberUpdate[] {
    if (this.byMember.size === 0 || max <= 0) return [];
    const picked: Queued[] = [];
    const buddy = first !== undefined ? this.byMember.get(first) : undefined;
    if (buddy) picked.push(buddy);
    for (let t = 0; t < this.levels.length && picked.length < max; t++) {
      for (const q of this.levels[t]!.values()) {
        if (picked.length >= max) break;
        if (q !== buddy) picked.push(q);
      }
    }
    const out: MemberUpdate[] = [];
    for (const q of picked) {
      out.push(q.update);
      const name = q.update.member.name;
      this.levels[q.transmits]!.delete(name);
      q.transmits++;
      if (q.transmits >= limit) this.byMember.delete(name);
      else this.level(q.transmits).set(name, q);
    }
    return out;
  }

  /** The pending updates (for snapshots and tests). */
  pending(): MemberUpdate[] {
    return [...this.byMember.values()].map((q) => q.update);
  }

  private level(t: number): Map<string, Queued> {
    while (this.levels.length <= t) this.levels.push(new Map());
    return this.levels[t]!;
  }
}
