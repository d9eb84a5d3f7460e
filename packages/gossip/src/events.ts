/**
 * Membership events: what changed in one node's view. Other actors subscribe to them from
 * `/system/gossip`; the same events reach the cluster's event stream under the topic
 * {@link MEMBERSHIP_TOPIC}, where the host, tests and the dashboard read them.
 */
import type { CustomEvent, EventStream } from '@starling/actors';
import type { MemberInfo } from './member.ts';

/** The `custom` event topic of membership changes. */
export const MEMBERSHIP_TOPIC = 'gossip.membership';

/** A change in one node's view of one member. */
export type MembershipEvent =
  /** A start of a node entered the view (`supersedes`: the uid of the older start it replaced). */
  | { readonly type: 'member-joined'; readonly member: MemberInfo; readonly supersedes?: string }
  /** A suspected or dead member was heard alive again (it refuted, or a partition healed). */
  | { readonly type: 'member-alive'; readonly member: MemberInfo }
  | { readonly type: 'member-suspected'; readonly member: MemberInfo }
  | { readonly type: 'member-dead'; readonly member: MemberInfo }
  | { readonly type: 'member-left'; readonly member: MemberInfo }
  /** A dead or left member was forgotten after its retention time. */
  | { readonly type: 'member-reaped'; readonly member: MemberInfo };

export type MembershipEventType = MembershipEvent['type'];

/** A membership event as the host sees it: which node's view changed, and when. */
export type ObservedMembershipEvent = MembershipEvent & { readonly observer: string; readonly atMs: number };

/** Narrows a runtime event to a membership event, or undefined. */
export function asMembershipEvent(e: CustomEvent): ObservedMembershipEvent | undefined {
  if (e.topic !== MEMBERSHIP_TOPIC) return undefined;
  return { ...(e.data as MembershipEvent), observer: e.node, atMs: e.atMs };
}

/** Calls `listener` with every membership event of the cluster; returns the unsubscribe function. */
export function onMembership(events: EventStream, listener: (e: ObservedMembershipEvent) => void): () => void {
  const handler = (e: CustomEvent): void => {
    const m = asMembershipEvent(e);
    if (m) listener(m);
  };
  events.on('custom', handler);
  return () => events.off('custom', handler);
}
