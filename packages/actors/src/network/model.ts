/**
 * The network model: decides each inter-node message's fate from (seed, link, per-link sequence,
 * current rules). It owns no clock and no queue, so the simulation loop and the threads runtime
 * apply the same model. Decisions are stateless draws keyed by link and sequence number, so a
 * retransmission of an identical message gets its own fate and unrelated traffic cannot shift it.
 *
 * Delivery contract (principle 5): at most once per send unless the duplicate fault is on; FIFO
 * per link (delivery times never go backwards on a link) unless the reorder fault is on. Cuts
 * (partitions, one-way drops) are checked at send and again at delivery against the rules then
 * current, so once a partition is in force nothing crosses it, whatever was already in flight.
 */
import { hashString, hashUniform } from '../random.ts';
import type { NetworkDropCause } from '../events.ts';
import {
  compileCuts,
  CUT_GRUDGE,
  CUT_NONE,
  describeRules,
  type LatencyDistribution,
  type NetworkRules,
  PERFECT_NETWORK,
  validateRules,
} from './rules.ts';

/** What happens to one message. `atMs` holds one delivery time, or two when duplicated. */
export type Decision =
  | { readonly kind: 'deliver'; readonly atMs: readonly number[] }
  | { readonly kind: 'drop'; readonly cause: NetworkDropCause };

/** Counters of one directed link. */
export interface LinkCounters {
  sent: number;
  delivered: number;
  duplicated: number;
  bytes: number;
  /** Messages sent and not yet consumed by the receiver (threads; always 0 in one thread). */
  queueDepth: number;
  dropped: Record<NetworkDropCause, number>;
}

export function newLinkCounters(): LinkCounters {
  return {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    bytes: 0,
    queueDepth: 0,
    dropped: { loss: 0, partition: 0, grudge: 0, 'node-down': 0, 'unknown-node': 0, 'queue-full': 0, 'link-full': 0 },
  };
}

/** Independent draws per message. */
const DRAW_LOSS = 0;
const DRAW_LATENCY = 1;
const DRAW_DUPLICATE = 2;
const DRAW_REORDER = 3;
const DRAW_REORDER_DELAY = 4;

export function sampleLatencyMs(d: LatencyDistribution, u: number): number {
  switch (d.kind) {
    case 'constant':
      return d.ms;
    case 'uniform':
      return d.minMs + u * (d.maxMs - d.minMs);
    case 'exponential':
      return (d.minMs ?? 0) - d.meanMs * Math.log(1 - u);
  }
}

export class NetworkModel {
  private nodes: string[];
  private index = new Map<string, number>();
  private rulesValue: NetworkRules;
  private cuts: Uint8Array;
  private epochValue = 0;
  private seqs: Float64Array;
  private lastAt: Float64Array;
  private linkIds: Uint32Array;
  private hasLinkId: Uint8Array;
  private counters: (LinkCounters | undefined)[];

  constructor(
    nodes: readonly string[],
    private readonly seed: number,
    rules: Partial<NetworkRules> = {},
  ) {
    this.nodes = [...nodes];
    this.rulesValue = { ...PERFECT_NETWORK, ...rules };
    validateRules(this.rulesValue, this.nodes);
    this.cuts = new Uint8Array(0);
    this.seqs = new Float64Array(0);
    this.lastAt = new Float64Array(0);
    this.linkIds = new Uint32Array(0);
    this.hasLinkId = new Uint8Array(0);
    this.counters = [];
    this.resize();
  }

  /** Adds a node (a join); its links start empty and healthy. */
  addNode(name: string): void {
    if (this.index.has(name)) return;
    const old = { n: this.nodes.length, seqs: this.seqs, lastAt: this.lastAt, counters: this.counters };
    this.nodes.push(name);
    this.resize(old);
  }

  private resize(old?: { n: number; seqs: Float64Array; lastAt: Float64Array; counters: (LinkCounters | undefined)[] }): void {
    const n = this.nodes.length;
    this.index = new Map(this.nodes.map((name, i) => [name, i]));
    this.seqs = new Float64Array(n * n);
    this.lastAt = new Float64Array(n * n);
    // Link ids and counters are made on a link's first message: a 1000-node simulation has a
    // million links, most of which never carry anything (a sparse protocol such as SWIM).
    this.linkIds = new Uint32Array(n * n);
    this.hasLinkId = new Uint8Array(n * n);
    this.counters = new Array<LinkCounters | undefined>(n * n);
    if (old) {
      for (let i = 0; i < old.n; i++) {
        for (let j = 0; j < old.n; j++) {
          const k = i * n + j;
          const ok = i * old.n + j;
          this.seqs[k] = old.seqs[ok]!;
          this.lastAt[k] = old.lastAt[ok]!;
          this.counters[k] = old.counters[ok];
        }
      }
    }
    this.cuts = compileCuts(this.rulesValue, this.nodes);
  }

  get rules(): NetworkRules {
    return this.rulesValue;
  }

  /** Bumped by every rule change. In one thread cuts are read from the current matrix at delivery; across threads the epoch travels with the rules in shared memory. */
  get epoch(): number {
    return this.epochValue;
  }

  get nodeNames(): readonly string[] {
    return this.nodes;
  }

  /** Replaces some rules; validates first, so a bad change leaves the old rules in force. Returns the new epoch. */
  update(change: Partial<NetworkRules>): number {
    const next: NetworkRules = { ...this.rulesValue, ...change };
    validateRules(next, this.nodes);
    this.rulesValue = next;
    this.cuts = compileCuts(next, this.nodes);
    return ++this.epochValue;
  }

