/**
 * Members of a SWIM view. A member is one start of one node: the node name plus the node uid the
 * runtime minted for that start, and the time it started, which orders two starts of one name so
 * that a restarted node supersedes its old entry and stale news about the old start is ignored.
 */

/** SWIM's member states (Das et al. 2002, plus memberlist's `left` for a graceful leave). */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** Which start of a node a member entry is about. */
export interface MemberIdentity {
  readonly name: string;
  /** The runtime's node uid of that start. */
  readonly uid: string;
  /** Runtime clock at that start, in ms: orders two starts of one name. */
  readonly startedAtMs: number;
}

/** One member as a node sees it. */
export interface MemberInfo extends MemberIdentity {
  readonly state: MemberState;
  /** SWIM incarnation number: only the member itself raises it, to refute a suspicion. */
  readonly incarnation: number;
  /** When this node last changed the member's state, in ms of its runtime clock. */
  readonly stateChangedAtMs: number;
}

/** Compares two starts of one node: negative when `a` is older. */
export function compareStarts(a: MemberIdentity, b: MemberIdentity): number {
  // One node uid is one start, whatever time its reporter read (the uid is the identity).
  if (a.uid === b.uid) return 0;
  if (a.startedAtMs !== b.startedAtMs) return a.startedAtMs - b.startedAtMs;
  return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

/** True when both name the same start of the same node. */
export function sameStart(a: MemberIdentity, b: MemberIdentity): boolean {
  return a.name === b.name && a.uid === b.uid;
}

/** `alive` and `suspect` members take part in the protocol (are probed, receive gossip). */
export function isActive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}
