/**
 * What every runtime's host shares: the network control surface over a rule store, fault
 * application over the host API, plugin setup on a starting node, and real-time waiting.
 */
import type { Cluster, NetworkControl } from '../cluster.ts';
import { StarlingError } from '../errors.ts';
import type { LinkCounters } from '../network/model.ts';
import { isolate } from '../network/partitions.ts';
import { type NetworkRules, PERFECT_NETWORK } from '../network/rules.ts';
import type { Fault } from '../network/schedule.ts';
import type { LoadedPlugin } from '../plugin.ts';
import type { ActorSystem, NodeHost } from '../system.ts';
import type { EventLoop, Lane } from './loop.ts';

/** Where a runtime keeps its rules, and how it applies a change (validated, published, evented). */
export interface RuleStore {
  rules(): NetworkRules;
  epoch(): number;
  change(partial: Partial<NetworkRules>): Promise<void>;
  links(): Promise<Record<string, LinkCounters>>;
}

/** The host's `network`, the same in every runtime. `baseline` is the configured rules `reset()` returns to. */
export function networkControl(store: RuleStore, nodes: readonly string[], baseline: Partial<NetworkRules>): NetworkControl {
  const change = (partial: Partial<NetworkRules>): Promise<void> => store.change(partial);
  return {
    get rules() {
      return store.rules();
    },
    get epoch() {
      return store.epoch();
    },
    update: change,
    partition: (partition) => change({ partition }),
    isolate: (node) => change({ partition: isolate(nodes, node) }),
    grudge: (from, to) => {
      const grudges = store.rules().grudges;
      // The same grudge twice is one grudge (a long schedule must not grow the rules).
      return change({ grudges: grudges.some((g) => g.from === from && g.to === to) ? grudges : [...grudges, { from, to }] });
    },
    heal: () => change({ partition: null, grudges: [] }),
    reset: () => change({ ...PERFECT_NETWORK, ...baseline }),
    setLoss: (p) => change({ lossProbability: p }),
    setLatency: (latency) => change({ latency }),
    setDuplication: (p) => change({ duplicateProbability: p }),
    setReorder: (p, windowMs) => change(windowMs === undefined ? { reorderProbability: p } : { reorderProbability: p, reorderWindowMs: windowMs }),
    links: () => store.links(),
  };
}

/** Applies one fault now, through the host API. */
export function applyFault(cluster: Cluster, fault: Fault): Promise<void> {
  const net = cluster.network;
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
      return cluster.kill(fault.node);
    case 'restart':
      return cluster.restart(fault.node);
    case 'restart-empty':
      return cluster.restartEmpty(fault.node);
    case 'pause':
      return cluster.pause(fault.node);
    case 'resume':
      return cluster.resume(fault.node);
  }
}

/** Registers every plugin's actors on a starting node, then runs their setups. */
export function setupPlugins(
  sys: ActorSystem,
  plugins: readonly LoadedPlugin[],
  node: { readonly nodeName: string; readonly nodeUid: string; readonly clusterNodes: readonly string[]; readonly seed: number; readonly maxMessageAgeMs: number },
): void {
  for (const { plugin } of plugins) for (const def of plugin.actors ?? []) sys.register(def);
  for (const { plugin, options } of plugins) {
    plugin.setup?.({
      ...node,
      options,
      disk: sys.disk,
      register: (def) => sys.register(def),
      spawn: (under, def, props, opts) => sys.spawn(under, def, props, opts),
    });
  }
}

/** Resolves with `promise`, or rejects with `TIMEOUT` after `timeoutMs` of real time. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
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

/**
 * The clock, timers and drain trigger of a node whose events run on `lane` of `loop`: the part of
 * a `NodeHost` every runtime builds the same way. `drain` runs the node's queued actors.
 */
export function laneScheduling(loop: EventLoop, lane: Lane, drain: () => void): Pick<NodeHost, 'now' | 'schedule' | 'requestDrain'> {
  let drainPending = false;
  const runDrain = (): void => {
    drainPending = false;
    drain();
  };
  return {
    now: () => loop.now(),
    schedule: (atMs, fn) => {
      const ev = loop.post(atMs, lane, fn);
      return { cancel: () => loop.cancel(ev) };
    },
    requestDrain: () => {
      if (drainPending) return;
      drainPending = true;
      loop.post(loop.now(), lane, runDrain);
    },
  };
}
