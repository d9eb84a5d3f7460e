/**
 * One node's actor system: its actors, their mailboxes and supervision tree, asks, watches and
 * timers. The system owns no clock, timer, thread or socket: the runtime hosting it supplies them
 * through {@link NodeHost}, so the same system runs in simulation, on the real clock, or in a
 * worker thread.
 */
import type { AnyActorDef, AskOptions, ReachabilityReport, SpawnOptions, Terminated } from './actor.ts';
import { Cell } from './cell.ts';
import { HOST_NODE } from './config.ts';
import { Context } from './context.ts';
import type { Disk } from './disk.ts';
import type { Envelope } from './envelope.ts';
import { AskFailedError, AskTimeoutError, InvalidArgumentError, MailboxFullError, StarlingError } from './errors.ts';
import type { DeadLetterReason, Directive, EventStream, FailurePhase, NetworkDropCause, TerminationReason } from './events.ts';
import { DEFAULT_MAILBOX, type EntryMeta, Mailbox, type MailboxOptions } from './mailbox.ts';
import type { Random } from './random.ts';
import { type ActorRef, type AnyRef, childPath, isValidActorName, plainRef, refKey, refToString } from './ref.ts';
import {
  admitRestart,
  newRestartHistory,
  nextBackoffMs,
  resolveStrategy,
  type SupervisionOptions,
  type SupervisionStrategy,
} from './supervisor.ts';

/** A handle to a scheduled callback. */
export interface Cancellable {
  cancel(): void;
}

/** What a runtime provides to the node it hosts. */
export interface NodeHost {
  /** Runtime clock, in ms. */
  now(): number;
  /** Runs `fn` at `atMs` on this node's timeline: held while the node is paused, gone if it is killed. */
  schedule(atMs: number, fn: () => void): Cancellable;
  /** Asks for {@link ActorSystem.drain} to run soon. */
  requestDrain(): void;
  /**
   * Hands an envelope to the router. Encodes synchronously: throws the codec's typed errors.
   * `systemLane` marks traffic of system actors and the runtime's signals about them, which rides
   * its own lane where links have lanes.
   */
  send(toNode: string, env: Envelope, systemLane: boolean): void;
  /** A runtime-owned promise settled or an async handler started (the simulation flushes microtasks). */
  noteAsync(): void;
  /** A failure escalated past the root guardian: the node must stop. */
  nodeFailed(error: unknown): void;
  /**
   * Runs work that leaves the runtime (a worker pool, the file system). The simulation holds
   * virtual time still until it settles, so its continuation runs at the instant it was started.
   */
  external<T>(work: () => Promise<T>): Promise<T>;
}

/** Settings of one node's system. */
export interface SystemOptions {
  name: string;
  uid: string;
  host: NodeHost;
  random: Random;
  disk: Disk;
  events: EventStream;
  /** A delivery older than this is dropped as `too-old` (principle 9). Default 10 000 ms. */
  maxMessageAgeMs?: number;
  /** Messages one actor handles before the next actor gets a turn. Default 32. */
  throughput?: number;
  /** Strategy of the `/user` guardian over top-level user actors. */
  userSupervision?: SupervisionOptions;
}

/** Counters of one node's system. */
export interface SystemCounters {
  /** Messages handled by actors. */
  processed: number;
  /** Live actors, guardians included. */
  actors: number;
  spawned: number;
  stopped: number;
  failures: number;
  restarts: number;
  deadLetters: Record<DeadLetterReason, number>;
  /**
   * Messages this node's actors sent to other nodes (not to the host), by the message's `type` field (`(untyped)`
   * for a message without a string one). At most {@link MAX_COUNTED_TYPES} names are kept; the
   * rest are counted under `(other)`, so a peer inventing names cannot grow the table.
   */
  sentByType: Record<string, number>;
}

/** Distinct message types {@link SystemCounters.sentByType} keeps before folding the rest into `(other)`. */
export const MAX_COUNTED_TYPES = 128;
/** Longest `type` counted under its own name; longer ones count as `(other)`. */
const MAX_TYPE_NAME = 64;

/** The name a message is counted under in {@link SystemCounters.sentByType}. */
function typeName(msg: unknown): string {
  if (typeof msg !== 'object' || msg === null) return '(untyped)';
  const t = (msg as { type?: unknown }).type;
  if (typeof t !== 'string') return '(untyped)';
  return t.length <= MAX_TYPE_NAME ? t : '(other)';
}

interface PendingAsk {
  readonly uid: number;
  readonly target: string;
  /** The target's node and incarnation ('' for a selection), to fail the ask when that node is declared down. */
  readonly targetNode: string;
  readonly targetNodeUid: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: Cancellable;
}

interface RemoteWatch {
  readonly watcher: Cell;
  readonly watchee: AnyRef;
}

const guardianDef: AnyActorDef = {
  name: '$guardian',
  init: () => undefined,
  receive: (state) => state,
};

/** Guardians never restart themselves: any failure that reaches them stops the node. */
const ESCALATE_ALL: SupervisionOptions = { decide: () => 'escalate' };

export const DEFAULT_MAX_MESSAGE_AGE_MS = 10_000;
export const DEFAULT_THROUGHPUT = 32;

/** Counters of a node that has handled nothing (also what the host reports for a node that is down). */
export function emptyCounters(): SystemCounters {
  return { processed: 0, actors: 0, spawned: 0, stopped: 0, failures: 0, restarts: 0, deadLetters: emptyDeadLetterCounts(), sentByType: {} };
}

