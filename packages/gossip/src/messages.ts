/**
 * SWIM's wire messages between the `/system/gossip` actors of two nodes. Every message carries
 * the sender's identity and a few piggybacked membership updates, the "infection-style"
 * dissemination of SWIM §4.1.
 */
import type { MemberIdentity, MemberInfo } from './member.ts';

/** One piece of membership news. `from` names the member that raised a suspicion or declared a death. */
export type MemberUpdate =
  | { readonly kind: 'alive'; readonly member: MemberIdentity; readonly incarnation: number }
  | { readonly kind: 'suspect'; readonly member: MemberIdentity; readonly incarnation: number; readonly from: string }
  | { readonly kind: 'dead'; readonly member: MemberIdentity; readonly incarnation: number; readonly from: string }
  /** A graceful leave, announced by the member itself. */
  | { readonly kind: 'left'; readonly member: MemberIdentity; readonly incarnation: number };

/** A member's entry in a full-state exchange. */
export type MemberRecord = Pick<MemberInfo, 'name' | 'uid' | 'startedAtMs' | 'state' | 'incarnation'>;

export type SwimMessage =
  /** A direct probe of `target` (the start the prober means). */
  | { readonly type: 'ping'; readonly seq: number; readonly from: MemberIdentity; readonly target: MemberIdentity; readonly updates: readonly MemberUpdate[] }
  | { readonly type: 'ack'; readonly seq: number; readonly from: MemberIdentity; readonly updates: readonly MemberUpdate[] }
  /** Asks the receiver to probe `target` on the sender's behalf (SWIM's indirect probe). */
  | { readonly type: 'ping-req'; readonly seq: number; readonly from: MemberIdentity; readonly target: MemberIdentity; readonly updates: readonly MemberUpdate[] }
  /** Lifeguard: the intermediary of a `ping-req` got no ack either, which tells the prober that its own link works. */
  | { readonly type: 'nack'; readonly seq: number; readonly from: MemberIdentity; readonly updates: readonly MemberUpdate[] }
  /** Pending updates sent on their own between probes (memberlist's gossip interval). */
  | { readonly type: 'gossip'; readonly from: MemberIdentity; readonly updates: readonly MemberUpdate[] }
  /** A full state exchange: at join, periodically, and to reach members thought dead. */
  | { readonly type: 'push-pull'; readonly from: MemberIdentity; readonly members: readonly MemberRecord[]; readonly isReply: boolean; readonly isJoin: boolean };

export type SwimMessageType = SwimMessage['type'];

const MESSAGE_TYPES: ReadonlySet<string> = new Set(['ping', 'ack', 'ping-req', 'nack', 'gossip', 'push-pull']);
const UPDATE_KINDS: ReadonlySet<string> = new Set(['alive', 'suspect', 'dead', 'left']);
const STATES: ReadonlySet<string> = new Set(['alive', 'suspect', 'dead', 'left']);

/** Checks the shape of a member identity from outside. */
export function isMemberIdentity(x: unknown): x is MemberIdentity {
  const m = x as MemberIdentity;
  return typeof x === 'object' && x !== null && typeof m.name === 'string' && typeof m.uid === 'string' && Number.isFinite(m.startedAtMs);
}

function isIncarnation(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isUpdate(x: unknown): x is MemberUpdate {
  const u = x as MemberUpdate;
  if (typeof x !== 'object' || x === null || !UPDATE_KINDS.has(u.kind) || !isMemberIdentity(u.member) || !isIncarnation(u.incarnation)) return false;
  return (u.kind !== 'suspect' && u.kind !== 'dead') || typeof u.from === 'string';
}

function isRecord(x: unknown): x is MemberRecord {
  const r = x as MemberRecord;
  return isMemberIdentity(x) && STATES.has(r.state) && isIncarnation(r.incarnation);
}

/**
 * Checks a message from another node against the wire format: types vanish across threads and
 * nodes, and one malformed message must not crash the membership actor (and reset its view).
 */
export function isSwimMessage(x: unknown): x is SwimMessage {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as SwimMessage;
  if (!MESSAGE_TYPES.has(m.type) || !isMemberIdentity(m.from)) return false;
  if (m.type === 'push-pull') return Array.isArray(m.members) && m.members.every(isRecord) && typeof m.isReply === 'boolean' && typeof m.isJoin === 'boolean';
  if (!Array.isArray(m.updates) || !m.updates.every(isUpdate)) return false;
  if (m.type === 'gossip') return true;
  if (!Number.isSafeInteger(m.seq)) return false;
  return (m.type !== 'ping' && m.type !== 'ping-req') || isMemberIdentity(m.target);
}