  describe(): string {
    return describeRules(this.rulesValue);
  }

  /** Whether the current rules cut `from` -> `to`: 0 open, else the cut's cause. */
  cutNow(from: string, to: string): NetworkDropCause | null {
    const i = this.index.get(from);
    const j = this.index.get(to);
    if (i === undefined || j === undefined) return null;
    const c = this.cuts[i * this.nodes.length + j];
    if (c === CUT_NONE) return null;
    return c === CUT_GRUDGE ? 'grudge' : 'partition';
  }

  /** Decides the fate of the next message on `from` -> `to`, sent at `nowMs`, of `bytes` encoded bytes. */
  decide(from: string, to: string, nowMs: number, bytes: number): Decision {
    const i = this.index.get(from);
    const j = this.index.get(to);
    if (i === undefined || j === undefined) return { kind: 'drop', cause: 'unknown-node' };
    const n = this.nodes.length;
    const k = i * n + j;
    const c = this.countersAt(k);
    c.sent++;
    c.bytes += bytes;
    const seq = this.seqs[k]!;
    this.seqs[k] = seq + 1;
    const cut = this.cuts[k]!;
    if (cut !== CUT_NONE) {
      const cause = cut === CUT_GRUDGE ? 'grudge' : 'partition';
      c.dropped[cause]++;
      return { kind: 'drop', cause };
    }
    const r = this.rulesValue;
    const link = this.linkIdAt(k, i, j);
    if (r.lossProbability > 0 && hashUniform(this.seed, link, seq, DRAW_LOSS) < r.lossProbability) {
      c.dropped.loss++;
      return { kind: 'drop', cause: 'loss' };
    }
    let at = nowMs + sampleLatencyMs(r.latency, hashUniform(this.seed, link, seq, DRAW_LATENCY));
    if (r.reorderProbability > 0 && hashUniform(this.seed, link, seq, DRAW_REORDER) < r.reorderProbability) {
      // Exempt from FIFO: later messages may overtake this one.
      at += hashUniform(this.seed, link, seq, DRAW_REORDER_DELAY) * r.reorderWindowMs;
    } else {
      const last = this.lastAt[k]!;
      if (at < last) at = last;
      this.lastAt[k] = at;
    }
    if (r.duplicateProbability > 0 && hashUniform(this.seed, link, seq, DRAW_DUPLICATE) < r.duplicateProbability) {
      c.duplicated++;
      return { kind: 'deliver', atMs: [at, at] };
    }
    return { kind: 'deliver', atMs: [at] };
  }

  /**
   * True when every message on `from` -> `to` would be delivered at once, untouched: no loss,
   * duplication, reordering or latency, and no cut. Then {@link passThrough} stands for `count`
   * calls of {@link decide} (same sequence numbers, same counters).
   */
  isClean(from: string, to: string): boolean {
    const r = this.rulesValue;
    if (r.lossProbability > 0 || r.duplicateProbability > 0 || r.reorderProbability > 0) return false;
    if (r.latency.kind !== 'constant' || r.latency.ms !== 0) return false;
    return this.cutNow(from, to) === null;
  }

  /** Accounts `count` messages of `bytes` in total, sent at `sentAtMs`, that a clean link delivers at once. */
  passThrough(from: string, to: string, count: number, bytes: number, sentAtMs: number): void {
    const i = this.index.get(from);
    const j = this.index.get(to);
    if (i === undefined || j === undefined) return;
    const k = i * this.nodes.length + j;
    const c = this.countersAt(k);
    c.sent += count;
    c.bytes += bytes;
    this.seqs[k] = this.seqs[k]! + count;
    if (sentAtMs > this.lastAt[k]!) this.lastAt[k] = sentAtMs;
  }

  /** Records deliveries made by the runtime. */
  noteDelivered(from: string, to: string, count = 1): void {
    const c = this.link(from, to);
    if (c) c.delivered += count;
  }

  /** Records a drop the runtime made at delivery (a cut, the target down, a full queue). */
  noteDropped(from: string, to: string, cause: NetworkDropCause): void {
    const c = this.link(from, to);
    if (c) c.dropped[cause]++;
  }

  /** Counters of one link (live object). */
  link(from: string, to: string): LinkCounters | undefined {
    const i = this.index.get(from);
    const j = this.index.get(to);
    if (i === undefined || j === undefined) return undefined;
    return this.countersAt(i * this.nodes.length + j);
  }

  private countersAt(k: number): LinkCounters {
    let c = this.counters[k];
    if (c === undefined) {
      c = newLinkCounters();
      this.counters[k] = c;
    }
    return c;
  }

  /** The link's id in the fate draws: a hash of its name, so fates do not depend on node order. */
  private linkIdAt(k: number, i: number, j: number): number {
    if (this.hasLinkId[k] === 0) {
      this.linkIds[k] = hashString(`${this.nodes[i]}->${this.nodes[j]}`);
      this.hasLinkId[k] = 1;
    }
    return this.linkIds[k]!;
  }

  /** A copy of every link's counters, keyed `from->to`, links that carried traffic only. */
  linkCounters(): Record<string, LinkCounters> {
    const out: Record<string, LinkCounters> = {};
    const n = this.nodes.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const c = this.counters[i * n + j];
        if (c === undefined || c.sent === 0) continue;
        out[`${this.nodes[i]}->${this.nodes[j]}`] = { ...c, dropped: { ...c.dropped } };
      }
    }
    return out;
  }
}