function emptyDeadLetterCounts(): Record<DeadLetterReason, number> {
  return {
    'no-such-actor': 0,
    stale: 0,
    stopped: 0,
    'mailbox-full': 0,
    'link-full': 0,
    crashed: 0,
    'dropped-by-network': 0,
    'too-old': 0,
  };
}

const OVERFLOW_POLICIES = new Set(['drop-newest', 'drop-oldest', 'reject']);

function validateMailbox(m: Partial<MailboxOptions>): void {
  if (m.capacity !== undefined && !(m.capacity === Infinity || (Number.isInteger(m.capacity) && m.capacity >= 1))) {
    throw new InvalidArgumentError('INVALID_CONFIG', `mailbox capacity must be an integer >= 1 or Infinity, got ${String(m.capacity)}`);
  }
  if (m.overflow !== undefined && !OVERFLOW_POLICIES.has(m.overflow)) {
    throw new InvalidArgumentError('INVALID_CONFIG', `mailbox overflow must be drop-newest, drop-oldest or reject, got ${String(m.overflow)}`);
  }
}

function isSystemPath(path: string): boolean {
  return path.startsWith('/system/');
}

function isPromise(x: unknown): x is Promise<unknown> {
  return x instanceof Promise;
}

export class ActorSystem {
  readonly name: string;
  readonly uid: string;
  readonly events: EventStream;
  readonly disk: Disk;
  readonly random: Random;
  readonly maxMessageAgeMs: number;
  private readonly host: NodeHost;
  private readonly throughput: number;
  private readonly cells = new Map<string, Cell>();
  private readonly registry = new Map<string, AnyActorDef>();
  private readonly asks = new Map<string, PendingAsk>();
  /** Watches this node's actors hold on actors of other nodes, by node name then watch key. */
  private readonly remoteWatches = new Map<string, Map<string, RemoteWatch>>();
  private runQueue: Cell[] = [];
  private runHead = 0;
  private drainRequested = false;
  private draining = false;
  private nextUid = 1;
  private nextAuto = 0;
  /** Messages waiting in all mailboxes of this node. */
  private queuedMessages = 0;
  private running = true;
  private readonly root: Cell;
  /** `/system`: where plugins put the node's own actors. */
  readonly systemGuardian: Cell;
  /** `/user`: where applications put theirs. */
  readonly userGuardian: Cell;
  private readonly counters: SystemCounters = emptyCounters();
  /** Kept as a map (a record keyed by a peer's strings could hit `__proto__`); copied out by {@link stats}. */
  private readonly sentByType = new Map<string, number>();

  constructor(options: SystemOptions) {
    this.name = options.name;
    this.uid = options.uid;
    this.host = options.host;
    this.random = options.random;
    this.disk = options.disk;
    this.events = options.events;
    this.maxMessageAgeMs = options.maxMessageAgeMs ?? DEFAULT_MAX_MESSAGE_AGE_MS;
    this.throughput = options.throughput ?? DEFAULT_THROUGHPUT;
    this.root = this.createCell(null, guardianDef, undefined, '', ESCALATE_ALL);
    this.startCell(this.root);
    this.systemGuardian = this.createCell(this.root, guardianDef, undefined, 'system', undefined);
    this.startCell(this.systemGuardian);
    this.userGuardian = this.createCell(this.root, guardianDef, undefined, 'user', options.userSupervision);
    this.startCell(this.userGuardian);
    this.events.publish({ type: 'node-started', node: this.name, atMs: this.now(), nodeUid: this.uid });
  }

  now(): number {
    return this.host.now();
  }

  get isRunning(): boolean {
    return this.running;
  }

  // ---------------------------------------------------------------------------------------------
  // Registry and spawning

  /** Makes a definition spawnable by name on this node (plugins do this for their actors). */
  register(def: AnyActorDef): void {
    const existing = this.registry.get(def.name);
    if (existing && existing !== def) {
      throw new InvalidArgumentError('INVALID_CONFIG', `two different actor definitions are named '${def.name}'`);
    }
    this.registry.set(def.name, def);
  }

  /** The registered definition named `name`. Throws `UNKNOWN_ACTOR_TYPE`. */
  lookupDef(name: string): AnyActorDef {
    const def = this.registry.get(name);
    if (!def) {
      throw new InvalidArgumentError(
        'UNKNOWN_ACTOR_TYPE',
        `node ${this.name} has no actor definition named '${name}' (register it through a plugin)`,
      );
    }
    return def;
  }

  /**
   * Spawns under `/user` or `/system` from outside any actor (the host, a plugin's setup). If the
   * actor fails to start, it is removed and this throws `ACTOR_FAILED`: a bad spawn from outside
   * never brings down the node's guardian.
   */
  spawn(under: 'user' | 'system', def: AnyActorDef, props: unknown, options?: SpawnOptions): AnyRef {
    this.assertRunning();
    return this.spawnChild(under === 'user' ? this.userGuardian : this.systemGuardian, def, props, options, true);
  }

