/**
 * Defining actors: a definition is code (initial state and a `receive` function), registered by
 * name so that every node, on any thread, can spawn it from the same module.
 */
import type { Disk } from './disk.ts';
import type { TerminationReason } from './events.ts';
import type { MailboxOptions } from './mailbox.ts';
import type { ActorRef, AnyRef } from './ref.ts';
import type { SupervisionOptions } from './supervisor.ts';

/** The signal a watcher receives when a watched actor terminates. */
export interface Terminated {
  readonly type: 'terminated';
  readonly ref: AnyRef;
  readonly reason: TerminationReason;
}

/** The outcome of a promise piped to an actor as a message. */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * The reply type an `ask` expects from a request union: the `X` of its members' `replyTo:
 * ActorRef<X>` fields (`unknown` if none has one). Name it explicitly when a union has several.
 */
export type ReplyOf<M> = [ReplyField<M>] extends [never] ? unknown : ReplyField<M>;
type ReplyField<M> = M extends { readonly replyTo: ActorRef<infer R> } ? R : never;

/** Options of an `ask`. The timeout is mandatory: an ask without one is a leak waiting to happen. */
export interface AskOptions {
  /** Fail with `ASK_TIMEOUT` when no reply arrives within this many ms of runtime time. */
  timeoutMs: number;
}

/** Options of a spawn. */
export interface SpawnOptions {
  /** The child's name, one path segment; unique among its siblings. Default: a generated `$` name. */
  name?: string;
  /** Overrides the definition's mailbox settings for this actor. */
  mailbox?: Partial<MailboxOptions>;
}

/** A failure detector's report about another node (see `ActorContext.reportReachability`). */
export interface ReachabilityReport {
  readonly node: string;
  readonly nodeUid: string;
  readonly status: 'up' | 'down';
}

/** Timers of one actor: their messages arrive in its own mailbox. Keys replace; all end on restart. */
export interface Timers<M> {
  /** Sends `msg` to self once after `afterMs`, replacing any timer with this key. */
  once(key: string, afterMs: number, msg: M): void;
  /** Sends `msg` to self every `intervalMs` (> 0; fixed delay), replacing any timer with this key. */
  repeat(key: string, intervalMs: number, msg: M): void;
  /** Cancels the timer; its message is not delivered even if it is already queued. */
  cancel(key: string): void;
  /** True while a timer with this key is pending. */
  isActive(key: string): boolean;
}

/** Branded so that the compiler names the problem when `watch` is called by an actor that cannot receive `Terminated`. */
export interface WatchRequiresTerminatedInMessageType {
  readonly __error: 'add Terminated to the actor message type to watch';
}

/**
 * What an actor sees of the runtime. Time, randomness and timers come from here, never from
 * `Date.now`, `Math.random` or `setTimeout`, so the simulation can replay a run from its seed.
 * A context belongs to one incarnation: after a restart, a stop or the node's death, the
 * continuation of an old async handler that uses it gets `STALE_CONTEXT`.
 */
export interface ActorContext<M> {
  /** This actor's ref; stays valid across restarts. */
  readonly self: ActorRef<M>;
  /** The parent's ref. */
  readonly parent: AnyRef;
  /** The node this actor runs on. */
  readonly nodeName: string;
  /** The current start of that node. */
  readonly nodeUid: string;
  /** This node's durable area (survives `kill` in simulation; see the durability model). */
  readonly disk: Disk;
  /** Runtime clock, in ms (virtual in simulation). */
  now(): number;
  /** A uniform draw in [0, 1) from the node's seeded generator. */
  random(): number;
  readonly timers: Timers<M>;
  /** Sends a message, fire and forget. Throws at once if the message cannot be encoded for another node. */
  tell<T>(ref: ActorRef<T>, msg: T): void;
  /**
   * Request/response. The reply is whatever the target tells `replyTo`; its type defaults to the
   * `X` of the request union's `replyTo: ActorRef<X>` fields. Annotate the factory's return type
   * with the target's message type, `(replyTo): CounterMsg => ({ type: 'get', replyTo })`, since
   * TypeScript widens literal types in generic callbacks. Awaiting an ask inside
   * `receive` holds this actor's mailbox until it settles: for actor-to-actor requests prefer
   * {@link pipeToSelf} (or two actors asking each other deadlock until the timeout).
   */
  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res>;
  /** Delivers the outcome of a runtime-owned promise (an ask, a delay) to this actor as a message. */
  pipeToSelf<T>(promise: Promise<T>, adapt: (result: Settled<T>) => M): void;
  /** A promise resolved after `ms` of runtime time. */
  delay(ms: number): Promise<void>;
  /**
   * Runs work that leaves the runtime (a worker pool, the file system) so that an async handler may
   * await it: in simulation virtual time stands still until it settles, so the run stays
   * deterministic as long as the work's result is. Never await other foreign promises in a handler.
   */
  external<T>(work: () => Promise<T>): Promise<T>;
  /** Spawns a child under this actor. */
  spawn<CM, CS, CP>(def: ActorDef<CM, CS, CP>, props: CP, options?: SpawnOptions): ActorRef<CM>;
  /** Stops this actor or one of its children: children first, stop hooks run, watchers told. */
  stop(ref: AnyRef): void;
  /** Delivers `Terminated` when `ref` stops, or when its node is declared down. */
  watch(ref: Terminated extends M ? AnyRef : WatchRequiresTerminatedInMessageType): void;
  /** Stops watching; no `Terminated` for `ref` arrives after this. */
  unwatch(ref: AnyRef): void;
  /** Refs of the live children, in start order. */
  children(): AnyRef[];
  /** A child's ref by name. */
  child(name: string): AnyRef | undefined;
  /**
   * Publishes an event on this node's event stream as `{ type: 'custom', topic, data }`, so the
   * host, tests and dashboards observe what a plugin does (membership changes, repairs). `data`
   * must be plain data: in threads it crosses to the host by structured clone.
   */
  publish(topic: string, data: unknown): void;
  /**
   * The failure-detector interface: a membership plugin's actor (under `/system`) reports another
   * node incarnation down (its watched actors terminate with `node-down`) or up. Throws
   * `NOT_PERMITTED` from actors under `/user`.
   */
  reportReachability(report: ReachabilityReport): void;
}

/**
 * An actor definition. `M` is the message union it accepts, `S` its state, `P` its props.
 *
 * ```ts
 * type CounterMsg = { type: 'add'; n: number } | { type: 'get'; replyTo: ActorRef<number> };
 * const counter = defineActor({
 *   name: 'counter',
 *   init: () => 0,
 *   receive(count, msg: CounterMsg, ctx) {
 *     if (msg.type === 'add') return count + msg.n;
 *     ctx.tell(msg.replyTo, count);
 *     return count;
 *   },
 * });
 * ```
 */
export interface ActorDef<M, S = undefined, P = undefined> {
  /** Registry name: unique among the definitions a node knows. */
  readonly name: string;
  /** Builds the state at start and at every restart. */
  init(props: P, ctx: ActorContext<M>): S;
  /** Handles one message and returns the next state. Async handlers hold the mailbox until they settle. */
  receive(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  /** After `init` at the first start. */
  onStart?(state: S, ctx: ActorContext<M>): S;
  /** When the actor stops (its children have stopped already). */
  onStop?(state: S, ctx: ActorContext<M>): void;
  /** Before a restart, with the old state; the children are stopped right after. */
  preRestart?(state: S, error: unknown, ctx: ActorContext<M>): void;
  /** After `init` at a restart. Default: `onStart`. */
  postRestart?(state: S, error: unknown, ctx: ActorContext<M>): S;
  /** How this actor supervises its children. */
  readonly supervision?: SupervisionOptions;
  /** Mailbox settings of this actor. */
  readonly mailbox?: Partial<MailboxOptions>;
}

/** A definition of any type, for registries and plugins. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActorDef = ActorDef<any, any, any>;

/** Identity helper that infers `M`, `S` and `P` from the definition. */
export function defineActor<M, S = undefined, P = undefined>(def: ActorDef<M, S, P>): ActorDef<M, S, P> {
  return def;
}
