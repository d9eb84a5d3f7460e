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
import type { LinkCounters } from '../../network/model.ts';
import { isolate as isolatePartition } from '../../network/partitions.ts';
import { describeRules, type NetworkRules, PERFECT_NETWORK, validateRules } from '../../network/rules.ts';
import { type Fault, type FaultSchedule, validateSchedule } from '../../network/schedule.ts';
import { createRandom, randomHex8, type Random } from '../../random.ts';
import type { ActorRef, AnyRef } from '../../ref.ts';
import { admitRestart, newRestartHistory, type RestartHistory } from '../../supervisor.ts';
import { ActorSystem, emptyCounters, type NodeHost } from '../../system.ts';
import { EventLoop, Lane } from '../loop.ts';
import { RealTimePump } from '../pump.ts';
import { fromWireError, type NodeControl, unwrap, type WireError, type WorkerNotice } from './control.ts';
import { laneOf, Router } from './link.ts';
import { SharedRules } from './shared-rules.ts';
import type { NodeWorkerData } from './worker.ts';

interface WorkerSlot {
  readonly name: string;
  readonly index: number;
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
  readonly restarts: RestartHistory;
  restartTimer: NodeJS.Timeout | null;
}

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

const EXIT_WAIT_MS = 5_000;

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
        worker: null,
        control: null,
        uid: undefined,
        starts: 0,
        paused: false,
        expectedExit: false,
        failure: null,
        exited: null,
        restarts: newRestartHistory(),
        restartTimer: null,
      }),
    );
    // The host's own endpoint: an actor system on the main thread, for tell and ask from outside.
    this.loop = new EventLoop(() => performance.timeOrigin + performance.now() - this.originMs);
    this.pump = new RealTimePump(this.loop);
    const lane = new Lane(HOST_NODE, Number.MAX_SAFE_INTEGER, () => {});
    this.router = new Router(
      HOST_NODE,
      { userCapacity: config.threads.userLinkCapacity, systemCapacity: config.threads.systemLinkCapacity, maxMessageBytes: config.maxMessageBytes },
      {
        onFrame: (frame) => {
          this.loop.post(this.loop.now(), lane, () => {
            this.hostSystem.receive(frame.env, frame.sentAtMs);
            this.router.consumed(frame.from, frame.lane);
          });
        },
        onBatchEnd: () => this.pump.runNow(),
      },
    );
    this.pump.afterSlice = () => this.router.flush();
    let drainPending = false;
    const host: NodeHost = {
      now: () => this.loop.now(),
      schedule: (atMs, fn) => {
        const ev = this.loop.post(atMs, lane, fn);
        return { cancel: () => this.loop.cancel(ev) };
      },
      requestDrain: () => {
        if (drainPending) return;
        drainPending = true;
        this.loop.post(this.loop.now(), lane, () => {
          drainPending = false;
          this.hostSystem.drain(4096);
        });
      },
      send: (toNode, env: Envelope) => {
        const outcome = this.router.send(toNode, env, this.loop.now(), laneOf(env));
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
    const results = await Promise.allSettled(live.map((slot) => this.launch(slot, peers.get(slot.name)!)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  /** Starts a worker for `slot` with ports to `peers` (plus a fresh pair to the host's endpoint). */
  private async launch(slot: WorkerSlot, peers: Record<string, [MessagePort, MessagePort]>): Promise<void> {
    slot.starts++;
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
      userLinkCapacity: this.config.threads.userLinkCapacity,
      systemLinkCapacity: this.config.threads.systemLinkCapacity,
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
    worker.on('error', (err) => {
      if (!slot.failure) slot.failure = { reason: 'crashed', error: err };
    });
    worker.once('exit', (code) => this.onExit(slot, worker, code));

    const ready = new Promise<void>((resolve, reject) => {
      events.port1.on('message', (n: WorkerNotice) => {
        switch (n.kind) {
          case 'ready':
            slot.uid = n.uid;
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
    });
    try {
      await ready;
    } catch (err) {
      slot.expectedExit = true;
      await worker.terminate();
      throw err;
    }
  }

  /** A worker is gone: clean up, tell the others, and restart it if it crashed. */
  private onExit(slot: WorkerSlot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    const uid = slot.uid;
    slot.worker = null;
    slot.control = null;
    slot.uid = undefined;
    slot.paused = false;
    this.shared.resetSlot(slot.index);
    this.router.disconnect(slot.name);
    const expected = slot.expectedExit;
    const reason: NodeStopReason = expected ? (slot.failure?.reason ?? 'killed') : (slot.failure?.reason ?? 'crashed');
    const error = slot.failure?.error ?? (expected ? undefined : new StarlingError('NODE_NOT_RUNNING', `worker of ${slot.name} exited with code ${code}`));
    if (uid !== undefined) {
      this.events.publish({ type: 'node-stopped', node: slot.name, atMs: this.now(), nodeUid: uid, reason, ...(error !== undefined ? { error } : {}) });
      this.nodeDown(slot.name, uid);
    }
    if (!expected && !this.stopped) this.scheduleRestart(slot);
  }

  /** Tells every live node (and the host's endpoint) that `name` died. */
  private nodeDown(name: string, uid: string): void {
    for (const other of this.slots.values()) {
      if (other.name === name || !other.control) continue;
      void other.control.disconnect(name).catch(() => {});
      if (this.config.hostFailureDetector) void other.control.reachability({ node: name, nodeUid: uid, status: 'down' }).catch(() => {});
    }
    if (this.config.hostFailureDetector) this.hostSystem.reportReachability({ node: name, nodeUid: uid, status: 'down' });
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
      this.relaunch(slot).catch(() => this.scheduleRestart(slot));
    }, delayMs);
  }

  /** Starts a node again with a new node uid, and wires it to every live peer. */
  private async relaunch(slot: WorkerSlot): Promise<void> {
    const peers: Record<string, [MessagePort, MessagePort]> = {};
    const wiring: Promise<void>[] = [];
    for (const other of this.slots.values()) {
      if (other === slot || !other.control) continue;
      const sys = new MessageChannel();
      const user = new MessageChannel();
      peers[other.name] = [sys.port1, user.port1];
      // comlink's types speak of the DOM's MessagePort; Node's is the same thing at run time.
      wiring.push(other.control.connect(slot.name, transfer(sys.port2, [sys.port2 as never]), transfer(user.port2, [user.port2 as never])));
    }
    await Promise.all(wiring);
    await this.launch(slot, peers);
  }

  private slot(node: string): WorkerSlot {
    const slot = this.slots.get(node);
    if (!slot) throw new InvalidArgumentError('UNKNOWN_NODE', `no node named '${node}' (nodes: ${this.nodes.join(', ')})`);
    return slot;
  }

  private control(node: string): Remote<NodeControl> {
    const slot = this.slot(node);
    if (!slot.control) throw new StarlingError('NODE_NOT_RUNNING', `node ${node} is down`);
    if (slot.paused) throw new StarlingError('NODE_NOT_RUNNING', `node ${node} is paused`);
    return slot.control;
  }

  nodeUid(node: string): string | undefined {
    return this.slot(node).uid;
  }

  nodeState(node: string): NodeState {
    const slot = this.slot(node);
    if (!slot.worker || !slot.uid) return 'down';
    return slot.paused ? 'paused' : 'running';
  }

  /** `worker.terminate()`: ends the node even if it is stuck in a synchronous loop. Its memory and disk are gone. */
  async kill(node: string): Promise<void> {
    const slot = this.slot(node);
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.restartTimer = null;
    const worker = slot.worker;
    if (!worker) return;
    slot.expectedExit = true;
    slot.failure = { reason: 'killed' };
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
    if (!slot.worker || slot.paused) return;
    slot.paused = true;
    this.shared.setPaused(slot.index, true);
    this.events.publish({ type: 'node-paused', node, atMs: this.now() });
  }

  async resume(node: string): Promise<void> {
    const slot = this.slot(node);
    if (!slot.paused) return;
    slot.paused = false;
    this.shared.setPaused(slot.index, false);
    await slot.control?.wake();
    this.events.publish({ type: 'node-resumed', node, atMs: this.now() });
  }

  // -----------------------------------------------------------------------------------------------
  // Actors and the host endpoint

  async spawn<M, S, P>(node: string, def: ActorDef<M, S, P> | string, props: P, options?: SpawnOptions): Promise<ActorRef<M>> {
    const name = typeof def === 'string' ? def : def.name;
    return unwrap(await this.control(node).spawn(name, props, options)) as ActorRef<M>;
  }

  tell<M>(ref: ActorRef<M>, msg: M): void {
    this.hostSystem.tell(ref, msg, undefined);
  }

  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res> {
    return this.hostSystem.ask(ref, make, options);
  }

  async stopActor(ref: AnyRef): Promise<void> {
    if (!this.slots.get(ref.node)?.control) return;
    await this.control(ref.node).stopActor(ref);
  }

  async stats(node: string): Promise<NodeStats> {
    const slot = this.slot(node);
    const counters = slot.control ? await slot.control.stats() : emptyCounters();
    return { ...counters, node, nodeUid: slot.uid, state: this.nodeState(node), starts: slot.starts };
  }

  async actorStats(ref: AnyRef): Promise<MailboxCounters | undefined> {
    const slot = this.slots.get(ref.node);
    if (!slot?.control || (ref.nodeUid !== '' && ref.nodeUid !== slot.uid)) return undefined;
    return slot.control.actorStats(ref.path);
  }

  /** Every link's counters, merged from both ends: sent, bytes and queue depth from the sender; the rest from the receiver. */
  private async linkCounters(): Promise<Record<string, LinkCounters>> {
    const live = [...this.slots.values()].filter((s) => s.control);
    const reports = await Promise.all(live.map(async (s) => ({ node: s.name, links: await s.control!.links() })));
    const merged: Record<string, LinkCounters> = {};
    const at = (key: string): LinkCounters =>
      (merged[key] ??= {
        sent: 0,
        delivered: 0,
        duplicated: 0,
        bytes: 0,
        queueDepth: 0,
        dropped: { loss: 0, partition: 0, grudge: 0, 'node-down': 0, 'unknown-node': 0, 'queue-full': 0, 'link-full': 0 },
      });
    for (const { node, links } of reports) {
      for (const [to, out] of Object.entries(links.out)) {
        if (to === HOST_NODE) continue;
        const c = at(`${node}->${to}`);
        c.sent += out.sent;
        c.bytes += out.bytes;
        c.queueDepth += out.queueDepth;
        c.dropped['link-full'] += out.linkFull;
      }
      for (const [from, inc] of Object.entries(links.in)) {
        if (inc.sent === 0) continue;
        const c = at(`${from}->${node}`);
        c.delivered += inc.delivered;
        c.duplicated += inc.duplicated;
        for (const [cause, n] of Object.entries(inc.dropped)) c.dropped[cause as keyof LinkCounters['dropped']] += n;
      }
    }
    return merged;
  }

  // -----------------------------------------------------------------------------------------------
  // Network control

  private networkControl(): NetworkControl {
    const change = async (partial: Partial<NetworkRules>): Promise<void> => {
      const next: NetworkRules = { ...this.rules, ...partial };
      validateRules(next, this.nodes);
      this.rules = next;
      // Published to every worker at once; returns when no delivery runs under the old rules.
      this.epochValue = this.shared.write(next);
      this.events.publish({ type: 'network-changed', node: HOST_NODE, atMs: this.now(), epoch: this.epochValue, description: describeRules(next) });
    };
    const self = this;
    return {
      get rules() {
        return self.rules;
      },
      get epoch() {
        return self.epochValue;
      },
      update: change,
      partition: (partition) => change({ partition }),
      isolate: (node) => change({ partition: isolatePartition(this.nodes, node) }),
      grudge: (from, to) => change({ grudges: [...this.rules.grudges, { from, to }] }),
      heal: () => change({ partition: null, grudges: [] }),
      reset: () => change({ ...PERFECT_NETWORK, ...this.config.network }),
      setLoss: (p) => change({ lossProbability: p }),
      setLatency: (latency) => change({ latency }),
      setDuplication: (p) => change({ duplicateProbability: p }),
      setReorder: (p, windowMs) => change(windowMs === undefined ? { reorderProbability: p } : { reorderProbability: p, reorderWindowMs: windowMs }),
      links: () => this.linkCounters(),
    };
  }

  applyFault(fault: Fault): Promise<void> {
    const net = this.network;
    switch (fault.kind) {
      case 'partition':
        return net.partition(fault.partition);
      case 'heal':
        return net.heal();
      case 'loss':
        return net.setLoss(fault.probability);
      case 'latency':
        return net.setLatency(fault.latency);
      case 'duplicate':
        return net.setDuplication(fault.probability);
      case 'reorder':
        return net.setReorder(fault.probability, fault.windowMs);
      case 'grudge':
        return net.grudge(fault.from, fault.to);
      case 'reset-network':
        return net.reset();
      case 'kill':
        return this.kill(fault.node);
      case 'restart':
        return this.restart(fault.node);
      case 'restart-empty':
        return this.restartEmpty(fault.node);
      case 'pause':
        return this.pause(fault.node);
      case 'resume':
        return this.resume(fault.node);
    }
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
      timers.push(
        setTimeout(() => {
          chain = chain
            .then(() => this.applyFault(tf.fault))
            .catch((err: unknown) => void errors.push(err as Error))
            .finally(() => {
              if (--remaining === 0) resolveDone();
            });
        }, tf.atMs),
      );
    }
    return {
      cancel: () => {
        for (const t of timers) clearTimeout(t);
      },
      done,
      errors,
    };
  }

  // -----------------------------------------------------------------------------------------------
  // Time (real) and stop

  async until<T>(promise: Promise<T>, options?: { timeoutMs?: number }): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StarlingError('TIMEOUT', `promise did not settle within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
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

  /** Stops every node (stop hooks run, with a grace period) and terminates every worker. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        const worker = slot.worker;
        if (!worker) return;
        slot.expectedExit = true;
        slot.failure = { reason: 'stopped' };
        const control = slot.control;
        if (control && !slot.paused) {
          await Promise.race([control.shutdown().catch(() => {}), new Promise((r) => setTimeout(r, EXIT_WAIT_MS))]);
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
