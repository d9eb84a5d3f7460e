/**
 * The one serialisable config that starts a cluster in any runtime.
 */
import { DEFAULT_MAX_MESSAGE_BYTES } from './codec.ts';
import { InvalidArgumentError } from './errors.ts';
import type { NetworkRules } from './network/rules.ts';
import type { PluginSpec } from './plugin.ts';
import type { BackoffOptions } from './supervisor.ts';
import { DEFAULT_MAX_MESSAGE_AGE_MS, DEFAULT_THROUGHPUT } from './system.ts';

/** Where the nodes run. */
export type RuntimeKind =
  /** All nodes in one thread on a virtual clock: a seed replays the run exactly. */
  | 'simulation'
  /** All nodes in one thread on the real clock. */
  | 'local'
  /** One worker thread per node, real time, real parallelism. */
  | 'threads';

/** How the host restarts a node that failed (escalation past its root guardian). */
export interface NodeRestartPolicy {
  /** First restart delay, doubled at each consecutive restart, in ms. Default 100. */
  minBackoffMs: number;
  /** Ceiling of the delay, in ms. Default 5 000. */
  maxBackoffMs: number;
  /** At most this many restarts within `withinMs`; past it the node stays down. Default 5. */
  maxRestarts: number;
  /** Default 60 000 ms. */
  withinMs: number;
}

/** Everything a cluster is started from. Plain data: it can be saved, printed and sent to workers. */
export interface ClusterConfig {
  readonly runtime: RuntimeKind;
  /** Seeds every random choice: node uids, the network model's draws, each node's `random()`. Default 1. */
  readonly seed?: number;
  /** A count (`3` names them n1..n3) or the node names. */
  readonly nodes: number | readonly string[];
  readonly plugins?: readonly PluginSpec[];
  /** The network model's initial rules. Default: a perfect network with zero latency. */
  readonly network?: Partial<NetworkRules>;
  /** Deliveries older than this are dropped (principle 9), in ms. Default 10 000. */
  readonly maxMessageAgeMs?: number;
  /** Largest encoded envelope, in bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Messages one actor handles before another gets a turn. Default 32. */
  readonly throughput?: number;
  /** Messages held for a paused node before further ones are dropped. Default 10 000. */
  readonly pausedQueueLimit?: number;
  readonly nodeRestart?: Partial<NodeRestartPolicy>;
  /**
   * Restart intensity and backoff of each node's `/user` guardian over top-level actors. A failure
   * past it stops the node (then `nodeRestart` applies). Default: 10 restarts within 10 000 ms.
   */
  readonly userGuardian?: GuardianOptions;
  /**
   * The host tells every node when it sees another node die (kill, escalation), as a perfect
   * failure detector: watches of actors there terminate with `node-down`. Default true; a
   * membership plugin (gossip) is the realistic detector.
   */
  readonly hostFailureDetector?: boolean;
  /** Record every delivery and event into a trace (simulation and local). Default false. */
  readonly trace?: boolean;
  /** Settings of the threads runtime. */
  readonly threads?: Partial<ThreadsOptions>;
}

/** Settings of the threads runtime. */
export interface ThreadsOptions {
  /**
   * Messages a user lane may hold in flight (sent, not yet consumed by the receiving node) before
   * it drops with `link-full`. Default 10 000: about 100 batches of the size that reaches the
   * cross-thread ceiling on this hardware.
   */
  readonly userLinkCapacity: number;
  /**
   * Encoded bytes a user lane may hold in flight. Default 32 MiB: the count alone would let 10 000
   * large messages exhaust a worker's heap.
   */
  readonly userLinkBytes: number;
  /** The same for the system lane (the runtime's signals, actors under /system). Default 100 000. */
  readonly systemLinkCapacity: number;
  /** Each node worker's heap limits (Node's `resourceLimits`). Default: 512 MiB old, 64 MiB young generation. */
  readonly resourceLimits: { readonly maxOldGenerationSizeMb?: number; readonly maxYoungGenerationSizeMb?: number; readonly stackSizeMb?: number };
}

export const DEFAULT_THREADS: ThreadsOptions = {
  userLinkCapacity: 10_000,
  userLinkBytes: 32 * 1024 * 1024,
  systemLinkCapacity: 100_000,
  resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64 },
};

