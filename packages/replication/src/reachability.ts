/**
 * Which nodes the membership plugin reports down, from its notices (a snapshot, then events).
 * Members are starts of nodes (name and uid): a restarted node's old start dies as its new start
 * joins, in either order, so a node is down only while none of its starts is alive or suspect.
 * A node gossip never mentioned is not down: without the membership plugin nothing is.
 */
import { isActive, type MembershipNotice } from '@starling/gossip';

export class Reachability {
  /** name → uids of its starts that are alive or suspect. */
  private readonly active = new Map<string, Set<string>>();
  private readonly known = new Set<string>();

  /** True when membership knows the node and none of its starts is active. */
  isDown(node: string): boolean {
    return this.known.has(node) && !this.active.has(node);
  }

  /** Applies a notice; returns the nodes that were down and no longer are. */
  apply(notice: MembershipNotice): string[] {
    const wasDown = new Set([...this.known].filter((n) => this.isDown(n)));
    if (notice.type === 'membership-snapshot') {
      this.active.clear();
      this.known.clear();
      for (const m of notice.members) this.note(m.name, m.uid, isActive(m.state));
    } else {
      const m = notice.event.member;
      this.note(m.name, m.uid, isActive(m.state));
    }
    return [...wasDown].filter((n) => !this.isDown(n));
  }

  private note(name: string, uid: string, isUp: boolean): void {
    this.known.add(name);
    const uids = this.active.get(name);
    if (isUp) {
      if (uids) uids.add(uid);
      else this.active.set(name, new Set([uid]));
    } else if (uids) {
      uids.delete(uid);
      if (uids.size === 0) this.active.delete(name);
    }
  }
}