  /** @internal */
  spawnChild(parent: Cell, def: AnyActorDef, props: unknown, options: SpawnOptions | undefined, failFast = false): AnyRef {
    if (parent.status === 'stopping' || parent.status === 'stopped') {
      throw new StarlingError('ACTOR_STOPPED', `${refToString(parent.ref)} is stopping and cannot spawn children`);
    }
    let name = options?.name;
    if (name === undefined) {
      name = `$${(this.nextAuto++).toString(36)}`;
    } else if (!isValidActorName(name)) {
      throw new InvalidArgumentError('INVALID_NAME', `'${name}' is not a valid actor name (one path segment of [A-Za-z0-9_-.:~@+=])`);
    }
    if (parent.children.has(name)) {
      throw new InvalidArgumentError('NAME_TAKEN', `${childPath(parent.path, name)} already exists on ${this.name}`);
    }
    const mailbox = options?.mailbox ? { ...def.mailbox, ...options.mailbox } : def.mailbox;
    if (mailbox) validateMailbox(mailbox);
    const cell = this.createCell(parent, def, props, name, def.supervision, mailbox);
    this.startCell(cell, failFast);
    return cell.ref;
  }

  private createCell(
    parent: Cell | null,
    def: AnyActorDef,
    props: unknown,
    name: string,
    supervision: SupervisionOptions | undefined,
    mailbox?: Partial<MailboxOptions>,
  ): Cell {
    const path = parent ? childPath(parent.path, name) : '/';
    const uid = this.nextUid++;
    const ref: ActorRef<unknown> = { node: this.name, nodeUid: this.uid, path, uid };
    const strategy: SupervisionStrategy = resolveStrategy(supervision);
    const box = new Mailbox(mailbox ? { ...DEFAULT_MAILBOX, ...mailbox } : DEFAULT_MAILBOX);
    const cell = new Cell(def, props, name, path, uid, ref, parent, box, strategy, newRestartHistory());
    cell.ctx = new Context(cell, cell.incarnation, this);
    this.cells.set(path, cell);
    if (parent) parent.children.set(name, cell);
    this.counters.actors++;
    this.counters.spawned++;
    return cell;
  }

