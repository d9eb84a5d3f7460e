/**
 * The runtime's record of one live actor: its definition, state, mailbox, children, watches,
 * timers and restart history. Internal: users see only refs and contexts.
 */
import type { ActorContext, AnyActorDef } from './actor.ts';
import type { Mailbox } from './mailbox.ts';
import type { ActorRef, AnyRef } from './ref.ts';
import type { RestartHistory, SupervisionStrategy } from './supervisor.ts';

/**
 * `running`: processes its mailbox. `suspended`: failed, awaiting its supervisor's decision or a
 * backoff; messages queue. `stopping`/`stopped`: going away; messages become dead letters.
 */
export type CellStatus = 'running' | 'suspended' | 'stopping' | 'stopped';

export interface TimerEntry {
  readonly gen: number;
  readonly msg: unknown;
  readonly intervalMs: number;
  cancel: () => void;
}

export class Cell {
  state: unknown = undefined;
  status: CellStatus = 'suspended';
  /** Bumped at every restart and at stop; continuations of older incarnations are discarded. */
  incarnation = 0;
  /** `init` succeeded at least once (so `preRestart` and `onStop` have a state to see). */
  hasStarted = false;
  /** Set while suspended after escalating a failure (of this phase) to the parent. */
  escalatedFrom: import('./events.ts').FailurePhase | null = null;
  /** An async `receive` is in flight: the mailbox is held. */
  busy = false;
  /** In the node's run queue. */
  scheduled = false;
  ctx!: ActorContext<unknown>;
  readonly children = new Map<string, Cell>();
  /** Who watches this actor (local or remote refs). */
  watchers: AnyRef[] | null = null;
  /** What this actor watches, by ref key. */
  watching: Map<string, AnyRef> | null = null;
  timers: Map<string, TimerEntry> | null = null;
  timerGen = 0;

  constructor(
    readonly def: AnyActorDef,
    readonly props: unknown,
    readonly name: string,
    readonly path: string,
    readonly uid: number,
    readonly ref: ActorRef<unknown>,
    readonly parent: Cell | null,
    readonly mailbox: Mailbox,
    /** How this actor supervises its children. */
    readonly strategy: SupervisionStrategy,
    /** This actor's own restart bookkeeping, used by its parent's strategy. */
    readonly restarts: RestartHistory,
  ) {}

  get isAlive(): boolean {
    return this.status === 'running' || this.status === 'suspended';
  }
}
