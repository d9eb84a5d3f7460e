/**
 * The in-process cluster: every node an actor system in this thread, all of them on one event
 * loop. On a virtual clock it is the `simulation` runtime (a seed replays the run message for
 * message); on the real clock it is the `local` runtime. Messages between nodes are encoded by the
 * codec at the `tell`, judged by the network model, and decoded at delivery, exactly as between
 * threads.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ActorDef, AnyActorDef, AskOptions, ReplyOf, SpawnOptions } from '../actor.ts';
import type { Cluster, NetworkControl, NodeState, NodeStats, ScheduleHandle, SimulationCluster } from '../cluster.ts';
import { Codec } from '../codec.ts';
import { HOST_NODE, type ResolvedConfig, type RuntimeKind } from '../config.ts';
import { Disk } from '../disk.ts';
import { type Envelope, envelopeTarget } from '../envelope.ts';
import { InvalidArgumentError, StarlingError } from '../errors.ts';
import { EventStream, type NetworkDropCause, type RuntimeEvent } from '../events.ts';
import type { MailboxCounters } from '../mailbox.ts';
import { NetworkModel } from '../network/model.ts';
import { describeRules } from '../network/rules.ts';
import { type FaultSchedule, validateSchedule } from '../network/schedule.ts';
import type { LoadedPlugin } from '../plugin.ts';
import { createRandom, randomHex8, type Random } from '../random.ts';
import { type ActorRef, type AnyRef, refToString } from '../ref.ts';
import { admitRestart, newRestartHistory, type RestartHistory } from '../supervisor.ts';
import { ActorSystem, type Cancellable, emptyCounters, type NodeHost } from '../system.ts';
import { applyFault, laneScheduling, networkControl, setupPlugins, withTimeout } from './host-common.ts';
import { EventLoop, Lane } from './loop.ts';
import { RealTimePump } from './pump.ts';

/** Messages one drain turn handles before other events at the same instant get their turn. */
const DRAIN_BUDGET = 4096;

/** Post options of a message on the wire: it survives a kill of its target and is bounded while the target is paused. */
const MESSAGE_EVENT = { survivesKill: true, isMessage: true } as const;

/** A message on the wire: what a delivery event carries. */
interface Delivery {
  readonly from: string;
  readonly slot: NodeSlot;
  readonly bytes: Uint8Array;
  readonly sentAtMs: number;
}

interface NodeSlot {
  readonly name: string;
  readonly lane: Lane;
  system: ActorSystem | null;
  disk: Disk;
  starts: number;
  readonly restarts: RestartHistory;
  restartTimer: Cancellable | null;
}

const yieldToMacrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Events run between two yields to the host's macrotasks in a long virtual run. */
const EVENTS_PER_YIELD = 4096;

