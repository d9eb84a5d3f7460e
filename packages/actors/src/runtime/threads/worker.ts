/**
 * A node on its own worker thread: one actor system, its event loop on the real clock, its links to
 * every peer, and the control plane its host talks to. Started by the threads host; never imported
 * by user code.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { ResolvedConfig } from '../../config.ts';
import { HOST_NODE } from '../../config.ts';
import { Disk } from '../../disk.ts';
import type { Envelope } from '../../envelope.ts';
import { EventStream, type NetworkDropCause, type RuntimeEvent } from '../../events.ts';
import { NetworkModel } from '../../network/model.ts';
import { loadPlugins } from '../../plugin.ts';
import { createRandom } from '../../random.ts';
import { ActorSystem, type NodeHost } from '../../system.ts';
import { laneScheduling, setupPlugins } from '../host-common.ts';
import { EventLoop, Lane } from '../loop.ts';
import { RealTimePump } from '../pump.ts';
import type { NodeControl, Result, WorkerLinkCounters, WorkerNotice } from './control.ts';
import { toWireError } from './control.ts';
import { type InboundBatch, Router, SYSTEM_LANE, USER_LANE } from './link.ts';
import { SharedRules } from './shared-rules.ts';

/** What the host hands a node worker. */
export interface NodeWorkerData {
  readonly node: string;
  readonly slot: number;
  readonly uid: string;
  readonly starts: number;
  readonly config: ResolvedConfig;
  readonly rules: SharedArrayBuffer;
  readonly slots: number;
  /** `performance.timeOrigin + performance.now()` of the host at cluster start: every thread's clock counts from it. */
  readonly originMs: number;
  readonly controlPort: MessagePort;
  readonly eventsPort: MessagePort;
  /** Lane ports to every peer alive at start, and to the host's endpoint. */
  readonly peers: Readonly<Record<string, readonly [MessagePort, MessagePort]>>;
}

/** Messages one drain turn handles before the loop looks at other events. */
const DRAIN_BUDGET = 4096;
/** Wall-clock length of one drain turn, in ms: a slow actor must not hold timers and ports back. */
const DRAIN_SLICE_MS = 4;
const MESSAGE_EVENT = { survivesKill: true, isMessage: true } as const;

/**
 * What a delivery event carries: a whole batch (a clean link delivers it at once), or one message
 * of a batch whose fates differ (loss, latency, duplication, reordering).
 */
type Delivery =
  | { readonly kind: 'batch'; readonly batch: InboundBatch }
  | { readonly kind: 'one'; readonly track: BatchTrack; readonly env: Envelope; readonly duplicate: boolean };

/** Accounts a batch's messages one by one, so that their acknowledged bytes add up to the batch's exactly. */
interface BatchTrack {
  readonly batch: InboundBatch;
  left: number;
  leftBytes: number;
}

function portable(e: RuntimeEvent): RuntimeEvent {
  if ('error' in e && e.error !== undefined) return { ...e, error: toWireError(e.error) } as RuntimeEvent;
  return e;
}