  /**
   * Runs `init` and `onStart`. A failure is supervised like any other, except for spawns from
   * outside the node (`failFast`): there the actor is removed and the caller gets the error, as
   * OTP's `start_child` answers `{error, Reason}` instead of crashing its supervisor.
   */
  private startCell(cell: Cell, failFast = false): void {
    try {
      let state = cell.def.init(cell.props, cell.ctx);
      if (cell.def.onStart) state = cell.def.onStart(state, cell.ctx);
      cell.state = state;
    } catch (err) {
      if (failFast) {
        this.stopCell(cell, 'failed');
        throw new StarlingError('ACTOR_FAILED', `${refToString(cell.ref)} failed to start: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
      this.fail(cell, err, 'start');
      return;
    }
    cell.status = 'running';
    cell.hasStarted = true;
    this.events.publish({ type: 'actor-started', node: this.name, atMs: this.now(), ref: cell.ref });
    if (!cell.mailbox.isEmpty) this.schedule(cell);
  }

  // ---------------------------------------------------------------------------------------------
  // Sending and delivering

  /**
   * Sends `msg` to `ref`, on this node or another. Throws the codec's errors for remote refs.
   * `from` is the sending actor, if any: a system actor's messages ride the system lane.
   */
  tell(ref: AnyRef, msg: unknown, meta: EntryMeta | undefined, from?: Cell): void {
    if (ref.node === this.name) {
      this.deliverLocal(ref, msg, meta, false, true);
      return;
    }
    const env: Envelope = meta?.askReplyTo
      ? { kind: 'user', to: plainRef(ref), msg, askReplyTo: meta.askReplyTo }
      : { kind: 'user', to: plainRef(ref), msg };
    this.host.send(ref.node, env, isSystemPath(ref.path) || (from !== undefined && isSystemPath(from.path)));
    // Traffic between nodes: replies to the host's asks (clients, tools reading counters) are not.
    if (ref.node !== HOST_NODE) this.countSent(msg);
  }

  private countSent(msg: unknown): void {
    const byType = this.sentByType;
    let name = typeName(msg);
    if (!byType.has(name) && byType.size >= MAX_COUNTED_TYPES) name = '(other)';
    byType.set(name, (byType.get(name) ?? 0) + 1);
  }

  /**
   * Enqueues for a live actor here. `isSignal` marks the runtime's own messages (`Terminated`,
   * timer messages): they bypass a bounded mailbox's capacity, as Akka's system messages do,
   * since losing one would leave a watcher or a timer silently broken.
   */
  private deliverLocal(to: AnyRef, msg: unknown, meta: EntryMeta | undefined, isSignal = false, fromThisNode = false): void {
    if (to.nodeUid !== this.uid && to.nodeUid !== '') {
      this.deadLetter('stale', to, msg, meta);
      return;
    }
    const cell = this.cells.get(to.path);
    if (cell === undefined) {
      if (this.asks.size > 0 && this.completeAsk(to, msg)) return;
      const existedHere = to.nodeUid === this.uid && to.uid !== 0 && to.uid < this.nextUid;
      this.deadLetter(existedHere ? 'stopped' : 'no-such-actor', to, msg, meta);
      return;
    }
    if (to.uid !== 0 && cell.uid !== to.uid) {
      this.deadLetter('stale', to, msg, meta);
      return;
    }
    if (cell.status === 'stopping' || cell.status === 'stopped') {
      this.deadLetter('stopped', to, msg, meta);
      return;
    }
    const evicted = cell.mailbox.enqueue(msg, meta, isSignal);
    // An eviction leaves the count unchanged: one message in, one out (or the incoming one refused).
    if (evicted === undefined) this.queuedMessages++;
    if (evicted !== undefined) {
      // `reject` pushes back on a sender of this node at its tell (it may catch and back off);
      // a sender on another node cannot be told synchronously and gets a dead letter instead.
      if (fromThisNode && cell.mailbox.overflow === 'reject') throw new MailboxFullError(refToString(cell.ref), cell.mailbox.capacity);
      this.deadLetter('mailbox-full', cell.ref, evicted.msg, evicted.meta);
    }
    if (!cell.scheduled && !cell.busy && cell.status === 'running') this.schedule(cell);
  }

  /**
   * Entry point of envelopes from other nodes, after the router delivered them. `sentAtMs` is the
   * sender's clock at the `tell` (one runtime clock per cluster).
   */
  receive(env: Envelope, sentAtMs: number): boolean {
    if (!this.running) return false;
    if (this.now() - sentAtMs > this.maxMessageAgeMs) {
      if (env.kind === 'user') this.deadLetter('too-old', env.to, env.msg, env.askReplyTo ? { askReplyTo: env.askReplyTo } : undefined);
      return false;
    }
    this.dispatchEnvelope(env);
    return true;
  }

  private dispatchEnvelope(env: Envelope): void {
    switch (env.kind) {
      case 'user':
        this.deliverLocal(env.to, env.msg, env.askReplyTo ? { askReplyTo: env.askReplyTo } : undefined);
        return;
      case 'watch':
        this.addWatcher(env.watchee, env.watcher);
        return;
      case 'unwatch': {
        const cell = this.liveCell(env.watchee);
        if (cell?.watchers) cell.watchers = cell.watchers.filter((w) => refKey(w) !== refKey(env.watcher));
        return;
      }
      case 'terminated':
        this.signalTerminated(env.watcher, env.watchee, env.reason);
        return;
      case 'ask-failed':
        this.failAsk(env.to, env.target, env.reason);
        return;
      case 'stop': {
        const cell = this.liveCell(env.target);
        if (cell && cell !== this.root && cell !== this.userGuardian && cell !== this.systemGuardian) {
          this.stopCell(cell, 'stopped');
        }
        return;
      }
    }
  }

  /** Records a message that could not be delivered; an asker waiting on it is told at once. */
  deadLetter(
    reason: DeadLetterReason,
    to: AnyRef,
    msg: unknown,
    meta: EntryMeta | undefined,
    extra?: { error?: unknown; cause?: NetworkDropCause; from?: string },
  ): void {
    this.counters.deadLetters[reason]++;
    this.events.publish({
      type: 'dead-letter',
      node: this.name,
      atMs: this.now(),
      reason,
      to,
      msg,
      ...(extra?.error !== undefined ? { error: extra.error } : {}),
      ...(extra?.cause !== undefined ? { cause: extra.cause } : {}),
      ...(extra?.from !== undefined ? { from: extra.from } : {}),
    });
    const replyTo = meta?.askReplyTo;
    if (replyTo !== undefined) {
      if (replyTo.node === this.name) this.failAsk(replyTo, to, reason);
      else this.trySend(replyTo.node, { kind: 'ask-failed', to: replyTo, target: plainRef(to), reason }, isSystemPath(to.path));
    }
  }

  /** Sends runtime traffic whose loss is tolerable; never lets a codec error escape. */
  /**
   * Signals ride the lane of the actor they are about, so they stay in order with that actor's own
   * messages (a `terminated` never overtakes the last messages of the actor that stopped).
   */
  private trySend(toNode: string, env: Envelope, systemLane: boolean): void {
    try {
      this.host.send(toNode, env, systemLane);
    } catch {
      // The runtime's own envelopes hold only refs and reasons; this cannot fail to encode.
    }
  }

  private schedule(cell: Cell): void {
    cell.scheduled = true;
    this.runQueue.push(cell);
    if (!this.draining && !this.drainRequested) {
      this.drainRequested = true;
      this.host.requestDrain();
    }
  }

  /**
   * Runs queued actors until the run queue is empty, `budget` messages were handled, or
   * `shouldYield()` says the slice is over (checked between actors); asks the host for another
   * turn if work remains. Returns the number of messages handled.
   */
  drain(budget: number, shouldYield?: () => boolean): number {
    this.drainRequested = false;
    if (!this.running) return 0;
    this.draining = true;
    let handled = 0;
    const queue = this.runQueue;
    try {
      while (this.runHead < queue.length && handled < budget) {
        if (shouldYield !== undefined && handled > 0 && shouldYield()) break;
        const cell = queue[this.runHead++] as Cell;
        cell.scheduled = false;
        handled += this.processCell(cell);
        if (cell.status === 'running' && !cell.busy && !cell.mailbox.isEmpty && !cell.scheduled) {
          cell.scheduled = true;
          queue.push(cell);
        }
      }
    } finally {
      this.draining = false;
      if (this.runHead === queue.length) {
        queue.length = 0;
        this.runHead = 0;
      } else if (this.runHead > 4096) {
        this.runQueue = queue.slice(this.runHead);
        this.runHead = 0;
      }
      if (this.runHead < this.runQueue.length && this.running) {
        this.drainRequested = true;
        this.host.requestDrain();
      }
    }
    this.counters.processed += handled;
    return handled;
  }

  private processCell(cell: Cell): number {
    const box = cell.mailbox;
    const def = cell.def;
    let n = 0;
    while (n < this.throughput && cell.status === 'running' && !cell.busy && !box.isEmpty) {
      const meta = box.peekMeta();
      const msg = box.dequeue();
      this.queuedMessages--;
      box.processed++;
      n++;
      if (meta !== undefined && meta.timer !== undefined) {
        const t = cell.timers?.get(meta.timer.key);
        if (t === undefined || t.gen !== meta.timer.gen) continue;
        if (t.intervalMs === 0) cell.timers!.delete(meta.timer.key);
      }
      const inc = cell.incarnation;
      let next: unknown;
      try {
        next = def.receive(cell.state, msg, cell.ctx);
      } catch (err) {
        if (cell.incarnation === inc && cell.status === 'running') this.crashed(cell, err, msg, meta);
        break;
      }
      if (cell.incarnation !== inc || cell.status !== 'running') break;
      if (isPromise(next)) {
        cell.busy = true;
        this.host.noteAsync();
        next.then(
          (state) => this.asyncDone(cell, inc, state),
          (err: unknown) => this.asyncFailed(cell, inc, err, msg, meta),
        );
        break;
      }
      cell.state = next;
    }
    return n;
  }

  private asyncDone(cell: Cell, inc: number, state: unknown): void {
    this.host.noteAsync();
    if (cell.incarnation !== inc) return;
    cell.busy = false;
    if (cell.status !== 'running') return;
    cell.state = state;
    if (!cell.mailbox.isEmpty && !cell.scheduled) this.schedule(cell);
  }

  private asyncFailed(cell: Cell, inc: number, err: unknown, msg: unknown, meta: EntryMeta | undefined): void {
    this.host.noteAsync();
    if (cell.incarnation !== inc) return;
    cell.busy = false;
    if (cell.status !== 'running') return;
    this.crashed(cell, err, msg, meta);
  }

  private crashed(cell: Cell, err: unknown, msg: unknown, meta: EntryMeta | undefined): void {
    this.deadLetter('crashed', cell.ref, msg, meta, { error: err });
    this.fail(cell, err, 'receive');
  }

  // ---------------------------------------------------------------------------------------------
  // Supervision

  /**
   * A cell failed: suspend it and apply its parent's strategy. An async handler in flight stays in
   * flight: only a restart or a stop (which change the incarnation) discard its continuation.
   */
  private fail(cell: Cell, error: unknown, phase: FailurePhase): void {
    this.counters.failures++;
    cell.status = 'suspended';
    const parent = cell.parent;
    if (parent === null || cell === this.userGuardian || cell === this.systemGuardian) {
      this.publishFailed(cell, error, phase, 'escalate');
      this.nodeFailed(error);
      return;
    }
    const strategy = parent.strategy;
    let directive: Directive;
    try {
      directive = strategy.decide(error);
    } catch {
      directive = 'escalate';
    }
    // An actor that failed to start has no state to resume with: it can only be started again.
    if (directive === 'resume' && phase !== 'receive') directive = 'restart';
    if (directive === 'restart' && !admitRestart(cell.restarts, strategy, this.now())) directive = 'escalate';
    this.publishFailed(cell, error, phase, directive);
    switch (directive) {
      case 'resume':
        this.resumeCell(cell);
        return;
      case 'restart': {
        const delayMs = nextBackoffMs(cell.restarts, strategy.backoff, this.now(), () => this.random.next());
        for (const target of this.affected(cell, strategy)) this.scheduleRestart(target, error, target === cell ? delayMs : 0);
        return;
      }
      case 'stop':
        for (const target of this.affected(cell, strategy)) this.stopCell(target, target === cell ? 'failed' : 'stopped');
        return;
      case 'escalate':
        // The child waits, suspended, for its parent's fate: a restarted or stopped parent stops it,
        // a resumed parent resumes it.
        cell.escalatedFrom = phase;
        this.fail(parent, error, 'receive');
        return;
    }
  }

  /** Resumes a suspended cell and the children that escalated into its failure (Akka resumes the subtree). */
  private resumeCell(cell: Cell): void {
    cell.status = 'running';
    for (const child of cell.children.values()) {
      const from = child.escalatedFrom;
      if (child.status !== 'suspended' || from === null) continue;
      child.escalatedFrom = null;
      if (from === 'receive') this.resumeCell(child);
      else this.scheduleRestart(child, new Error('restarted: its start failed and its parent resumed'), 0);
    }
    if (!cell.mailbox.isEmpty && !cell.scheduled && !cell.busy) this.schedule(cell);
  }

  private publishFailed(cell: Cell, error: unknown, phase: FailurePhase, directive: Directive): void {
    this.events.publish({ type: 'actor-failed', node: this.name, atMs: this.now(), ref: cell.ref, error, phase, directive });
  }

  /** The failed child and the siblings its parent's strategy includes, in start order. */
  private affected(cell: Cell, strategy: SupervisionStrategy): Cell[] {
    if (strategy.kind === 'one-for-one' || cell.parent === null) return [cell];
    const siblings = [...cell.parent.children.values()].filter((c) => c.isAlive);
    if (strategy.kind === 'one-for-all') return siblings;
    const at = siblings.indexOf(cell);
    return siblings.slice(at);
  }

  /**
   * Restarts are always events of their own, even without backoff: a crash loop in `init` then
   * runs one restart per event instead of recursing until the stack overflows.
   */
  private scheduleRestart(cell: Cell, error: unknown, delayMs: number): void {
    cell.status = 'suspended';
    cell.escalatedFrom = null;
    const inc = cell.incarnation;
    this.host.schedule(this.now() + delayMs, () => {
      if (cell.incarnation === inc && cell.status === 'suspended') this.restartCell(cell, error, delayMs);
    });
  }

  private restartCell(cell: Cell, error: unknown, backoffMs: number): void {
    if (cell.def.preRestart && cell.hasStarted) {
      try {
        cell.def.preRestart(cell.state, error, cell.ctx);
      } catch (hookErr) {
        this.publishFailed(cell, hookErr, 'restart', 'restart');
      }
    }
    for (const child of [...cell.children.values()].reverse()) this.stopCell(child, 'stopped');
    this.clearTimers(cell);
    this.clearWatching(cell);
    cell.incarnation++;
    cell.busy = false;
    cell.ctx = new Context(cell, cell.incarnation, this);
    this.counters.restarts++;
    try {
      let state = cell.def.init(cell.props, cell.ctx);
      if (cell.def.postRestart) state = cell.def.postRestart(state, error, cell.ctx);
      else if (cell.def.onStart) state = cell.def.onStart(state, cell.ctx);
      cell.state = state;
    } catch (err) {
      this.fail(cell, err, 'restart');
      return;
    }
    cell.status = 'running';
    cell.hasStarted = true;
    this.events.publish({
      type: 'actor-restarted',
      node: this.name,
      atMs: this.now(),
      ref: cell.ref,
      restartsInWindow: cell.restarts.times.length,
      backoffMs,
    });
    if (!cell.mailbox.isEmpty && !cell.scheduled) this.schedule(cell);
  }

  private nodeFailed(error: unknown): void {
    if (!this.running) return;
    this.halt();
    this.host.nodeFailed(error);
  }

  /** @internal A lifecycle hook or adapter threw outside `receive`. */
  reportHookError(cell: Cell, error: unknown): void {
    this.publishFailed(cell, error, 'receive', 'resume');
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping

  /** @internal `ctx.stop(ref)`: self or a direct child. */
  stopFromContext(cell: Cell, ref: AnyRef): void {
    if (ref.node === this.name && ref.path === cell.path && ref.uid === cell.uid) {
      this.stopCell(cell, 'stopped');
      return;
    }
    const target = ref.node === this.name ? this.liveCell(ref) : undefined;
    // Stopping something already gone is a no-op (a child that stopped on its own, a stale ref).
    if (target === undefined) return;
    if (target.parent !== cell) throw new StarlingError('NOT_A_CHILD', `${refToString(ref)} is not a child of ${refToString(cell.ref)}`);
    this.stopCell(target, 'stopped');
  }

  /** Stops an actor from outside (the host): any live actor but the guardians. */
  stopActor(ref: AnyRef): void {
    const cell = this.liveCell(ref);
    if (cell && cell !== this.root && cell !== this.userGuardian && cell !== this.systemGuardian) {
      this.stopCell(cell, 'stopped');
    }
  }

  private stopCell(cell: Cell, reason: TerminationReason): void {
    if (cell.status === 'stopping' || cell.status === 'stopped') return;
    cell.status = 'stopping';
    for (const child of [...cell.children.values()].reverse()) this.stopCell(child, 'stopped');
    this.clearTimers(cell);
    if (cell.def.onStop && cell.hasStarted) {
      try {
        cell.def.onStop(cell.state, cell.ctx);
      } catch (err) {
        this.publishFailed(cell, err, 'stop', 'stop');
      }
    }
    cell.incarnation++;
    cell.status = 'stopped';
    cell.busy = false;
    for (const left of cell.mailbox.drain()) {
      this.queuedMessages--;
      this.deadLetter('stopped', cell.ref, left.msg, left.meta);
    }
    this.cells.delete(cell.path);
    cell.parent?.children.delete(cell.name);
    this.counters.actors--;
    this.counters.stopped++;
    this.clearWatching(cell);
    const watchers = cell.watchers;
    cell.watchers = null;
    if (watchers) {
      for (const w of watchers) {
        if (w.node === this.name) this.signalTerminated(w, cell.ref, reason);
        else this.trySend(w.node, { kind: 'terminated', watchee: cell.ref, watcher: w, reason }, isSystemPath(cell.path));
      }
    }
    this.events.publish({ type: 'actor-stopped', node: this.name, atMs: this.now(), ref: cell.ref });
  }

  /** Stops every actor, user actors first, running stop hooks; pending asks fail with `SYSTEM_STOPPED`. The node ends. */
  shutdown(): void {
    if (!this.running) return;
    this.stopCell(this.userGuardian, 'stopped');
    this.stopCell(this.systemGuardian, 'stopped');
    this.rejectAllAsks('node stopped');
    this.halt();
  }

  /**
   * Ends the node without running any hook (a crash or `kill`): memory is simply gone. Every
   * context becomes stale, so an async handler that was awaiting can no longer act (no message,
   * no disk write); pending asks are dropped unsettled, as the code awaiting them is gone too.
   */
  halt(): void {
    if (!this.running) return;
    this.running = false;
    for (const cell of this.cells.values()) {
      cell.incarnation++;
      cell.status = 'stopped';
      cell.busy = false;
    }
    for (const p of this.asks.values()) p.timer.cancel();
    this.asks.clear();
  }

  private liveCell(ref: AnyRef): Cell | undefined {
    if (ref.nodeUid !== this.uid && ref.nodeUid !== '') return undefined;
    const cell = this.cells.get(ref.path);
    if (!cell || (ref.uid !== 0 && cell.uid !== ref.uid) || !cell.isAlive) return undefined;
    return cell;
  }

  // ---------------------------------------------------------------------------------------------
  // Watch

  /** @internal */
  watch(watcher: Cell, ref: AnyRef): void {
    const target = plainRef(ref);
    const key = refKey(target);
    if (watcher.watching?.has(key)) return;
    (watcher.watching ??= new Map()).set(key, target);
    if (target.node === this.name) {
      this.addWatcher(target, watcher.ref);
      return;
    }
    let byKey = this.remoteWatches.get(target.node);
    if (!byKey) this.remoteWatches.set(target.node, (byKey = new Map()));
    byKey.set(`${watcher.uid}|${key}`, { watcher, watchee: target });
    this.trySend(target.node, { kind: 'watch', watchee: target, watcher: watcher.ref }, isSystemPath(target.path));
  }

  /** @internal */
  unwatch(watcher: Cell, ref: AnyRef): void {
    const key = refKey(ref);
    const target = watcher.watching?.get(key);
    if (!target) return;
    watcher.watching!.delete(key);
    if (target.node === this.name) {
      const cell = this.liveCell(target);
      if (cell?.watchers) cell.watchers = cell.watchers.filter((w) => w.uid !== watcher.uid);
      return;
    }
    this.remoteWatches.get(target.node)?.delete(`${watcher.uid}|${key}`);
    this.trySend(target.node, { kind: 'unwatch', watchee: target, watcher: watcher.ref }, isSystemPath(target.path));
  }

  private addWatcher(watchee: AnyRef, watcher: AnyRef): void {
    const cell = this.liveCell(watchee);
    if (!cell) {
      if (watcher.node === this.name) this.signalTerminated(watcher, watchee, 'no-such-actor');
      else this.trySend(watcher.node, { kind: 'terminated', watchee, watcher, reason: 'no-such-actor' }, isSystemPath(watchee.path));
      return;
    }
    const watchers = (cell.watchers ??= []);
    const key = refKey(watcher);
    // A duplicated or repeated watch must not grow the list.
    if (!watchers.some((w) => refKey(w) === key)) watchers.push(plainRef(watcher));
  }

  /** Delivers `Terminated` to a local watcher that still watches `watchee`. */
  private signalTerminated(watcherRef: AnyRef, watchee: AnyRef, reason: TerminationReason): void {
    const watcher = this.liveCell(watcherRef);
    if (!watcher) return;
    const key = refKey(watchee);
    if (!watcher.watching?.delete(key)) return;
    if (watchee.node !== this.name) this.remoteWatches.get(watchee.node)?.delete(`${watcher.uid}|${key}`);
    const signal: Terminated = { type: 'terminated', ref: watchee, reason };
    this.deliverLocal(watcher.ref, signal, undefined, true);
  }

  private clearWatching(cell: Cell): void {
    if (!cell.watching) return;
    for (const target of [...cell.watching.values()]) this.unwatch(cell, target);
    cell.watching = null;
  }

  /**
   * The failure-detector interface: a membership plugin reports that another node is down (its
   * watched actors terminate with reason `node-down`) or up again. A report is not a quarantine:
   * refs to that node keep working, and a watcher may watch again.
   */
  /** Publishes a plugin's event (`ctx.publish`) on this node's stream. */
  publishCustom(topic: string, data: unknown): void {
    this.events.publish({ type: 'custom', node: this.name, atMs: this.now(), topic, data });
  }

  reportReachability(report: ReachabilityReport, from?: Cell): void {
    if (from !== undefined && !from.path.startsWith('/system/')) {
      throw new StarlingError('NOT_PERMITTED', `${refToString(from.ref)}: only actors under /system (failure-detector plugins) report reachability`);
    }
    this.events.publish({
      type: 'node-reachability',
      node: this.name,
      atMs: this.now(),
      subject: report.node,
      subjectUid: report.nodeUid,
      status: report.status,
    });
    if (report.status !== 'down') return;
    // Asks waiting on that node incarnation will never be answered: fail them now.
    for (const [path, p] of [...this.asks]) {
      if (p.targetNode !== report.node || (p.targetNodeUid !== '' && p.targetNodeUid !== report.nodeUid)) continue;
      this.asks.delete(path);
      p.timer.cancel();
      this.host.noteAsync();
      p.reject(new AskFailedError(p.target, 'node-down'));
    }
    // Watchers on that node incarnation will never hear a `terminated`: forget them.
    for (const cell of this.cells.values()) {
      if (cell.watchers?.some((w) => w.node === report.node && w.nodeUid === report.nodeUid)) {
        cell.watchers = cell.watchers.filter((w) => !(w.node === report.node && w.nodeUid === report.nodeUid));
      }
    }
    const byKey = this.remoteWatches.get(report.node);
    if (!byKey) return;
    for (const w of [...byKey.values()]) {
      if (w.watchee.nodeUid === report.nodeUid || w.watchee.nodeUid === '') {
        this.signalTerminated(w.watcher.ref, w.watchee, 'node-down');
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Ask

  /** Request/response through a temporary ref under `/temp`. */
  ask<Req, Res>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res> {
    if (!this.running) return Promise.reject(new StarlingError('SYSTEM_STOPPED', `node ${this.name} is not running`));
    const timeoutMs = options?.timeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(new InvalidArgumentError('INVALID_CONFIG', `ask needs a finite timeoutMs > 0, got ${String(timeoutMs)}`));
    }
    const uid = this.nextUid++;
    const path = `/temp/${uid.toString(36)}`;
    const replyTo: ActorRef<Res> = { node: this.name, nodeUid: this.uid, path, uid };
    const target = refToString(ref);
    return new Promise<Res>((resolve, reject) => {
      const timer = this.host.schedule(this.now() + timeoutMs, () => {
        if (this.asks.delete(path)) {
          this.host.noteAsync();
          reject(new AskTimeoutError(target, timeoutMs));
        }
      });
      this.asks.set(path, { uid, target, targetNode: ref.node, targetNodeUid: ref.nodeUid, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        const msg = make(replyTo);
        this.tell(ref, msg, { askReplyTo: replyTo });
      } catch (err) {
        this.asks.delete(path);
        timer.cancel();
        reject(err);
      }
    });
  }

  private completeAsk(to: AnyRef, msg: unknown): boolean {
    const pending = this.asks.get(to.path);
    if (!pending || pending.uid !== to.uid) return false;
    this.asks.delete(to.path);
    pending.timer.cancel();
    this.host.noteAsync();
    pending.resolve(msg);
    return true;
  }

  private failAsk(tempRef: AnyRef, target: AnyRef, reason: DeadLetterReason): void {
    const pending = this.asks.get(tempRef.path);
    if (!pending || pending.uid !== tempRef.uid) return;
    this.asks.delete(tempRef.path);
    pending.timer.cancel();
    this.host.noteAsync();
    pending.reject(new AskFailedError(refToString(target), reason));
  }

  private rejectAllAsks(reason: string): void {
    if (this.asks.size === 0) return;
    const pending = [...this.asks.values()];
    this.asks.clear();
    for (const p of pending) {
      p.timer.cancel();
      p.reject(new StarlingError('SYSTEM_STOPPED', `${reason} before ${p.target} replied`));
    }
    this.host.noteAsync();
  }

  /** A promise resolved after `ms` of runtime time. */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.host.schedule(this.now() + Math.max(0, ms), () => {
        this.host.noteAsync();
        resolve();
      });
    });
  }

  /** @internal */
  noteAsync(): void {
    this.host.noteAsync();
  }

  /** Runs work that leaves the runtime; see {@link NodeHost.external}. */
  external<T>(work: () => Promise<T>): Promise<T> {
    return this.host.external(work);
  }

  /** Messages waiting in the mailboxes of this node (a node far behind stops acknowledging its links). */
  get queued(): number {
    return this.queuedMessages;
  }

  /** Paths of actors whose async handler is in flight (diagnostics for a stalled simulation). */
  busyPaths(): string[] {
    const out: string[] = [];
    for (const cell of this.cells.values()) if (cell.busy) out.push(cell.path);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  /** @internal */
  startTimer(cell: Cell, key: string, afterMs: number, intervalMs: number, msg: unknown, repeating: boolean): void {
    if (typeof afterMs !== 'number' || !Number.isFinite(afterMs) || afterMs < 0) {
      throw new InvalidArgumentError('INVALID_CONFIG', `timer '${key}': delay must be a finite number of ms >= 0, got ${String(afterMs)}`);
    }
    if (repeating && !(intervalMs > 0 && Number.isFinite(intervalMs))) {
      throw new InvalidArgumentError('INVALID_CONFIG', `timer '${key}': a repeating interval must be a finite number of ms > 0, got ${String(intervalMs)}`);
    }
    this.cancelTimer(cell, key);
    const gen = ++cell.timerGen;
    const timers = (cell.timers ??= new Map());
    const entry = { gen, msg, intervalMs, cancel: () => {} };
    timers.set(key, entry);
    this.armTimer(cell, key, entry, Math.max(0, afterMs));
  }

  private armTimer(cell: Cell, key: string, entry: { gen: number; msg: unknown; intervalMs: number; cancel: () => void }, afterMs: number): void {
    const handle = this.host.schedule(this.now() + afterMs, () => {
      if (cell.timers?.get(key) !== entry || !cell.isAlive) return;
      this.deliverLocal(cell.ref, entry.msg, { timer: { key, gen: entry.gen } }, true);
      if (entry.intervalMs > 0) this.armTimer(cell, key, entry, entry.intervalMs);
    });
    entry.cancel = () => handle.cancel();
  }

  /** @internal */
  cancelTimer(cell: Cell, key: string): void {
    const t = cell.timers?.get(key);
    if (!t) return;
    t.cancel();
    cell.timers!.delete(key);
  }

  private clearTimers(cell: Cell): void {
    if (!cell.timers) return;
    for (const t of cell.timers.values()) t.cancel();
    cell.timers = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection

  /** A snapshot of this node's counters. */
  stats(): SystemCounters {
    return { ...this.counters, deadLetters: { ...this.counters.deadLetters }, sentByType: Object.fromEntries(this.sentByType) };
  }

  /** Mailbox counters of the live actor at `path`, or undefined. */
  actorStats(path: string): ReturnType<Mailbox['counters']> | undefined {
    return this.cells.get(path)?.mailbox.counters();
  }

  /** Paths of the live actors, guardians included, sorted. */
  paths(): string[] {
    return [...this.cells.keys()].sort();
  }

  private assertRunning(): void {
    if (!this.running) throw new StarlingError('SYSTEM_STOPPED', `node ${this.name} is not running`);
  }
}
