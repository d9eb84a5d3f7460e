/**
 * The threads runtime's host: one worker thread per node, a direct mesh of MessagePorts between
 * them (the main thread is an endpoint on the mesh, not a relay), the fault model's rules in shared
 * memory, comlink for control, and supervision of the workers themselves.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type Remote, transfer, wrap } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { ActorDef, AskOptions, ReplyOf, SpawnOptions } from '../../actor.ts';
import type { Cluster, NetworkControl, NodeState, NodeStats, ScheduleHandle } from '../../cluster.ts';
import { HOST_NODE, type ResolvedConfig, type RuntimeKind } from '../../config.ts';
import { Disk } from '../../disk.ts';
import type { Envelope } from '../../envelope.ts';
import { InvalidArgumentError, StarlingError } from '../../errors.ts';
import { EventStream, type NodeStopReason, type RuntimeEvent } from '../../events.ts';
import type { MailboxCounters } from '../../mailbox.ts';
import { type LinkCounters, newLinkCounters } from '../../network/model.ts';
import { describeRules, type NetworkRules, PERFECT_NETWORK, validateRules } from '../../network/rules.ts';
import { type FaultSchedule, validateSchedule } from '../../network/schedule.ts';
import { createRandom, randomHex8, type Random } from '../../random.ts';
import type { ActorRef, AnyRef } from '../../ref.ts';
import { admitRestart, newRestartHistory, type RestartHistory } from '../../supervisor.ts';
import { ActorSystem, emptyCounters, type NodeHost } from '../../system.ts';
import { applyFault, laneScheduling, networkControl, withTimeout } from '../host-common.ts';
import { EventLoop, Lane } from '../loop.ts';
import { RealTimePump } from '../pump.ts';
import { fromWireError, type NodeControl, type Result, unwrap, type WireError, type WorkerLinkCounters, type WorkerNotice } from './control.ts';
import { Router, SYSTEM_LANE, USER_LANE } from './link.ts';
import { SharedRules } from './shared-rules.ts';
import type { NodeWorkerData } from './worker.ts';

interface WorkerSlot {
  readonly name: string;
  readonly index: number;
  /** Bumped by every launch, kill and stop: a launch that finds its generation changed aborts. */
  generation: number;
  /** `running` once the worker is ready and wired to the host (peers are wired right after). */
  state: 'down' | 'starting' | 'running';
  worker: Worker | null;
  control: Remote<NodeControl> | null;
  uid: string | undefined;
  starts: number;
  paused: boolean;
  /** Set before the host terminates the worker itself, so its exit is not taken for a crash. */
  expectedExit: boolean;
  /** Why a worker that is going down went down. */
  failure: { reason: NodeStopReason; error?: unknown } | null;
  exited: Promise<void> | null;
  /** Rejects when the current worker exits: every control call races it, so none hangs on a dead worker. */
  gone: Promise<never> | null;
  readonly restarts: RestartHistory;
  restartTimer: NodeJS.Timeout | null;
}

/** A launch abandoned because its node was killed, restarted again, or the cluster stopped. */
class LaunchAborted extends Error {
  constructor(node: string) {
    super(`launch of ${node} abandoned`);
  }
}

/** Control calls that only read (counters) give up on a worker stuck in a synchronous loop. */
const READ_TIMEOUT_MS = 2_000;
/** A node that is not ready within this long (a plugin import that never settles) fails its start. */
const START_TIMEOUT_MS = 60_000;

/** How the host's worker file is found: TypeScript sources through a tsx bootstrap, or the build. */
function workerEntry(): { file: URL; entry: string | undefined; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { file: new URL('./bootstrap.mjs', here), entry: new URL('./worker.ts', here).href, execArgv: ['--conditions=source'] };
  }
  return { file: new URL('./worker.js', here), entry: undefined, execArgv: [] };
}

