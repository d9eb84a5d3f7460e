/**
 * The runtime's observable life: a typed event stream per node and per cluster (principle 12).
 * Tests, the dashboard and the benchmarks read the same events.
 */
import { EventEmitter } from 'eventemitter3';
import type { AnyRef } from './ref.ts';

/** Why a message was not delivered. */
export type DeadLetterReason =
  /** Nothing lives at the ref's path. */
  | 'no-such-actor'
  /** The ref names an earlier incarnation of the node or of the actor. */
  | 'stale'
  /** The actor stopped with the message still queued, or was stopping when it arrived. */
  | 'stopped'
  /** A bounded mailbox was full. */
  | 'mailbox-full'
  /** A bounded link between nodes was full. */
  | 'link-full'
  /** The actor crashed while handling this message. */
  | 'crashed'
  /** The network model dropped it (loss, partition, one-way drop, node down). */
  | 'dropped-by-network'
  /** It spent longer than `maxMessageAgeMs` in flight. */
  | 'too-old';

/** Why the network dropped a message. */
export type NetworkDropCause =
  | 'loss'
  | 'partition'
  /** A one-way drop between the two nodes. */
  | 'grudge'
  /** The target node was not running at delivery. */
  | 'node-down'
  /** The target node is not part of the cluster. */
  | 'unknown-node'
  /** A paused node's hold queue was full. */
  | 'queue-full'
  /** The bounded link between the two nodes was full (threads). */
  | 'link-full';

/** Why a watched actor terminated. */
export type TerminationReason =
  | 'stopped'
  | 'failed'
  /** The failure detector declared the actor's node down (not a quarantine, see `watch`). */
  | 'node-down'
  /** The ref was stale or nothing lived at its path when the watch arrived. */
  | 'no-such-actor';

/** What a supervisor decided about a failure. */
export type Directive = 'resume' | 'restart' | 'stop' | 'escalate';

/** Where an actor failed. */
export type FailurePhase = 'receive' | 'start' | 'restart' | 'stop';

/** Why a node stopped: the host killed or stopped it, a failure escalated past its guardians, or its worker crashed (an uncaught error, out of memory, `process.exit`). */
export type NodeStopReason = 'killed' | 'stopped' | 'escalated' | 'crashed';

interface Base {
  /** The node the event happened on. */
  readonly node: string;
  /** Runtime clock time, in ms. */
  readonly atMs: number;
}

export interface ActorStarted extends Base {
  readonly type: 'actor-started';
  readonly ref: AnyRef;
}
export interface ActorStopped extends Base {
  readonly type: 'actor-stopped';
  readonly ref: AnyRef;
}
export interface ActorRestarted extends Base {
  readonly type: 'actor-restarted';
  readonly ref: AnyRef;
  /** Restarts counted in the current intensity window, this one included. */
  readonly restartsInWindow: number;
  /** Backoff applied before this restart, in ms. */
  readonly backoffMs: number;
}
export interface ActorFailed extends Base {
  readonly type: 'actor-failed';
  readonly ref: AnyRef;
  readonly error: unknown;
  readonly phase: FailurePhase;
  readonly directive: Directive;
}
export interface DeadLetter extends Base {
  readonly type: 'dead-letter';
  readonly reason: DeadLetterReason;
  readonly to: AnyRef;
  readonly msg: unknown;
  /** For `crashed`: the error thrown. */
  readonly error?: unknown;
  /** For `dropped-by-network`: what the network did. */
  readonly cause?: NetworkDropCause;
  /** For network drops: the sending node. */
  readonly from?: string;
}
export interface NodeStarted extends Base {
  readonly type: 'node-started';
  readonly nodeUid: string;
}
export interface NodeStopped extends Base {
  readonly type: 'node-stopped';
  readonly nodeUid: string;
  readonly reason: NodeStopReason;
  readonly error?: unknown;
}
export interface NodePaused extends Base {
  readonly type: 'node-paused';
}
export interface NodeResumed extends Base {
  readonly type: 'node-resumed';
}
/** A failure detector's verdict about another node, as this node heard it. */
export interface NodeReachability extends Base {
  readonly type: 'node-reachability';
  readonly subject: string;
  readonly subjectUid: string;
  readonly status: 'up' | 'down';
}
export interface NetworkChanged extends Base {
  readonly type: 'network-changed';
  readonly epoch: number;
  readonly description: string;
}

/** An event a plugin or an actor published with `ctx.publish` (membership changes, repairs...). */
export interface CustomEvent extends Base {
  readonly type: 'custom';
  /** Names the kind of data, e.g. `gossip.membership`; packages export typed readers for their topics. */
  readonly topic: string;
  readonly data: unknown;
}

/** Every event of the runtime, discriminated by `type`. */
export type RuntimeEvent =
  | ActorStarted
  | ActorStopped
  | ActorRestarted
  | ActorFailed
  | DeadLetter
  | NodeStarted
  | NodeStopped
  | NodePaused
  | NodeResumed
  | NodeReachability
  | NetworkChanged
  | CustomEvent;

export type RuntimeEventType = RuntimeEvent['type'];

/** Listener signatures: one channel per event type, plus `event` for all of them. */
export type RuntimeEventMap = { [K in RuntimeEventType]: [Extract<RuntimeEvent, { type: K }>] } & {
  event: [RuntimeEvent];
};

/**
 * A typed event stream (eventemitter3). Subscribe to one type, `on('dead-letter', ...)`, or to
 * everything, `on('event', ...)`.
 *
 * Events are published from inside the runtime (a tell, a delivery, a restart). A listener that
 * throws must not break the runtime mid-operation: its error is rethrown on a later microtask,
 * where it surfaces as an uncaught error instead of vanishing (the listeners after it on the same
 * channel miss that one event).
 */
export class EventStream extends EventEmitter<RuntimeEventMap> {
  /** Emits `e` on its own channel and on `event`. */
  publish(e: RuntimeEvent): void {
    this.safeEmit(e.type, e);
    this.safeEmit('event', e);
  }

  private safeEmit(channel: RuntimeEventType | 'event', e: RuntimeEvent): void {
    try {
      this.emit(channel, e as never);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