/** The serialisable part of a guardian's strategy (its decider is always `restart`). */
export interface GuardianOptions {
  readonly maxRestarts?: number;
  readonly withinMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
}

/** A config with every default filled in. */
export interface ResolvedConfig {
  readonly runtime: RuntimeKind;
  readonly seed: number;
  readonly nodes: readonly string[];
  readonly plugins: readonly PluginSpec[];
  readonly network: Partial<NetworkRules>;
  readonly maxMessageAgeMs: number;
  readonly maxMessageBytes: number;
  readonly throughput: number;
  readonly pausedQueueLimit: number;
  readonly nodeRestart: NodeRestartPolicy;
  readonly userGuardian: GuardianOptions;
  readonly hostFailureDetector: boolean;
  readonly trace: boolean;
  readonly threads: ThreadsOptions;
}

export const DEFAULT_NODE_RESTART: NodeRestartPolicy = {
  minBackoffMs: 100,
  maxBackoffMs: 5_000,
  maxRestarts: 5,
  withinMs: 60_000,
};

/** The reserved name of the host's own endpoint (asks and tells from outside the cluster). */
export const HOST_NODE = '@host';

const NODE_NAME = /^[A-Za-z0-9_\-.]+$/;

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0)) throw new InvalidArgumentError('INVALID_CONFIG', `${name} must be a number > 0, got ${String(v)}`);
  return v;
}

/** Validates a config and fills defaults. Throws `INVALID_CONFIG` naming the first problem. */
export function resolveConfig(config: ClusterConfig): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw new InvalidArgumentError('INVALID_CONFIG', 'config must be an object');
  if (!['simulation', 'local', 'threads'].includes(config.runtime)) {
    throw new InvalidArgumentError('INVALID_CONFIG', `runtime must be 'simulation', 'local' or 'threads', got ${JSON.stringify(config.runtime)}`);
  }
  let nodes: string[];
  if (typeof config.nodes === 'number') {
    if (!Number.isInteger(config.nodes) || config.nodes < 1) {
      throw new InvalidArgumentError('INVALID_CONFIG', `nodes must be a positive integer or a list of names, got ${config.nodes}`);
    }
    nodes = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
  } else if (Array.isArray(config.nodes) && config.nodes.length > 0) {
    nodes = [...config.nodes];
  } else {
    throw new InvalidArgumentError('INVALID_CONFIG', 'nodes must be a positive integer or a non-empty list of names');
  }
  const seen = new Set<string>();
  for (const n of nodes) {
    if (typeof n !== 'string' || !NODE_NAME.test(n)) throw new InvalidArgumentError('INVALID_CONFIG', `'${String(n)}' is not a valid node name ([A-Za-z0-9_-.])`);
    if (seen.has(n)) throw new InvalidArgumentError('INVALID_CONFIG', `node '${n}' is listed twice`);
    seen.add(n);
  }
  const seed = config.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError('INVALID_CONFIG', `seed must be an integer, got ${seed}`);
  return {
    runtime: config.runtime,
    seed,
    nodes,
    plugins: config.plugins ?? [],
    network: config.network ?? {},
    maxMessageAgeMs: positive('maxMessageAgeMs', config.maxMessageAgeMs ?? DEFAULT_MAX_MESSAGE_AGE_MS),
    maxMessageBytes: positive('maxMessageBytes', config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
    throughput: positive('throughput', config.throughput ?? DEFAULT_THROUGHPUT),
    pausedQueueLimit: positive('pausedQueueLimit', config.pausedQueueLimit ?? 10_000),
    nodeRestart: { ...DEFAULT_NODE_RESTART, ...config.nodeRestart },
    userGuardian: config.userGuardian ?? {},
    hostFailureDetector: config.hostFailureDetector ?? true,
    trace: config.trace ?? false,
    threads: {
      userLinkCapacity: positive('threads.userLinkCapacity', config.threads?.userLinkCapacity ?? DEFAULT_THREADS.userLinkCapacity),
      userLinkBytes: positive('threads.userLinkBytes', config.threads?.userLinkBytes ?? DEFAULT_THREADS.userLinkBytes),
      systemLinkCapacity: positive('threads.systemLinkCapacity', config.threads?.systemLinkCapacity ?? DEFAULT_THREADS.systemLinkCapacity),
      resourceLimits: config.threads?.resourceLimits ?? DEFAULT_THREADS.resourceLimits,
    },
  };
}
