/**
 * Starting clusters and single-node systems.
 */
import type { ActorDef, AskOptions, ReplyOf, SpawnOptions } from './actor.ts';
import type { Cluster, SimulationCluster } from './cluster.ts';
import { type ClusterConfig, type GuardianOptions, resolveConfig } from './config.ts';
import type { MailboxCounters } from './mailbox.ts';
import type { SystemCounters } from './system.ts';
import type { EventStream } from './events.ts';
import { loadPlugins } from './plugin.ts';
import type { ActorRef, AnyRef } from './ref.ts';
import { InProcessCluster } from './runtime/in-process.ts';
import { ThreadsCluster } from './runtime/threads/host.ts';

/**
 * Starts a cluster from a config: loads its plugins, boots every node, and returns the host's
 * handle. A simulation cluster's clock moves only when it is run (`until`, `runFor`, `runUntil`).
 *
 * ```ts
 * const cluster = await startCluster({ runtime: 'simulation', seed: 7, nodes: 3, plugins: [usePlugin(myPlugin)] });
 * const ref = await cluster.spawn('n1', 'echo', undefined);
 * const reply = await cluster.until(cluster.ask(ref, (replyTo) => ({ text: 'hi', replyTo }), { timeoutMs: 1000 }));
 * ```
 */
export async function startCluster(config: ClusterConfig & { runtime: 'simulation' }): Promise<SimulationCluster>;
export async function startCluster(config: ClusterConfig): Promise<Cluster>;
export async function startCluster(config: ClusterConfig): Promise<Cluster> {
  const resolved = resolveConfig(config);
  if (resolved.runtime === 'threads') {
    // Each worker loads the plugins itself; loading them here first reports a bad spec early.
    await loadPlugins(resolved.plugins);
    const threads = new ThreadsCluster(resolved);
    await threads.start();
    return threads;
  }
  const plugins = await loadPlugins(resolved.plugins);
  const cluster = new InProcessCluster(resolved, plugins);
  try {
    cluster.start();
  } catch (err) {
    // Nothing of a cluster that failed to start may keep running (or keep the process alive).
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * A single-node actor system on the real clock: the simplest way to use actors in an application.
 * Its `tell` and `ask` enter the node like a message between two of its actors: messages are not
 * copied (as between actors of one node), so do not mutate a message after sending it.
 */
export interface LocalSystem {
  /** The node's name. */
  readonly name: string;
  readonly events: EventStream;
  /** Spawns a top-level actor under `/user`. */
  spawn<M, S, P>(def: ActorDef<M, S, P>, props: P, options?: SpawnOptions): ActorRef<M>;
  tell<M>(ref: ActorRef<M>, msg: M): void;
  ask<Req, Res = ReplyOf<Req>>(ref: ActorRef<Req>, make: (replyTo: ActorRef<Res>) => NoInfer<Req>, options: AskOptions): Promise<Res>;
  /** Stops an actor and its children; stop hooks run. */
  stop(ref: AnyRef): void;
  /** The node's counters. */
  stats(): SystemCounters;
  /** Mailbox counters of one live actor. */
  actorStats(ref: AnyRef): MailboxCounters | undefined;
  /** Runtime clock, in ms since the system started. */
  now(): number;
  /** Stops every actor and releases the timers that keep the process alive. */
  shutdown(): Promise<void>;
}

/**
 * Starts a single-node system on the `local` runtime.
 *
 * ```ts
 * const system = await createSystem();
 * const counter = system.spawn(counterDef, undefined, { name: 'counter' });
 * system.tell(counter, { type: 'add', n: 2 });
 * const n = await system.ask(counter, (replyTo: ActorRef<number>) => ({ type: 'get', replyTo }), { timeoutMs: 1000 });
 * await system.shutdown();
 * ```
 */
export async function createSystem(
  options: { name?: string; seed?: number; maxMessageBytes?: number; userGuardian?: GuardianOptions } = {},
): Promise<LocalSystem> {
  const name = options.name ?? 'local';
  const cluster = (await startCluster({
    runtime: 'local',
    nodes: [name],
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
    ...(options.userGuardian !== undefined ? { userGuardian: options.userGuardian } : {}),
  })) as InProcessCluster;
  return {
    name,
    events: cluster.events,
    spawn<M, S, P>(def: ActorDef<M, S, P>, props: P, spawnOptions?: SpawnOptions): ActorRef<M> {
      const sys = cluster.runningSystem(name);
      sys.register(def);
      return sys.spawn('user', def, props, spawnOptions) as ActorRef<M>;
    },
    // The caller lives on this node's thread: tells and asks enter the node directly, like a tell
    // between two of its actors (no codec, no copy), instead of going through the host endpoint.
    tell: (ref, msg) => cluster.runningSystem(name).tell(ref, msg, undefined),
    ask: (ref, make, askOptions) => cluster.runningSystem(name).ask(ref, make, askOptions),
    stop: (ref) => void cluster.stopActor(ref),
    stats: () => cluster.runningSystem(name).stats(),
    actorStats: (ref) => (ref.node === name ? cluster.runningSystem(name).actorStats(ref.path) : undefined),
    now: () => cluster.now(),
    shutdown: () => cluster.stop(),
  };
}
