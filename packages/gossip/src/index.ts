/**
 * @starling/gossip: SWIM membership and failure detection with Lifeguard, epidemic dissemination
 * (rumor mongering, anti-entropy, broadcast), and the epidemic simulator.
 */
export {
  type AntiEntropyConfig,
  type AntiEntropyCounters,
  type AntiEntropyEntry,
  type AntiEntropyMessage,
  type AntiEntropySend,
  AntiEntropySite,
  type AntiEntropySiteOptions,
  type AntiEntropyStep,
  DEFAULT_ANTI_ENTROPY_CONFIG,
  resolveAntiEntropyConfig,
} from './anti-entropy.ts';
export { assert, InvariantError } from './assert.ts';
export {
  BROADCAST_PATH,
  BROADCAST_TOPIC,
  broadcastActor,
  type BroadcastConfig,
  type BroadcastDelivery,
  type BroadcastMessage,
  type BroadcastNotice,
  type BroadcastOk,
  type BroadcastRejected,
  broadcastPlugin,
  broadcastRef,
  type BroadcastRequest,
  type BroadcastValue,
  type BroadcastValues,
  type BroadcastWire,
  DEFAULT_BROADCAST_CONFIG,
  useBroadcast,
} from './broadcast.ts';
export { DEFAULT_SWIM_CONFIG, resolveSwimConfig, type SwimConfig } from './config.ts';
export {
  asMembershipEvent,
  MEMBERSHIP_TOPIC,
  type MembershipEvent,
  type MembershipEventType,
  type ObservedMembershipEvent,
  onMembership,
} from './events.ts';
export {
  type CurvePoint,
  epidemicCurve,
  epidemicMetrics,
  type EpidemicMetrics,
  type EpidemicTally,
  meanCurve,
  meanMetrics,
} from './epidemic-metrics.ts';
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
  subscribeToMembership,
  type GossipRequest,
  isMembershipNotice,
  type MembershipNotice,
  type MembershipSnapshot,
  type ResolvedGossipOptions,
  useGossip,
} from './plugin.ts';
export { introduceAll, MembershipTracker } from './tracker.ts';
export { Partners, randomPeer } from './partners.ts';
export {
  DEFAULT_RUMOR_CONFIG,
  type RemovalTrigger,
  resolveRumorConfig,
  type Rumor,
  type RumorConfig,
  type RumorCounters,
  type RumorEntry,
  type RumorMessage,
  type RumorSend,
  RumorSite,
  type RumorSiteOptions,
  type RumorStatus,
  type RumorStep,
  type SpreadMode,
  type StopRule,
} from './rumor.ts';
export { type Destination, Swim, type SwimCounters, type SwimEffect, TIMER } from './swim.ts';
export { retransmitLimit, UpdateQueue } from './update-queue.ts';