/** FNV-1a over bytes: a cheap fingerprint of a payload for the trace. */
function hashBytes(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export class InProcessCluster implements Cluster {
  readonly events = new EventStream();
  readonly network: NetworkControl;
  readonly nodes: readonly string[];
  private readonly loop: EventLoop;
  private readonly pump: RealTimePump | undefined;
  private readonly model: NetworkModel;
  private readonly codec: Codec;
  private readonly slots = new Map<string, NodeSlot>();
  private readonly uidRandom: Random;
  private readonly hostSlot: NodeSlot;
  private readonly hostSystem: ActorSystem;
  private asyncDirty = false;
  /** Work outside the runtime that simulation waits for before moving on (see `ctx.external`). */
  private readonly externals = new Set<Promise<unknown>>();
  private stopped = false;
  private traceHash: Hash | null = null;
  private readonly traceBuffer: string[] = [];

  constructor(
    readonly config: ResolvedConfig,
    private readonly plugins: readonly LoadedPlugin[],
  ) {
    this.nodes = config.nodes;
    if (config.runtime === 'simulation') {
      this.loop = new EventLoop(undefined);
      this.pump = undefined;
    } else {
      const origin = performance.now();
      this.loop = new EventLoop(() => performance.now() - origin);
      this.pump = new RealTimePump(this.loop);
    }
    this.model = new NetworkModel(config.nodes, config.seed, config.network);
    this.codec = new Codec({ maxMessageBytes: config.maxMessageBytes });
    this.uidRandom = createRandom(config.seed, 'node-uids');
    if (config.trace) {
      this.traceHash = createHash('sha256');
      this.events.on('event', (e) => this.traceEvent(e));
    }
    this.network = this.networkControl();
    this.hostSlot = this.newSlot(HOST_NODE);
    this.hostSystem = this.bootSystem(this.hostSlot, false);
    this.hostSlot.system = this.hostSystem;
    for (const name of config.nodes) this.slots.set(name, this.newSlot(name));
  }

  get runtime(): RuntimeKind {
    return this.config.runtime;
  }

  /** Boots every node. Throws whatever a plugin's setup throws. */
  start(): void {
    for (const slot of this.slots.values()) this.startNode(slot, true);
  }

  private newSlot(name: string): NodeSlot {
    return {
      name,
      lane: new Lane(name, this.config.pausedQueueLimit, (d) => this.heldOverflow(d as Delivery)),
      system: null,
      disk: new Disk(),
      starts: 0,
      restarts: newRestartHistory(),
      restartTimer: null,
    };
  }

  now(): number {
    return this.loop.now();
  }

  // -----------------------------------------------------------------------------------------------
  // Node lifecycle

  private bootSystem(slot: NodeSlot, withPlugins: boolean): ActorSystem {
    slot.starts++;
    const uid = randomHex8(this.uidRandom);
    const random = createRandom(this.config.seed, `node:${slot.name}:${slot.starts}`);
    let system: ActorSystem | null = null;
    const lane = slot.lane;
    const loop = this.loop;
    const isCurrent = (): boolean => system !== null && slot.system === system && system.isRunning;
    // On the real clock a drain turn also ends after a few ms, so a slow actor cannot hold the
    // event loop; in simulation it must not look at the wall clock, or a run would not replay.
    const shouldYield = loop.isVirtual
      ? undefined
      : (() => {
          let deadline = 0;
          return { start: () => (deadline = performance.now() + 4), check: () => performance.now() > deadline };
        })();
    const drain = (): void => {
      if (!isCurrent()) return;
      if (shouldYield) {
        shouldYield.start();
        system!.drain(DRAIN_BUDGET, shouldYield.check);
      } else {
        system!.drain(DRAIN_BUDGET);
      }
    };
    const host: NodeHost = {
      ...laneScheduling(loop, lane, drain),
      send: (toNode, env) => {
        // Encode first: an unencodable message throws to the sender even from a halted node.
        const bytes = this.codec.encode(env);
        if (!isCurrent()) return;
        this.route(slot.name, toNode, env, bytes);
      },
      noteAsync: () => {
        this.asyncDirty = true;
      },
      nodeFailed: (error) => {
        if (slot.system === system) this.nodeFailed(slot, error);
      },
      external: (work) => this.external(work),
    };
    system = new ActorSystem({
      name: slot.name,
      uid,
      host,
      random,
      disk: slot.disk,
      events: this.events,
      maxMessageAgeMs: this.config.maxMessageAgeMs,
      throughput: this.config.throughput,
      userSupervision: this.config.userGuardian,
    });
    // Kept for the plugin loop below; `system` is only reassigned once.
    const sys = system;
    if (withPlugins) {
      try {
        setupPlugins(sys, this.plugins, { nodeName: slot.name, nodeUid: uid, clusterNodes: this.nodes, seed: this.config.seed, maxMessageAgeMs: this.config.maxMessageAgeMs });
      } catch (err) {
        // A half-built node must not keep running: halt it before anyone sees it.
        sys.halt();
        this.loop.kill(slot.lane);
        this.events.publish({ type: 'node-stopped', node: slot.name, atMs: this.now(), nodeUid: uid, reason: 'escalated', error: err });
        throw err;
      }
    }
    return sys;
  }

  /** Boots a node. A plugin whose setup throws fails the start: rethrown at cluster start, else retried under the restart policy. */
  private startNode(slot: NodeSlot, rethrow: boolean): void {
    slot.restartTimer?.cancel();
    slot.restartTimer = null;
    try {
      slot.system = this.bootSystem(slot, true);
    } catch (err) {
      slot.system = null;
      if (rethrow) throw err;
      this.scheduleNodeRestart(slot);
    }
  }

  private haltNode(slot: NodeSlot, reason: 'killed' | 'escalated', error?: unknown): void {
    const sys = slot.system;
    if (!sys) return;
    slot.system = null;
    sys.halt();
    this.loop.kill(slot.lane);
    // A killed node is not paused any more: release what was held, to meet the dead node.
    if (slot.lane.paused) this.loop.resume(slot.lane);
    this.events.publish({
      type: 'node-stopped',
      node: slot.name,
      atMs: this.now(),
      nodeUid: sys.uid,
      reason,
      ...(error !== undefined ? { error } : {}),
    });
    if (this.config.hostFailureDetector) {
      // The host saw the node die: as a perfect failure detector it tells every other node.
      for (const other of this.slots.values()) {
        if (other !== slot && other.system?.isRunning) other.system.reportReachability({ node: slot.name, nodeUid: sys.uid, status: 'down' });
      }
    }
  }

  private nodeFailed(slot: NodeSlot, error: unknown): void {
    this.haltNode(slot, 'escalated', error);
    this.scheduleNodeRestart(slot);
  }

  /** Restarts a failed node after a backoff, unless it failed too often (then it stays down). */
  private scheduleNodeRestart(slot: NodeSlot): void {
    const policy = this.config.nodeRestart;
    const strategy = { maxRestarts: policy.maxRestarts, withinMs: policy.withinMs };
    if (!admitRestart(slot.restarts, { ...strategy, kind: 'one-for-one', decide: () => 'restart', backoff: { minMs: 0, maxMs: 0, randomFactor: 0, resetAfterMs: 0 } }, this.now())) {
      return; // Past the restart limit: the node stays down, as its node-stopped event says.
    }
    const attempt = slot.restarts.times.length - 1;
    const delayMs = Math.min(policy.maxBackoffMs, policy.minBackoffMs * 2 ** attempt);
    const ev = this.loop.post(this.now() + delayMs, null, () => {
      slot.restartTimer = null;
      if (slot.system === null && !this.stopped) this.startNode(slot, false);
    });
    slot.restartTimer = { cancel: () => this.loop.cancel(ev) };
  }

  private slot(node: string): NodeSlot {
    const slot = this.slots.get(node);
    if (!slot) throw new InvalidArgumentError('UNKNOWN_NODE', `no node named '${node}' (nodes: ${this.nodes.join(', ')})`);
    return slot;
  }

  /** @internal The live system of a node (single-node facades use it). */
  runningSystem(node: string): ActorSystem {
    const sys = this.slot(node).system;
    if (!sys) throw new StarlingError('NODE_NOT_RUNNING', `node ${node} is down`);
    return sys;
  }

  nodeUid(node: string): string | undefined {
    return this.slot(node).system?.uid;
  }

  nodeState(node: string): NodeState {
    const slot = this.slot(node);
    if (!slot.system) return 'down';
    return slot.lane.paused ? 'paused' : 'running';
  }

  async kill(node: string): Promise<void> {
    const slot = this.slot(node);
    // A kill is final until the host restarts the node: no automatic restart may revive it.
    slot.restartTimer?.cancel();
    slot.restartTimer = null;
    this.haltNode(slot, 'killed');
  }

  async restart(node: string): Promise<void> {
    const slot = this.slot(node);
    this.haltNode(slot, 'killed');
    this.startNode(slot, false);
  }

  async restartEmpty(node: string): Promise<void> {
    const slot = this.slot(node);
    this.haltNode(slot, 'killed');
    slot.disk = new Disk();
    this.startNode(slot, false);
  }

  async pause(node: string): Promise<void> {
    const slot = this.slot(node);
    if (!slot.system || slot.lane.paused) return;
    this.loop.pause(slot.lane);
    this.events.publish({ type: 'node-paused', node, atMs: this.now() });
  }

  async resume(node: string): Promise<void> {
    const slot = this.slot(node);
    if (!slot.lane.paused) return;
    this.loop.resume(slot.lane);
    this.events.publish({ type: 'node-resumed', node, atMs: this.now() });
  }

  // -----------------------------------------------------------------------------------------------
  // Messages

  private route(from: string, toNode: string, env: Envelope, bytes: Uint8Array): void {
    const sentAtMs = this.loop.now();
    const slot = toNode === HOST_NODE ? this.hostSlot : this.slots.get(toNode);
    if (!slot) {
      this.networkDrop(from, toNode, env, 'unknown-node');
      return;
    }
    const delivery: Delivery = { from, slot, bytes, sentAtMs };
    if (from === HOST_NODE || toNode === HOST_NODE) {
      // The host's endpoint is the test harness, not a cluster member: its links carry no faults.
      this.loop.post(sentAtMs, slot.lane, this.deliverFn, delivery, MESSAGE_EVENT);
      return;
    }
    const decision = this.model.decide(from, toNode, sentAtMs, bytes.length);
    if (decision.kind === 'drop') {
      this.networkDrop(from, toNode, env, decision.cause);
      return;
    }
    for (const at of decision.atMs) this.loop.post(at, slot.lane, this.deliverFn, delivery, MESSAGE_EVENT);
  }

  private readonly deliverFn = (d: Delivery): void => this.deliver(d);

  /** A paused node's hold queue was full. */
  private heldOverflow(d: Delivery): void {
    const to = d.slot.name;
    if (d.from !== HOST_NODE && to !== HOST_NODE) this.model.noteDropped(d.from, to, 'queue-full');
    this.networkDrop(d.from, to, this.codec.decode(d.bytes) as Envelope, 'queue-full');
  }

  private deliver(d: Delivery): void {
    const { from, slot, bytes, sentAtMs } = d;
    const to = slot.name;
    const faulty = from !== HOST_NODE && to !== HOST_NODE;
    if (faulty) {
      const cut = this.model.cutNow(from, to);
      if (cut !== null) {
        this.model.noteDropped(from, to, cut);
        this.networkDrop(from, to, this.codec.decode(bytes) as Envelope, cut);
        return;
      }
    }
    const sys = slot.system;
    if (!sys || !sys.isRunning) {
      if (faulty) this.model.noteDropped(from, to, 'node-down');
      this.networkDrop(from, to, this.codec.decode(bytes) as Envelope, 'node-down');
      return;
    }
    const env = this.codec.decode(bytes) as Envelope;
    if (this.traceHash) {
      this.traceLine(`${this.now()} deliver ${from}->${to} ${env.kind} ${refToString(envelopeTarget(env))} ${bytes.length}B #${hashBytes(bytes)}`);
    }
    const accepted = sys.receive(env, sentAtMs);
    if (faulty && accepted) this.model.noteDelivered(from, to);
  }

  /** A message the network did not deliver: a dead letter on the sender's node. */
  private networkDrop(from: string, to: string, env: Envelope, cause: NetworkDropCause): void {
    if (env.kind !== 'user') return; // The runtime's own signals are lost silently, as on a real network.
    const sender = from === HOST_NODE ? this.hostSystem : this.slots.get(from)?.system;
    if (sender) {
      // No ask notification: a lost request is silent, the asker times out (as on a real network).
      sender.deadLetter('dropped-by-network', env.to, env.msg, undefined, { cause, from });
    } else {
      this.events.publish({ type: 'dead-letter', node: from, atMs: this.now(), reason: 'dropped-by-network', to: env.to, msg: env.msg, cause, from });
    }
    void to;
  }

  // -----------------------------------------------------------------------------------------------
  // Host endpoint

  async spawn<M, S, P>(node: string, def: ActorDef<M, S, P> | string, props: P, options?: SpawnOptions): Promise<ActorRef<M>> {
    const sys = this.unpausedSystem(node);
    const resolved: AnyActorDef = sys.lookupDef(typeof def === 'string' ? def : def.name);
    if (typeof def !== 'string' && resolved !== def) {
      throw new InvalidArgumentError('UNKNOWN_ACTOR_TYPE', `the definition named '${def.name}' on ${node} is a different object`);
    }
    return sys.spawn('user', resolved, props, options) as ActorRef<M>;
  }

  tell<M>(ref: ActorRef<M>, msg: M): void {
    this.hostSystem.tell(ref, msg, undefined);
  }

  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res> {
    return this.hostSystem.ask(ref, make, options);
  }

  async stopActor(ref: AnyRef): Promise<void> {
    if (!this.slots.get(ref.node)?.system) return;
    this.unpausedSystem(ref.node).stopActor(ref);
  }

  /** A paused node runs nothing, so the host cannot start or stop actors on it either. */
  private unpausedSystem(node: string): ActorSystem {
    const sys = this.runningSystem(node);
    if (this.slot(node).lane.paused) throw new StarlingError('NODE_NOT_RUNNING', `node ${node} is paused`);
    return sys;
  }

  async stats(node: string): Promise<NodeStats> {
    const slot = this.slot(node);
    const sys = slot.system;
    const counters = sys?.stats() ?? emptyCounters();
    return { ...counters, node, nodeUid: sys?.uid, state: this.nodeState(node), starts: slot.starts };
  }

  async actorStats(ref: AnyRef): Promise<MailboxCounters | undefined> {
    const sys = this.slots.get(ref.node)?.system;
    if (!sys || (ref.nodeUid !== '' && ref.nodeUid !== sys.uid)) return undefined;
    return sys.actorStats(ref.path);
  }

  // -----------------------------------------------------------------------------------------------
  // Network control

  private networkControl(): NetworkControl {
    const model = this.model;
    return networkControl(
      {
        rules: () => model.rules,
        epoch: () => model.epoch,
        change: async (partial) => {
          const epoch = model.update(partial);
          this.events.publish({ type: 'network-changed', node: HOST_NODE, atMs: this.now(), epoch, description: describeRules(model.rules) });
        },
        links: async () => model.linkCounters(),
      },
      this.nodes,
      this.config.network,
    );
  }

  applySchedule(schedule: FaultSchedule): ScheduleHandle {
    // Validate everything up front: a schedule that names an unknown node fails here, typed, not midway.
    validateSchedule(schedule, this.nodes);
    const start = this.now();
    const errors: Error[] = [];
    const events = schedule.faults.map((tf) =>
      this.loop.post(start + tf.atMs, null, () => {
        if (this.traceHash) this.traceLine(`${this.now()} fault ${JSON.stringify(tf.fault)}`);
        applyFault(this, tf.fault).catch((err: unknown) => errors.push(err as Error));
      }),
    );
    const last = events[events.length - 1];
    const done = last
      ? new Promise<void>((resolve) => {
          this.loop.post(last.atMs, null, () => {
            this.asyncDirty = true;
            resolve();
          });
        })
      : Promise.resolve();
    return {
      cancel: () => {
        for (const ev of events) this.loop.cancel(ev);
      },
      done,
      errors,
    };
  }

  private external<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    if (!this.loop.isVirtual) return p;
    this.externals.add(p);
    const done = (): void => {
      this.externals.delete(p);
      this.asyncDirty = true;
    };
    p.then(done, done);
    return p;
  }

  // -----------------------------------------------------------------------------------------------
  // Driving time

  async step(): Promise<boolean> {
    this.assertVirtual('step');
    const ran = this.loop.runNext(Infinity);
    await this.settleMicrotasks();
    return ran;
  }

  private assertVirtual(what: string): void {
    if (!this.loop.isVirtual) throw new StarlingError('INVALID_CONFIG', `${what}() drives virtual time: simulation only`);
  }

  private async settleMicrotasks(): Promise<void> {
    if (this.asyncDirty) {
      this.asyncDirty = false;
      await yieldToMacrotasks();
    }
  }

  /**
   * Runs events until `stop()` holds or the next event lies beyond `deadlineMs`. Async
   * continuations run between events (the loop yields to them whenever the runtime settled a
   * promise), so an awaited ask resolves at the virtual instant of its reply.
   */
  private async runVirtual(stop: () => boolean, deadlineMs: number): Promise<boolean> {
    let sinceYield = 0;
    while (true) {
      if (stop()) return true;
      if (this.externals.size > 0) {
        // Virtual time stands still while work outside the runtime runs.
        await Promise.allSettled([...this.externals]);
        await yieldToMacrotasks();
        continue;
      }
      if (!this.loop.runNext(deadlineMs)) {
        // Idle or past the deadline. A continuation may still be pending: let it run, then look again.
        this.asyncDirty = false;
        await yieldToMacrotasks();
        if (stop()) return true;
        if (this.loop.runNext(deadlineMs)) continue;
        this.loop.advanceTo(deadlineMs);
        return stop();
      }
      if (this.asyncDirty) {
        this.asyncDirty = false;
        await yieldToMacrotasks();
        sinceYield = 0;
      } else if (++sinceYield >= EVENTS_PER_YIELD) {
        // Keep the host process responsive (test timeouts, signals) during long runs. Counted in
        // events, never in wall-clock time: host continuations that run at a yield must run at the
        // same point of every replay of the seed.
        sinceYield = 0;
        await yieldToMacrotasks();
      }
    }
  }

  async until<T>(promise: Promise<T>, options?: { timeoutMs?: number }): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? 60_000;
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    if (this.loop.isVirtual) {
      // A promise that settles without the clock (host-side work, or one already settled) must
      // settle before virtual time moves: let its continuations run first.
      await yieldToMacrotasks();
      await this.runVirtual(() => settled, this.now() + timeoutMs);
      if (!settled) {
        const busy = [...this.slots.values()].flatMap((sl) => (sl.system ? sl.system.busyPaths().map((p) => `${sl.name}${p}`) : []));
        const hint = busy.length
          ? `; async handlers still in flight: ${busy.join(', ')} (a handler that awaits a promise the runtime does not own stalls the simulation: use ctx.external)`
          : '';
        throw new StarlingError('TIMEOUT', `promise did not settle within ${timeoutMs} ms of virtual time (seed ${this.config.seed})${hint}`);
      }
      return tracked;
    }
    return withTimeout(tracked, timeoutMs);
  }

  async runFor(ms: number): Promise<void> {
    if (this.loop.isVirtual) {
      await this.runVirtual(() => false, this.now() + ms);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async runUntil(condition: () => boolean | Promise<boolean>, options?: { timeoutMs?: number }): Promise<boolean> {
    const timeoutMs = options?.timeoutMs ?? 60_000;
    if (this.loop.isVirtual) {
      const deadline = this.now() + timeoutMs;
      // A synchronous condition is checked after every event; an async one between slices of events.
      let sync: boolean | undefined;
      const first = condition();
      if (typeof first === 'boolean') {
        if (first) return true;
        return this.runVirtual(() => condition() as boolean, deadline);
      }
      if (await first) return true;
      for (;;) {
        await this.runVirtual(() => false, Math.min(deadline, this.now() + 1));
        sync = await condition();
        if (sync) return true;
        if (this.now() >= deadline) return false;
      }
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const result = condition();
      if (typeof result === 'boolean') return this.pump!.waitFor(condition as () => boolean, Math.max(0, deadline - performance.now()));
      if (await result) return true;
      if (performance.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const slot of this.slots.values()) {
      slot.restartTimer?.cancel();
      const sys = slot.system;
      if (!sys) continue;
      sys.shutdown();
      slot.system = null;
      this.loop.kill(slot.lane);
      this.events.publish({ type: 'node-stopped', node: slot.name, atMs: this.now(), nodeUid: sys.uid, reason: 'stopped' });
    }
    this.hostSystem.shutdown();
    this.pump?.stop();
  }

  // -----------------------------------------------------------------------------------------------
  // Trace

  private traceLine(line: string): void {
    this.traceHash!.update(line);
    this.traceHash!.update('\n');
    this.traceBuffer.push(line);
  }

  private traceEvent(e: RuntimeEvent): void {
    const parts: string[] = [String(e.atMs), e.type, e.node];
    switch (e.type) {
      case 'actor-started':
      case 'actor-stopped':
      case 'actor-restarted':
        parts.push(refToString(e.ref));
        break;
      case 'actor-failed':
        parts.push(refToString(e.ref), e.phase, e.directive, describeError(e.error));
        break;
      case 'dead-letter':
        parts.push(e.reason, refToString(e.to), e.cause ?? '');
        break;
      case 'node-started':
      case 'node-stopped':
        parts.push(e.nodeUid);
        break;
      case 'node-reachability':
        parts.push(e.subject, e.subjectUid, e.status);
        break;
      case 'network-changed':
        parts.push(String(e.epoch), e.description);
        break;
      case 'custom':
        parts.push(e.topic, JSON.stringify(e.data) ?? '');
        break;
      default:
        break;
    }
    this.traceLine(parts.join(' '));
  }

  traceDigest(): string {
    if (!this.traceHash) throw new StarlingError('INVALID_CONFIG', 'start the cluster with trace: true to read its trace');
    return this.traceHash.copy().digest('hex');
  }

  traceLines(): readonly string[] {
    return this.traceBuffer;
  }
}

/** Narrowing helper for code that holds a {@link Cluster}. */
export function isSimulation(cluster: Cluster): cluster is SimulationCluster {
  return cluster.runtime === 'simulation';
}
