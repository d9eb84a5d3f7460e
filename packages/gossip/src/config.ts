/**
 * Every knob of the membership protocol, named with its unit. Defaults are HashiCorp memberlist's
 * `DefaultLANConfig` (tuned there for a LAN of up to a few hundred nodes) and Serf's for reconnects.
 */
import { InvalidArgumentError } from '@starling/actors';

export interface SwimConfig {
  /** Time between two probes of one member by this node (SWIM's protocol period T'), in ms. memberlist LAN: 1 000. */
  readonly probeIntervalMs: number;
  /** Wait for a direct ack before asking others to probe (`ping-req`), in ms. memberlist LAN: 500. */
  readonly probeTimeoutMs: number;
  /** Members asked to probe indirectly after a missed ack (SWIM's k). memberlist LAN: 3. */
  readonly indirectChecks: number;
  /** Each update is piggybacked `retransmitMult * ceil(log10(n + 1))` times. memberlist LAN: 4. */
  readonly retransmitMult: number;
  /** Updates piggybacked on one message, at most. memberlist fills a 1 400-byte UDP packet, ~20 updates. */
  readonly maxPiggybackUpdates: number;
  /**
   * Lifeguard's suspicion timeout: the minimum is `suspicionMult * max(1, log10(n)) * probeIntervalMs`;
   * `suspicionMult - 2` independent confirmations shrink it from the maximum to the minimum. memberlist LAN: 4.
   */
  readonly suspicionMult: number;
  /** The maximum suspicion timeout is this times the minimum. memberlist: 6. */
  readonly suspicionMaxTimeoutMult: number;
  /** Lifeguard's local health multiplier: probe interval and timeout scale up to this factor. memberlist: 8. */
  readonly awarenessMaxMultiplier: number;
  /** Time between gossip rounds that send pending updates to `gossipNodes` members, in ms. memberlist LAN: 200. */
  readonly gossipIntervalMs: number;
  /** Members each gossip round sends to. memberlist LAN: 3. */
  readonly gossipNodes: number;
  /** Dead members still receive gossip for this long, so they learn of their death and refute, in ms. memberlist: 30 000. */
  readonly gossipToTheDeadMs: number;
  /**
   * Time between full state exchanges with a random member, in ms; scaled up by `log2(n) - 4` above 32 members.
   * memberlist LAN: 30 000.
   */
  readonly pushPullIntervalMs: number;
  /** Time between attempts to reach one random dead member, so both sides of a healed partition merge, in ms. Serf: 30 000. */
  readonly reconnectIntervalMs: number;
  /** Dead members are retried and kept this long before they are forgotten, in ms. Serf's reconnect timeout: 24 h. */
  readonly deadRetentionMs: number;
  /** Left members are kept this long (so stale news cannot revive them), in ms. Serf's tombstone timeout: 24 h. */
  readonly leftRetentionMs: number;
  /** While no seed has answered a join, it is retried this often, in ms. Serf's retry-join default: 30 000; 1 000 here, since seeds start together. */
  readonly joinRetryIntervalMs: number;
}

export const DEFAULT_SWIM_CONFIG: SwimConfig = {
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  retransmitMult: 4,
  maxPiggybackUpdates: 20,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 30_000,
  deadRetentionMs: 24 * 3_600_000,
  leftRetentionMs: 24 * 3_600_000,
  joinRetryIntervalMs: 1_000,
};

const INTEGER_KNOBS: ReadonlySet<keyof SwimConfig> = new Set([
  'indirectChecks',
  'retransmitMult',
  'maxPiggybackUpdates',
  'suspicionMult',
  'suspicionMaxTimeoutMult',
  'awarenessMaxMultiplier',
  'gossipNodes',
]);

/** Fills defaults and validates. Throws `INVALID_CONFIG` naming the first bad knob. */
export function resolveSwimConfig(raw: Partial<SwimConfig> | undefined): SwimConfig {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw new InvalidArgumentError('INVALID_CONFIG', 'gossip options must be an object');
  const out: Record<string, number> = { ...DEFAULT_SWIM_CONFIG };
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (!(key in DEFAULT_SWIM_CONFIG)) throw new InvalidArgumentError('INVALID_CONFIG', `gossip has no option '${key}'`);
    const k = key as keyof SwimConfig;
    const isInt = INTEGER_KNOBS.has(k);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < (k === 'indirectChecks' ? 0 : 1) || (isInt && !Number.isInteger(value))) {
      throw new InvalidArgumentError('INVALID_CONFIG', `gossip.${key} must be ${isInt ? 'an integer' : 'a number'} >= ${k === 'indirectChecks' ? 0 : 1}, got ${String(value)}`);
    }
    out[key] = value;
  }
  const config = out as unknown as SwimConfig;
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new InvalidArgumentError('INVALID_CONFIG', `gossip.probeTimeoutMs (${config.probeTimeoutMs}) must be below probeIntervalMs (${config.probeIntervalMs})`);
  }
  if (config.suspicionMult < 2) throw new InvalidArgumentError('INVALID_CONFIG', 'gossip.suspicionMult must be >= 2');
  return config;
}