function rehydrate(e: RuntimeEvent): RuntimeEvent {
  if ('error' in e && e.error && typeof e.error === 'object' && 'message' in (e.error as object)) {
    return { ...e, error: fromWireError(e.error as WireError) } as RuntimeEvent;
  }
  return e;
}

/** How long `stop()` waits for a node's stop hooks before terminating its worker. */
const SHUTDOWN_WAIT_MS = 5_000;

export class ThreadsCluster implements Cluster {
  readonly runtime: RuntimeKind = 'threads';
  readonly events = new EventStream();
  readonly network: NetworkControl;
  readonly nodes: readonly string[];
  private readonly shared: SharedRules;
  private rules: NetworkRules;
  private epochValue = 0;
  private readonly originMs = performance.timeOrigin + performance.now();
  private readonly slots = new Map<string, WorkerSlot>();
  private readonly uidRandom: Random;
  private readonly loop: EventLoop;
  private readonly pump: RealTimePump;
  private readonly router: Router;
  private readonly hostSystem: ActorSystem;
  private stopped = false;
  /** Timers of applied schedules, cancelled by `stop()`. */
  private readonly scheduleTimers = new Set<NodeJS.Timeout>();
  /** Link counters of worker incarnations that are gone (snapshotted when the host ended them). */
  private readonly retiredLinks: WorkerLinkCounters[] = [];

  constructor(readonly config: ResolvedConfig) {
    this.nodes = config.nodes;
    this.rules = { ...PERFECT_NETWORK, ...config.network };
    validateRules(this.rules, this.nodes);
    this.shared = SharedRules.create(this.nodes.length, this.rules);
    this.epochValue = this.shared.epoch();
    this.uidRandom = createRandom(config.seed, 'node-uids');
    this.nodes.forEach((name, index) =>
      this.slots.set(name, {
        name,
        index,
        generation: 0,
        state: 'down',
        worker: null,
        control: null,
        uid: undefined,
        starts: 0,
        paused: false,
        expectedExit: false,
        failure: null,
        exited: null,
        gone: null,
        restarts: newRestartHistory(),
        restartTimer: null,
      }),
    );
    // The host's own endpoint: an actor system on the main thread, for tell and ask from outside.
    const clockOffset = performance.timeOrigin - this.originMs;
    this.loop = new EventLoop(() => performance.now() + clockOffset);
    this.pump = new RealTimePump(this.loop);
    const lane = new Lane(HOST_NODE, Number.MAX_SAFE_INTEGER, () => {});
    this.router = new Router(
      HOST_NODE,
      {
        userCapacity: config.threads.userLinkCapacity,
        userCapacityBytes: config.threads.userLinkBytes,
        systemCapacity: config.threads.systemLinkCapacity,
        maxMessageBytes: config.maxMessageBytes,
      },
      {
        onBatch: (batch) => {
          this.loop.post(this.loop.now(), lane, () => {
            for (const env of batch.envs) this.hostSystem.receive(env, batch.sentAtMs);
            this.router.consumed(batch, batch.envs.length, batch.bytes);
          });
        },
        around: (fn) => this.pump.hold(fn),
        onBatchEnd: () => this.pump.runNow(),
      },
    );
    this.pump.afterSlice = () => this.router.flush();
    const host: NodeHost = {
      ...laneScheduling(this.loop, lane, () => this.hostSystem.drain(4096)),
      send: (toNode, env: Envelope, systemLane) => {
        const outcome = this.router.send(toNode, env, this.loop.now(), systemLane ? SYSTEM_LANE : USER_LANE);
        if (outcome === 'sent' || env.kind !== 'user') return;
        const reason = outcome === 'link-full' ? 'link-full' : 'dropped-by-network';
        this.hostSystem.deadLetter(reason, env.to, env.msg, undefined, outcome === 'no-link' ? { cause: this.slots.has(toNode) ? 'node-down' : 'unknown-node' } : undefined);
      },
      noteAsync: () => {},
      nodeFailed: () => {},
      external: (work) => work(),
    };
    this.hostSystem = new ActorSystem({
      name: HOST_NODE,
      uid: randomHex8(this.uidRandom),
      host,
      random: createRandom(config.seed, 'host'),
      disk: new Disk(),
      events: this.events,
      maxMessageAgeMs: config.maxMessageAgeMs,
    });
    this.network = this.networkControl();
  }