async function main(data: NodeWorkerData): Promise<void> {
  const { node, slot, config } = data;
  const shared = SharedRules.open(data.rules, data.slots);
  // Every thread counts from the host's start; the offset is computed once (timeOrigin is a getter).
  const clockOffset = performance.timeOrigin - data.originMs;
  const loop = new EventLoop(() => performance.now() + clockOffset);
  const pump = new RealTimePump(loop);
  const events = new EventStream();
  const eventsPort = data.eventsPort;
  const notify = (n: WorkerNotice): void => eventsPort.postMessage(n);

  // Events leave in one batch per turn of the event loop.
  let outbox: RuntimeEvent[] = [];
  const flushEvents = (): void => {
    const batch = outbox;
    outbox = [];
    try {
      eventsPort.postMessage({ kind: 'events', events: batch } satisfies WorkerNotice);
    } catch {
      // A dead letter may carry something that cannot be cloned (a local message with a function).
      const safe = batch.map((e) => (e.type === 'dead-letter' ? { ...e, msg: `[uncloneable ${typeof e.msg}]` } : e));
      eventsPort.postMessage({ kind: 'events', events: safe } satisfies WorkerNotice);
    }
  };
  events.on('event', (e) => {
    if (outbox.length === 0) setImmediate(flushEvents);
    outbox.push(portable(e));
  });
  const flushPendingEvents = (): void => {
    if (outbox.length > 0) flushEvents();
  };

  const model = new NetworkModel(config.nodes, config.seed, shared.read().rules);
  let modelEpoch = shared.epoch();
  const refreshRules = (epoch: number): void => {
    if (epoch === modelEpoch) return;
    const { epoch: e, rules } = shared.read();
    model.update(rules);
    modelEpoch = e;
  };

  let system: ActorSystem | null = null;
  /** A message the network did not deliver: counted on its link (unless the model counted it) and a dead letter. */
  const drop = (from: string, env: Envelope, cause: NetworkDropCause, countOnLink: boolean): void => {
    if (countOnLink && from !== HOST_NODE) model.noteDropped(from, node, cause);
    if (env.kind === 'user' && system) system.deadLetter('dropped-by-network', env.to, env.msg, undefined, { cause, from });
  };
  /** One more message of a batch is done (delivered or dropped): acknowledge it with its share of the bytes. */
  const consumeOne = (track: BatchTrack): void => {
    const share = track.left === 1 ? track.leftBytes : Math.floor(track.batch.bytes / track.batch.envs.length);
    track.left--;
    track.leftBytes -= share;
    router.consumed(track.batch, 1, share);
  };
  const lane = new Lane(node, config.pausedQueueLimit, (arg) => {
    const d = arg as Delivery;
    if (d.kind === 'batch') {
      for (const env of d.batch.envs) drop(d.batch.from, env, 'queue-full', true);
      router.consumed(d.batch, d.batch.envs.length, d.batch.bytes);
    } else {
      drop(d.track.batch.from, d.env, 'queue-full', true);
      if (!d.duplicate) consumeOne(d.track);
    }
  });

  const deliver = (d: Delivery): void => {
    const sys = system;
    const batch = d.kind === 'batch' ? d.batch : d.track.batch;
    const from = batch.from;
    const envs = d.kind === 'batch' ? batch.envs : [d.env];
    if (from === HOST_NODE) {
      for (const env of envs) sys?.receive(env, batch.sentAtMs);
    } else {
      // The partition barrier: the host waits for deliveries made under an older epoch.
      const epoch = shared.beginDelivery(slot);
      try {
        refreshRules(epoch);
        const cut = model.cutNow(from, node);
        if (cut !== null) {
          for (const env of envs) drop(from, env, cut, true);
        } else {
          let delivered = 0;
          for (const env of envs) if (sys?.receive(env, batch.sentAtMs)) delivered++;
          if (delivered > 0) model.noteDelivered(from, node, delivered);
        }
      } finally {
        shared.endDelivery(slot);
      }
    }
    if (d.kind === 'batch') router.consumed(batch, batch.envs.length, batch.bytes);
    else if (!d.duplicate) consumeOne(d.track);
  };

  const router = new Router(
    node,
    {
      userCapacity: config.threads.userLinkCapacity,
      userCapacityBytes: config.threads.userLinkBytes,
      systemCapacity: config.threads.systemLinkCapacity,
      maxMessageBytes: config.maxMessageBytes,
    },
    {
      onBatch(batch) {
        const now = loop.now();
        if (batch.from === HOST_NODE) {
          loop.post(now, lane, deliver, { kind: 'batch', batch }, MESSAGE_EVENT);
          return;
        }
        // The network model runs at the receiver: a link's batches arrive in order, so its
        // sequence numbers, and with them every fate, are the ones the sender's order implies.
        refreshRules(shared.epoch());
        if (model.isClean(batch.from, node)) {
          // Nothing to decide: the whole batch is delivered at once, in one event.
          model.passThrough(batch.from, node, batch.envs.length, batch.bytes, batch.sentAtMs);
          loop.post(now, lane, deliver, { kind: 'batch', batch }, MESSAGE_EVENT);
          return;
        }
        const track: BatchTrack = { batch, left: batch.envs.length, leftBytes: batch.bytes };
        const each = Math.floor(batch.bytes / batch.envs.length);
        for (const env of batch.envs) {
          const decision = model.decide(batch.from, node, batch.sentAtMs, each);
          if (decision.kind === 'drop') {
            // Counted by decide(); the dead letter and the acknowledgement remain.
            drop(batch.from, env, decision.cause, false);
            consumeOne(track);
            continue;
          }
          decision.atMs.forEach((at, i) => loop.post(at, lane, deliver, { kind: 'one', track, env, duplicate: i > 0 }, MESSAGE_EVENT));
        }
      },
      around: (fn) => pump.hold(fn),
      onBatchEnd: () => pump.runNow(),
      onUndecodable: (from, error) => {
        events.publish({
          type: 'dead-letter',
          node,
          atMs: loop.now(),
          reason: 'dropped-by-network',
          to: { node, nodeUid: data.uid, path: '/', uid: 0 },
          msg: `[undecodable frame: ${(error as Error)?.message ?? String(error)}]`,
          from,
        });
      },
      // A node far behind on its mailboxes holds back user-lane acknowledgements: its senders' links
      // fill up and drop (LINK_FULL) instead of the node queueing without bound.
      mayAcknowledgeUser: () => (system?.queued ?? 0) < config.threads.userLinkCapacity,
    },
  );
  // Links flush themselves once per loop turn (link.ts), not after each slice.
  pump.afterSlice = undefined;
  for (const [peer, [sys, user]] of Object.entries(data.peers)) router.connect(peer, sys, user);

  // A paused node runs nothing: the pump checks the shared flag before every slice.
  pump.gate = () => {
    const paused = shared.isPaused(slot);
    if (paused && !lane.paused) loop.pause(lane);
    else if (!paused && lane.paused) loop.resume(lane);
  };

  let drainDeadline = 0;
  const drainOver = (): boolean => performance.now() > drainDeadline;
  const host: NodeHost = {
    ...laneScheduling(loop, lane, () => {
      drainDeadline = performance.now() + DRAIN_SLICE_MS;
      system?.drain(DRAIN_BUDGET, drainOver);
    }),
    send: (toNode, env: Envelope, systemLane) => {
      const outcome = router.send(toNode, env, loop.now(), systemLane ? SYSTEM_LANE : USER_LANE);
      if (outcome === 'sent' || env.kind !== 'user' || !system) return;
      if (outcome === 'link-full') system.deadLetter('link-full', env.to, env.msg, undefined);
      else system.deadLetter('dropped-by-network', env.to, env.msg, undefined, { cause: config.nodes.includes(toNode) ? 'node-down' : 'unknown-node' });
    },
    noteAsync: () => {},
    nodeFailed: (error) => {
      // The events that explain the failure go first, on the same port, so they are not lost.
      flushPendingEvents();
      notify({ kind: 'node-failed', error: toWireError(error) });
    },
    // The continuation of outside work resumes through the node's lane: never while it is paused.
    external: (work) =>
      new Promise((resolve, reject) => {
        work().then(
          (value) => void loop.post(loop.now(), lane, () => resolve(value)),
          (error: unknown) => void loop.post(loop.now(), lane, () => reject(error)),
        );
      }),
  };

  system = new ActorSystem({
    name: node,
    uid: data.uid,
    host,
    random: createRandom(config.seed, `node:${node}:${data.starts}`),
    // In threads a node's disk lives in its worker: a kill loses it (durability model).
    disk: new Disk(),
    events,
    maxMessageAgeMs: config.maxMessageAgeMs,
    throughput: config.throughput,
    userSupervision: config.userGuardian,
  });
  const sys = system;

  const plugins = await loadPlugins(config.plugins);
  setupPlugins(sys, plugins, { nodeName: node, nodeUid: data.uid, clusterNodes: config.nodes, seed: config.seed, maxMessageAgeMs: config.maxMessageAgeMs });

  const control: NodeControl = {
    async spawn(defName, props, options): Promise<Result<ReturnType<ActorSystem['spawn']>>> {
      try {
        return { ok: true, value: sys.spawn('user', sys.lookupDef(defName), props, options) };
      } catch (err) {
        return { ok: false, error: toWireError(err) };
      }
    },
    async stopActor(ref) {
      sys.stopActor(ref);
    },
    async stats() {
      return sys.stats();
    },
    async actorStats(path) {
      return sys.actorStats(path);
    },
    async links(): Promise<WorkerLinkCounters> {
      const inbound: WorkerLinkCounters['in'] = {};
      for (const [key, c] of Object.entries(model.linkCounters())) if (key.endsWith(`->${node}`)) inbound[key.slice(0, -node.length - 2)] = c;
      return { out: router.counters(), in: inbound, undecodable: { ...router.undecodable } };
    },
    async connect(peer, systemPort, userPort) {
      router.connect(peer, systemPort, userPort);
    },
    async disconnect(peer) {
      router.disconnect(peer);
    },
    async reachability(report) {
      // Through the node's lane: a paused node runs no actor code, continuations of failed asks included.
      loop.post(loop.now(), lane, () => sys.reportReachability(report));
    },
    async wake() {
      pump.kick();
    },
    async shutdown() {
      sys.shutdown();
      router.flush();
      flushPendingEvents();
      router.close();
      pump.stop();
    },
  };
  expose(control, nodeEndpoint(data.controlPort as unknown as Parameters<typeof nodeEndpoint>[0]));
  notify({ kind: 'ready', uid: data.uid });
}

const data = workerData as NodeWorkerData;
main(data).catch((err: unknown) => {
  data.eventsPort.postMessage({ kind: 'start-failed', error: toWireError(err) } satisfies WorkerNotice);
});
