/**
 * Which nodes the membership plugin reports down, from its notices (a snapshot, then events).
 * Members are starts of nodes (name, uid, start time), and like SWIM's own view this keeps the
 * newest start of each name: a restarted node's new start supersedes the old one (SWIM sends no
 * death for the old start then), and news of an older start is ignored. A node is down while its
 * newest start is neither alive nor suspect. A node gossip never mentioned is not down: without
 * the membership plugin nothing is.
 */
import { compareStarts, isActive, type MemberInfo, type MembershipNotice } from '@starling/gossip';

export class Reachability {
  /** name → its newest start, and whether that start is alive or suspect. */
  private readonly newest = new Map<string, { readonly member: MemberInfo; readonly isUp: boolean }>();

  /** True when membership knows the node and its newest start is neither alive nor suspect. */
  isDown(node: string): boolean {
    const m = this.newest.get(node);
    return m !== undefined && !m.isUp;
  }

  /** True when membership's newest word on the node is that it is suspected (up, but maybe not for long). */
  isSuspect(node: string): boolean {
    return this.newest.get(node)?.member.state === 'suspect';
  }

  /** Applies a notice; returns the nodes that were down and no longer are. */
  apply(notice: MembershipNotice): string[] {
    const wasDown = [...this.newest.keys()].filter((n) => this.isDown(n));
    if (notice.type === 'membership-snapshot') {
      this.newest.clear();
      for (const m of notice.members) this.note(m);
    } else this.note(notice.event.member);
    return wasDown.filter((n) => !this.isDown(n));
  }

  private note(member: MemberInfo): void {
    const known = this.newest.get(member.name);
    if (known !== undefined && compareStarts(member, known.member) < 0) return;
    this.newest.set(member.name, { member, isUp: isActive(member.state) });
  }
}
