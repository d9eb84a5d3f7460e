/**
 * The cluster host's API, the same in every runtime: start nodes from one config, inject faults,
 * spawn actors, talk to them from outside, read events and counters, and stop.
 */
import type { ActorDef, AskOptions, ReplyOf, SpawnOptions } from './actor.ts';
import type { ResolvedConfig, RuntimeKind } from './config.ts';
import type { EventStream } from './events.ts';
import type { MailboxCounters } from './mailbox.ts';
import type { LinkCounters } from './network/model.ts';
import type { Grudge, LatencyDistribution, NetworkRules, Partition } from './network/rules.ts';
import type { FaultSchedule } from './network/schedule.ts';
import type { ActorRef, AnyRef } from './ref.ts';
import type { SystemCounters } from './system.ts';

/** Controls the network model. Each change takes effect for deliveries from the moment the promise resolves. */
export interface NetworkControl {
  readonly rules: NetworkRules;
  /** Bumped by every change. */
  readonly epoch: number;
  update(change: Partial<NetworkRules>): Promise<void>;
  partition(partition: Partition): Promise<void>;
  /** Cuts one node off from every other. */
  isolate(node: string): Promise<void>;
  /** Drops everything `from` sends to `to`. */
  grudge(from: string, to: string): Promise<void>;
  /** Removes partitions and one-way drops (Jepsen's heal); loss, latency and the rest stay. */
  heal(): Promise<void>;
  /** Back to the rules the cluster was configured with (by default a perfect network). */
  reset(): Promise<void>;
  setLoss(probability: number): Promise<void>;
  setLatency(latency: LatencyDistribution): Promise<void>;
  setDuplication(probability: number): Promise<void>;
  setReorder(probability: number, windowMs?: number): Promise<void>;
  /** Counters of every link that carried traffic, keyed `from->to`. */
  links(): Promise<Record<string, LinkCounters>>;
}

export type { Grudge };

/** A node's lifecycle state as the host sees it. */
export type NodeState = 'running' | 'paused' | 'down';

/** Counters of one node. */
export interface NodeStats extends SystemCounters {
  readonly node: string;
  readonly nodeUid: string | undefined;
  readonly state: NodeState;
  /** Times this node was started (1 for the first start). */
  readonly starts: number;
}

/** A running schedule. */
export interface ScheduleHandle {
  /** Faults not yet applied will not be. */
  cancel(): void;
  /** Resolves when the last fault has been applied. */
  readonly done: Promise<void>;
  /** Faults that failed when applied (the schedule is validated up front, so normally empty). */
  readonly errors: readonly Error[];
}

/** The host's view of a cluster, in any runtime. */
export interface Cluster {
  readonly runtime: RuntimeKind;
  readonly config: ResolvedConfig;
  /** Node names, in config order. */
  readonly nodes: readonly string[];
  readonly events: EventStream;
  readonly network: NetworkControl;
  /** Runtime clock, in ms since the cluster started. */
  now(): number;
  /** The current node uid, or undefined while the node is down. */
  nodeUid(node: string): string | undefined;
  nodeState(node: string): NodeState;
  /** Spawns a registered definition (by object or name) under `/user` on `node`. */
  spawn<M, S, P>(node: string, def: ActorDef<M, S, P> | string, props: P, options?: SpawnOptions): Promise<ActorRef<M>>;
  /** Sends from the host's endpoint. Throws the codec's typed errors. */
  tell<M>(ref: ActorRef<M>, msg: M): void;
  /** Request/response from the host's endpoint. */
  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res>;
  /** Stops an actor (any but the guardians); its watchers get `Terminated`. */
  stopActor(ref: AnyRef): Promise<void>;
  /** Crashes the node: memory is gone; in simulation and local its disk stays, in threads it is lost with the worker. */
  kill(node: string): Promise<void>;
  /** Kills if running, then starts with a new node uid, disk kept. */
  restart(node: string): Promise<void>;
  /** Kills if running, wipes the disk, starts with a new node uid. (In threads every restart starts empty: the disk lives in the worker.) */
  restartEmpty(node: string): Promise<void>;
  /** The node runs nothing and fires no timer; messages to it are held (bounded). */
  pause(node: string): Promise<void>;
  /** Due timers fire once; held messages older than `maxMessageAgeMs` are dropped. */
  resume(node: string): Promise<void>;
  /** A node's counters (in threads, asked of its worker). */
  stats(node: string): Promise<NodeStats>;
  /** Mailbox counters of one actor, if it is alive. */
  actorStats(ref: AnyRef): Promise<MailboxCounters | undefined>;
  /** Applies a fault schedule, times relative to now. */
  applySchedule(schedule: FaultSchedule): ScheduleHandle;
  /** Resolves with `promise`; in simulation, runs the clock until it settles (default limit 60 000 ms of virtual time). */
  until<T>(promise: Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  /** Lets `ms` of runtime time pass. */
  runFor(ms: number): Promise<void>;
  /** Runs until `condition()` holds (true) or `timeoutMs` passes (false). In simulation prefer a synchronous condition: it is checked after every event. */
  runUntil(condition: () => boolean | Promise<boolean>, options?: { timeoutMs?: number }): Promise<boolean>;
  /** Stops every node (stop hooks run) and releases the runtime. */
  stop(): Promise<void>;
}

/** A simulation cluster: a cluster whose clock only moves when it is run. */
export interface SimulationCluster extends Cluster {
  readonly runtime: 'simulation';
  /** Runs one event; false when idle. */
  step(): Promise<boolean>;
  /** SHA-256 of the trace so far (with `trace: true`). */
  traceDigest(): string;
  /** The trace lines so far (with `trace: true`). */
  traceLines(): readonly string[];
}
