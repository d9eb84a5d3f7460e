/**
 * Lifeguard (Dadgar, Phillips, Currey, 2018): two refinements that keep SWIM from declaring
 * healthy members dead when the *prober* is the slow one.
 *
 * - Local health awareness: a node that misses acks it should have got (or has to refute a
 *   suspicion of itself) raises a score, and stretches its probe interval and timeout by
 *   `score + 1`; a prompt ack lowers it again.
 * - Dynamic suspicion: a suspicion starts with a long timeout that shrinks, logarithmically, as
 *   other members independently suspect the same member.
 */
import { assert } from './assert.ts';

/** Local health multiplier: a score in [0, max - 1]; timeouts are scaled by `score + 1`. */
export class Awareness {
  private score = 0;

  constructor(private readonly maxMultiplier: number) {
    assert(maxMultiplier >= 1, 'awarenessMaxMultiplier >= 1');
  }

  /** Adds `delta` (negative for good news), clamped to the range. */
  apply(delta: number): void {
    this.score = Math.min(this.maxMultiplier - 1, Math.max(0, this.score + delta));
  }

  get health(): number {
    return this.score;
  }

  /** `ms` stretched by the current score. */
  scale(ms: number): number {
    return ms * (this.score + 1);
  }
}

/** Lifeguard's suspicion timeout bounds for a cluster of `members` members. */
export function suspicionBoundsMs(members: number, suspicionMult: number, maxTimeoutMult: number, probeIntervalMs: number): { minMs: number; maxMs: number } {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, members)));
  const minMs = Math.round(suspicionMult * nodeScale * probeIntervalMs);
  return { minMs, maxMs: minMs * maxTimeoutMult };
}

/** Confirmations expected before a suspicion reaches its minimum timeout: `suspicionMult - 2`, none in clusters too small to give them. */
export function expectedConfirmations(members: number, suspicionMult: number): number {
  const k = suspicionMult - 2;
  return members - 2 < k ? 0 : k;
}

/**
 * The timeout of a suspicion after `confirmations` independent confirmations out of `k` expected:
 * `max(min, max - (max - min) * log(c + 1) / log(k + 1))`, the curve memberlist uses.
 */
export function suspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - frac * (maxMs - minMs)));
}
