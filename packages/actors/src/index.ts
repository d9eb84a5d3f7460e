/**
 * @starling/actors: actors, mailboxes, supervision, timers, the message router with its fault
 * model, and the simulation and local runtimes.
 */
export {
  type ActorContext,
  type ActorDef,
  type AnyActorDef,
  type AskOptions,
  defineActor,
  type ReachabilityReport,
  type ReplyOf,
  type Settled,
  type SpawnOptions,
  type Terminated,
  type Timers,
} from './actor.ts';
export type { Cluster, NetworkControl, NodeState, NodeStats, ScheduleHandle, SimulationCluster } from './cluster.ts';
export { Codec, type CodecOptions, DEFAULT_MAX_MESSAGE_BYTES } from './codec.ts';
export {
  type ClusterConfig,
  DEFAULT_NODE_RESTART,
  type GuardianOptions,
  HOST_NODE,
  type NodeRestartPolicy,
  type ResolvedConfig,
  resolveConfig,
  type RuntimeKind,
} from './config.ts';
export { Disk } from './disk.ts';
export {
  AskFailedError,
  AskTimeoutError,
  type ErrorCode,
  InvalidArgumentError,
  MailboxFullError,
  MessageTooLargeError,
  StaleContextError,
  StarlingError,
  UnencodableMessageError,
} from './errors.ts';
export {
  type CustomEvent,
  type DeadLetterReason,
  type Directive,
  EventStream,
  type FailurePhase,
  type NetworkDropCause,
  type RuntimeEvent,
  type RuntimeEventType,
  type TerminationReason,
} from './events.ts';
export { type MailboxCounters, type MailboxOptions, type OverflowPolicy } from './mailbox.ts';
export { type Decision, type LinkCounters, NetworkModel } from './network/model.ts';
export { bridge, halves, isolate, majoritiesRing, majorityMinority } from './network/partitions.ts';
export { compileCuts, CUT_GRUDGE, CUT_NONE, CUT_PARTITION, describeRules, type Grudge, type LatencyDistribution, type NetworkRules, type Partition, PERFECT_NETWORK } from './network/rules.ts';
export {
  describeFault,
  type EpisodeKind,
  type Fault,
  type FaultKind,
  type FaultSchedule,
  formatSchedule,
  generateSchedule,
  type GenerateOptions,
  parseSchedule,
  type TimedFault,
  validateSchedule,
} from './network/schedule.ts';
export { definePlugin, type Plugin, type PluginContext, type PluginSpec, usePlugin } from './plugin.ts';
export { createRandom, hashString, type Random, shuffled } from './random.ts';
export { type ActorRef, type AnyRef, isActorRef, refToString, sameRef, selectActor } from './ref.ts';
export { createSystem, type LocalSystem, startCluster } from './start.ts';
export {
  type BackoffOptions,
  DEFAULT_STRATEGY,
  type SupervisionKind,
  type SupervisionOptions,
  type SupervisionStrategy,
} from './supervisor.ts';
export { MAX_COUNTED_TYPES, type SystemCounters } from './system.ts';
/** Applies one fault of a schedule now, through the host API (what {@link Cluster.applySchedule} does at each fault's time). */
export { applyFault } from './runtime/host-common.ts';
