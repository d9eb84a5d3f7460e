/**
 * @starling/gossip: SWIM membership and failure detection with Lifeguard, epidemic dissemination
 * (rumor mongering, anti-entropy, broadcast), and the epidemic simulator.
 */
export { InvariantError } from './assert.ts';
export { DEFAULT_SWIM_CONFIG, resolveSwimConfig, type SwimConfig } from './config.ts';
export {
  asMembershipEvent,
  MEMBERSHIP_TOPIC,
  type MembershipEvent,
  type MembershipEventType,
  type ObservedMembershipEvent,
  onMembership,
} from './events.ts';
export { Awareness, expectedConfirmations, suspicionBoundsMs, suspicionTimeoutMs } from './lifeguard.ts';
export { compareStarts, isActive, type MemberIdentity, type MemberInfo, type MemberState, sameStart } from './member.ts';
export { isMemberIdentity, isSwimMessage, type MemberRecord, type MemberUpdate, type SwimMessage, type SwimMessageType } from './messages.ts';
export {
  GOSSIP_PATH,
  gossipActor,
  type GossipMessage,
  type GossipOptions,
  gossipPlugin,
  gossipRef,
  type GossipRequest,
  type MembershipNotice,
  type MembershipSnapshot,
  type ResolvedGossipOptions,
  useGossip,
} from './plugin.ts';
export { introduceAll, MembershipTracker } from './tracker.ts';
export { type Destination, Swim, type SwimCounters, type SwimEffect, TIMER } from './swim.ts';
export { retransmitLimit, UpdateQueue } from './update-queue.ts';