  now(): number {
    return this.loop.now();
  }

  // -----------------------------------------------------------------------------------------------
  // Workers

  /** Starts every node; rejects (after stopping what started) if one fails to start. */
  async start(): Promise<void> {
    const live = [...this.slots.values()];
    // One channel pair per pair of nodes, and one per node to the host's endpoint.
    const peers = new Map<string, Record<string, [MessagePort, MessagePort]>>(live.map((s) => [s.name, {}]));
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) {
        const sys = new MessageChannel();
        const user = new MessageChannel();
        peers.get(live[i]!.name)![live[j]!.name] = [sys.port1, user.port1];
        peers.get(live[j]!.name)![live[i]!.name] = [sys.port2, user.port2];
      }
    }
    const results = await Promise.allSettled(live.map((slot) => this.launch(slot, peers.get(slot.name)!, ++slot.generation)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  /**
   * Starts a worker for `slot` with ports to `peers` (plus a fresh pair to the host's endpoint).
   * Aborts, terminating what it started, if the slot's generation moves on (a kill, another
   * restart) or the cluster stops while it waits.
   */
  private async launch(slot: WorkerSlot, peers: Record<string, [MessagePort, MessagePort]>, generation: number): Promise<void> {
    if (this.stopped || slot.generation !== generation) throw new LaunchAborted(slot.name);
    slot.starts++;
    slot.state = 'starting';
    slot.expectedExit = false;
    slot.failure = null;
    slot.paused = false;
    this.shared.resetSlot(slot.index);
    const uid = randomHex8(this.uidRandom);
    const control = new MessageChannel();
    const events = new MessageChannel();
    const hostSys = new MessageChannel();
    const hostUser = new MessageChannel();
    this.router.connect(slot.name, hostSys.port1, hostUser.port1);
    const allPeers: Record<string, [MessagePort, MessagePort]> = { ...peers, [HOST_NODE]: [hostSys.port2, hostUser.port2] };
    const { file, entry, execArgv } = workerEntry();
    const data: NodeWorkerData & { entry?: string } = {
      node: slot.name,
      slot: slot.index,
      uid,
      starts: slot.starts,
      config: this.config,
      rules: this.shared.buffer,
      slots: this.shared.slots,
      originMs: this.originMs,
      controlPort: control.port2,
      eventsPort: events.port2,
      peers: allPeers,
      ...(entry ? { entry } : {}),
    };
    const transferList = [control.port2, events.port2, ...Object.values(allPeers).flat()];
    const worker = new Worker(file, {
      workerData: data,
      transferList: transferList as unknown as import('node:worker_threads').TransferListItem[],
      execArgv,
      resourceLimits: this.config.threads.resourceLimits,
      name: `starling:${slot.name}`,
    });
    slot.worker = worker;
    slot.control = wrap<NodeControl>(nodeEndpoint(control.port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
    slot.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    slot.gone = slot.exited.then(() => {
      throw new StarlingError('NODE_NOT_RUNNING', `node ${slot.name} is down`);
    });
    slot.gone.catch(() => {});
    worker.on('error', (err) => {
      if (!slot.failure) slot.failure = { reason: 'crashed', error: err };
    });
    worker.once('exit', (code) => this.onExit(slot, worker, code));

    let startTimer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      events.port1.on('message', (n: WorkerNotice) => {
        switch (n.kind) {
          case 'ready':
            resolve();
            return;
          case 'start-failed':
            reject(fromWireError(n.error));
            return;
          case 'events':
            for (const e of n.events) this.events.publish(rehydrate(e as RuntimeEvent));
            return;
          case 'node-failed':
            // Escalation past the node's root guardian: the node stops, its host restarts it.
            slot.failure = { reason: 'escalated', error: fromWireError(n.error) };
            void worker.terminate();
            return;
        }
      });
      events.port1.unref();
      worker.once('exit', () => reject(new StarlingError('NODE_NOT_RUNNING', `node ${slot.name} exited while starting`)));
      startTimer = setTimeout(() => reject(new StarlingError('TIMEOUT', `node ${slot.name} not ready within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    });
    try {
      await ready;
    } catch (err) {
      slot.expectedExit = true;
      await worker.terminate();
      throw err;
    } finally {
      clearTimeout(startTimer);
    }
    if (this.stopped || slot.generation !== generation || slot.worker !== worker) {
      slot.expectedExit = true;
      await worker.terminate();
      throw new LaunchAborted(slot.name);
    }
    slot.uid = uid;
    slot.state = 'running';
  }

  /** Races a control call against the worker's exit (and, for reads, a timeout): none hangs on a dead or stuck worker. */
  private call<T>(slot: WorkerSlot, fn: (control: Remote<NodeControl>) => Promise<T>, timeoutMs?: number): Promise<T> {
    const control = slot.control;
    const gone = slot.gone;
    if (!control || !gone) return Promise.reject(new StarlingError('NODE_NOT_RUNNING', `node ${slot.name} is down`));
    const racers: Promise<T>[] = [fn(control), gone];
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      racers.push(
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StarlingError('TIMEOUT', `node ${slot.name} did not answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      );
    }
    return Promise.race(racers).finally(() => clearTimeout(timer));
  }

  /** A worker is gone: clean up, tell the others, and restart it if it crashed. */
  private onExit(slot: WorkerSlot, worker: Worker, code: number): void {
    // A worker the slot no longer tracks (an abandoned launch) was terminated on purpose.
    if (slot.worker !== worker) return;
    const uid = slot.uid;
    slot.worker = null;
    slot.control = null;
    slot.uid = undefined;
    slot.state = 'down';
    slot.paused = false;
    this.shared.resetSlot(slot.index);
    this.router.disconnect(slot.name);
    const expected = slot.expectedExit;
    const reason: NodeStopReason = expected ? (slot.failure?.reason ?? 'killed') : (slot.failure?.reason ?? 'crashed');
    const error = slot.failure?.error ?? (expected ? undefined : new StarlingError('NODE_NOT_RUNNING', `worker of ${slot.name} exited with code ${code}`));
    if (uid !== undefined) {
      this.events.publish({ type: 'node-stopped', node: slot.name, atMs: this.now(), nodeUid: uid, reason, ...(error !== undefined ? { error } : {}) });
    }
    this.nodeDown(slot.name, uid);
    if (!expected && !this.stopped) this.scheduleRestart(slot);
  }

  /** Tells every live node (and the host's endpoint) that `name` died: links to it are dropped, and with the host detector on, it is reported down. */
  private nodeDown(name: string, uid: string | undefined): void {
    const report = uid !== undefined && this.config.hostFailureDetector;
    for (const other of this.slots.values()) {
      if (other.name === name || !other.control) continue;
      void this.call(other, (c) => c.disconnect(name)).catch(() => {});
      if (report) void this.call(other, (c) => c.reachability({ node: name, nodeUid: uid, status: 'down' })).catch(() => {});
    }
    if (report) this.hostSystem.reportReachability({ node: name, nodeUid: uid, status: 'down' });
  }

  private scheduleRestart(slot: WorkerSlot): void {
    const policy = this.config.nodeRestart;
    const strategy = {
      kind: 'one-for-one' as const,
      decide: () => 'restart' as const,
      maxRestarts: policy.maxRestarts,
      withinMs: policy.withinMs,
      backoff: { minMs: 0, maxMs: 0, randomFactor: 0, resetAfterMs: 0 },
    };
    if (!admitRestart(slot.restarts, strategy, this.now())) return; // past the limit: it stays down
    const attempt = slot.restarts.times.length - 1;
    const delayMs = Math.min(policy.maxBackoffMs, policy.minBackoffMs * 2 ** attempt);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.stopped || slot.worker) return;
      this.relaunch(slot).catch((err: unknown) => {
        // A launch abandoned by a kill or a stop must stay abandoned; a failed one is retried.
        if (!(err instanceof LaunchAborted)) this.scheduleRestart(slot);
      });
    }, delayMs);
  }

  /**
   * Starts a node again with a new node uid, then wires it to every peer running at that moment.
   * A peer that becomes running later wires itself to this node in its own relaunch, so two
   * concurrent relaunches always end linked (the host's event loop orders the two snapshots).
   */
  private async relaunch(slot: WorkerSlot): Promise<void> {
    const generation = ++slot.generation;
    await this.launch(slot, {}, generation);
    const peers = [...this.slots.values()].filter((o) => o !== slot && o.state === 'running');
    await Promise.all(
      peers.map(async (other) => {
        const sys = new MessageChannel();
        const user = new MessageChannel();
        // comlink's types speak of the DOM's MessagePort; Node's is the same thing at run time.
        const mine = this.call(slot, (c) => c.connect(other.name, transfer(sys.port1, [sys.port1 as never]), transfer(user.port1, [user.port1 as never])));
        const theirs = this.call(other, (c) => c.connect(slot.name, transfer(sys.port2, [sys.port2 as never]), transfer(user.port2, [user.port2 as never])));
        // A peer that died meanwhile is simply not wired; its own restart will wire it.
        await Promise.allSettled([mine, theirs]);
      }),
    );
  }

  private slot(node: string): WorkerSlot {
    const slot = this.slots.get(node);
    if (!slot) throw new InvalidArgumentError('UNKNOWN_NODE', `no node named '${node}' (nodes: ${this.nodes.join(', ')})`);
    return slot;
  }

  /** The slot of a running, unpaused node, for calls that act on its actors. */
  private active(node: string): WorkerSlot {
    const slot = this.slot(node);
    if (slot.state !== 'running') throw new StarlingError('NODE_NOT_RUNNING', `node ${node} is down`);
    if (slot.paused) throw new StarlingError('NODE_NOT_RUNNING', `node ${node} is paused`);
    return slot;
  }

  nodeUid(node: string): string | undefined {
    return this.slot(node).uid;
  }

  nodeState(node: string): NodeState {
    const slot = this.slot(node);
    if (slot.state !== 'running') return 'down';
    return slot.paused ? 'paused' : 'running';
  }

  /**
   * `worker.terminate()`: ends the node even if it is stuck in a synchronous loop. Its memory and
   * disk are gone. A kill is final until the host restarts the node: it cancels any automatic
   * restart, pending or under way.
   */
  async kill(node: string): Promise<void> {
    const slot = this.slot(node);
    slot.generation++;
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.restartTimer = null;
    await this.retire(slot, 'killed');
  }

  /** Ends the slot's current worker on purpose, keeping its link counters. */
  private async retire(slot: WorkerSlot, reason: NodeStopReason): Promise<void> {
    const worker = slot.worker;
    if (!worker) return;
    if (slot.state === 'running' && !slot.paused) {
      const counters = await this.call(slot, (c) => c.links(), 500).catch(() => undefined);
      if (counters) this.retiredLinks.push({ ...counters, node: slot.name } as WorkerLinkCounters);
    }
    slot.expectedExit = true;
    slot.failure = { reason };
    await worker.terminate();
    await slot.exited;
  }

  async restart(node: string): Promise<void> {
    await this.kill(node);
    await this.relaunch(this.slot(node));
  }

  /** In threads a node's disk lives in its worker, so this is `restart`: both start empty. */
  async restartEmpty(node: string): Promise<void> {
    await this.restart(node);
  }

  async pause(node: string): Promise<void> {
    const slot = this.slot(node);
    if (slot.state !== 'running' || slot.paused) return;
    slot.paused = true;
    this.shared.setPaused(slot.index, true);
    this.events.publish({ type: 'node-paused', node, atMs: this.now() });
  }

  async resume(node: string): Promise<void> {
    const slot = this.slot(node);
    if (!slot.paused) return;
    slot.paused = false;
    this.shared.setPaused(slot.index, false);
    await this.call(slot, (c) => c.wake()).catch(() => {});
    this.events.publish({ type: 'node-resumed', node, atMs: this.now() });
  }

  // -----------------------------------------------------------------------------------------------
  // Actors and the host endpoint

  async spawn<M, S, P>(node: string, def: ActorDef<M, S, P> | string, props: P, options?: SpawnOptions): Promise<ActorRef<M>> {
    const name = typeof def === 'string' ? def : def.name;
    const result = await this.call(this.active(node), (c) => c.spawn(name, props, options) as Promise<Result<AnyRef>>);
    return unwrap(result) as ActorRef<M>;
  }

  tell<M>(ref: ActorRef<M>, msg: M): void {
    this.hostSystem.tell(ref, msg, undefined);
  }

  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res> {
    return this.hostSystem.ask(ref, make, options);
  }

  async stopActor(ref: AnyRef): Promise<void> {
    if (this.slots.get(ref.node)?.state !== 'running') return;
    await this.call(this.active(ref.node), (c) => c.stopActor(ref));
  }

  async stats(node: string): Promise<NodeStats> {
    const slot = this.slot(node);
    const counters = slot.state === 'running' ? await this.call(slot, (c) => c.stats(), READ_TIMEOUT_MS) : emptyCounters();
    return { ...counters, node, nodeUid: slot.uid, state: this.nodeState(node), starts: slot.starts };
  }

  async actorStats(ref: AnyRef): Promise<MailboxCounters | undefined> {
    const slot = this.slots.get(ref.node);
    if (slot?.state !== 'running' || (ref.nodeUid !== '' && ref.nodeUid !== slot.uid)) return undefined;
    return this.call(slot, (c) => c.actorStats(ref.path), READ_TIMEOUT_MS);
  }

  /**
   * Every link's counters, merged from both ends: sent, bytes, queue depth and link-full drops from
   * the sender; deliveries and the network model's drops from the receiver; plus the counters of
   * incarnations the host ended. A node that does not answer within a short timeout (stuck in a
   * synchronous loop) is left out of this snapshot; a crashed worker's counters are lost with it.
   */
  private async linkCounters(): Promise<Record<string, LinkCounters>> {
    const live = [...this.slots.values()].filter((s) => s.state === 'running' && !s.paused);
    const reports = await Promise.all(
      live.map(async (s) => ({ node: s.name, links: await this.call(s, (c) => c.links(), READ_TIMEOUT_MS).catch(() => undefined) })),
    );
    const merged: Record<string, LinkCounters> = {};
    const at = (key: string): LinkCounters => (merged[key] ??= newLinkCounters());
    const add = (node: string, links: WorkerLinkCounters, live: boolean): void => {
      for (const [to, out] of Object.entries(links.out)) {
        if (to === HOST_NODE) continue;
        const c = at(`${node}->${to}`);
        c.sent += out.sent;
        c.bytes += out.bytes;
        if (live) c.queueDepth += out.queueDepth;
        c.dropped['link-full'] += out.linkFull;
        c.dropped[this.slots.has(to) ? 'node-down' : 'unknown-node'] += out.noLink;
      }
      for (const [from, inc] of Object.entries(links.in)) {
        if (inc.sent === 0) continue;
        const c = at(`${from}->${node}`);
        c.delivered += inc.delivered;
        c.duplicated += inc.duplicated;
        for (const [cause, n] of Object.entries(inc.dropped)) c.dropped[cause as keyof LinkCounters['dropped']] += n;
      }
    };
    for (const r of reports) if (r.links) add(r.node, r.links, true);
    for (const r of this.retiredLinks) add(this.nodeOf(r), r, false);
    return merged;
  }

  /** The node a retired report belongs to (its inbound keys name the sources, its outbound the targets). */
  private nodeOf(report: WorkerLinkCounters & { node?: string }): string {
    return report.node ?? '';
  }

  // -----------------------------------------------------------------------------------------------
  // Network control

  private networkControl(): NetworkControl {
    return networkControl(
      {
        rules: () => this.rules,
        epoch: () => this.epochValue,
        change: async (partial) => {
          const next: NetworkRules = { ...this.rules, ...partial };
          validateRules(next, this.nodes);
          // Published to every worker at once; returns when no delivery runs under the old rules.
          // write() checks the size before anything changes, so a refused change leaves the old rules.
          this.epochValue = this.shared.write(next);
          this.rules = next;
          this.events.publish({ type: 'network-changed', node: HOST_NODE, atMs: this.now(), epoch: this.epochValue, description: describeRules(next) });
        },
        links: () => this.linkCounters(),
      },
      this.nodes,
      this.config.network,
    );
  }

  applySchedule(schedule: FaultSchedule): ScheduleHandle {
    validateSchedule(schedule, this.nodes);
    const errors: Error[] = [];
    const timers: NodeJS.Timeout[] = [];
    // Faults are applied in order even when one takes a while (a restart waits for its worker).
    let chain = Promise.resolve();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    let remaining = schedule.faults.length;
    if (remaining === 0) resolveDone();
    for (const tf of schedule.faults) {
      const timer = setTimeout(() => {
        this.scheduleTimers.delete(timer);
        chain = chain
          .then(() => applyFault(this, tf.fault))
          .catch((err: unknown) => void errors.push(err as Error))
          .finally(() => {
            if (--remaining === 0) resolveDone();
          });
      }, tf.atMs);
      timers.push(timer);
      this.scheduleTimers.add(timer);
    }
    return {
      cancel: () => {
        for (const t of timers) {
          clearTimeout(t);
          this.scheduleTimers.delete(t);
        }
        resolveDone();
      },
      done,
      errors,
    };
  }

  // -----------------------------------------------------------------------------------------------
  // Time (real) and stop

  async until<T>(promise: Promise<T>, options?: { timeoutMs?: number }): Promise<T> {
    return withTimeout(promise, options?.timeoutMs ?? 60_000);
  }

  async runFor(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async runUntil(condition: () => boolean | Promise<boolean>, options?: { timeoutMs?: number }): Promise<boolean> {
    const deadline = performance.now() + (options?.timeoutMs ?? 60_000);
    for (;;) {
      if (await condition()) return true;
      if (performance.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Stops every node (stop hooks run, paused nodes are resumed for them, with a grace period) and
   * terminates every worker; no worker, timer or port is left behind, and no restart follows.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.scheduleTimers) clearTimeout(t);
    this.scheduleTimers.clear();
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        slot.generation++;
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        slot.restartTimer = null;
        const worker = slot.worker;
        if (!worker) return;
        slot.expectedExit = true;
        slot.failure = { reason: 'stopped' };
        if (slot.state === 'running') {
          if (slot.paused) {
            slot.paused = false;
            this.shared.setPaused(slot.index, false);
          }
          let grace: NodeJS.Timeout | undefined;
          await Promise.race([
            this.call(slot, (c) => c.shutdown()).catch(() => {}),
            new Promise((resolve) => (grace = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
          ]);
          clearTimeout(grace);
        }
        await worker.terminate();
        await slot.exited;
      }),
    );
    this.hostSystem.shutdown();
    this.router.close();
    this.pump.stop();
  }

  /** Live worker threads (for tests that check nothing is left behind). */
  liveWorkers(): number {
    return [...this.slots.values()].filter((s) => s.worker !== null).length;
  }
}
