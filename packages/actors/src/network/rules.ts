/**
 * The fault model's rules, as data, in Jepsen's and Maelstrom's vocabulary. Rules are compiled to
 * a connectivity matrix so that the check made at every delivery is one array read.
 */
import { InvalidArgumentError } from '../errors.ts';

/** How long a message spends on the wire. */
export type LatencyDistribution =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** `minMs` plus an exponential tail of mean `meanMs`: most messages fast, a few slow. */
  | { readonly kind: 'exponential'; readonly meanMs: number; readonly minMs?: number };

/**
 * A partition. `groups`: nodes in different groups cannot talk; a node in no group talks to
 * everyone (that is how a bridge is drawn). `ring`: Jepsen's majorities ring, where each node
 * hears exactly a majority made of its neighbours in `order`, and no two nodes hear the same one.
 */
export type Partition =
  | { readonly shape: 'groups'; readonly groups: readonly (readonly string[])[] }
  | { readonly shape: 'ring'; readonly order: readonly string[] };

/** A one-way drop: everything `from` sends to `to` is lost (Jepsen calls these grudges). */
export interface Grudge {
  readonly from: string;
  readonly to: string;
}

/** Every rule of the network model. Defaults: a perfect network with zero latency. */
export interface NetworkRules {
  /** Probability in [0, 1] that a message is lost. */
  readonly lossProbability: number;
  readonly latency: LatencyDistribution;
  /** Probability in [0, 1] that a message is delivered twice. */
  readonly duplicateProbability: number;
  /**
   * Probability in [0, 1] that a message is exempt from per-link FIFO order: it gets an extra
   * uniform delay in [0, `reorderWindowMs`] and later messages may overtake it.
   */
  readonly reorderProbability: number;
  /** Extra delay bound for reordered messages, in ms. */
  readonly reorderWindowMs: number;
  readonly grudges: readonly Grudge[];
  readonly partition: Partition | null;
}

export const PERFECT_NETWORK: NetworkRules = {
  lossProbability: 0,
  latency: { kind: 'constant', ms: 0 },
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderWindowMs: 10,
  grudges: [],
  partition: null,
};

function probability(name: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new InvalidArgumentError('INVALID_CONFIG', `${name} must be a probability in [0, 1], got ${String(p)}`);
  }
}

function nonNegative(name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new InvalidArgumentError('INVALID_CONFIG', `${name} must be a finite number >= 0, got ${String(v)}`);
  }
}

/** Throws `INVALID_CONFIG` naming the first bad field. */
export function validateLatency(d: LatencyDistribution): void {
  switch (d?.kind) {
    case 'constant':
      nonNegative('latency.ms', d.ms);
      return;
    case 'uniform':
      nonNegative('latency.minMs', d.minMs);
      nonNegative('latency.maxMs', d.maxMs);
      if (d.maxMs < d.minMs) throw new InvalidArgumentError('INVALID_CONFIG', 'latency.maxMs must be >= latency.minMs');
      return;
    case 'exponential':
      nonNegative('latency.meanMs', d.meanMs);
      if (d.minMs !== undefined) nonNegative('latency.minMs', d.minMs);
      return;
    default:
      throw new InvalidArgumentError('INVALID_CONFIG', `unknown latency kind ${JSON.stringify((d as { kind?: unknown })?.kind)}`);
  }
}

/** Validates rules against the cluster's node names. */
export function validateRules(rules: NetworkRules, nodes: readonly string[]): void {
  const known = new Set(nodes);
  const node = (what: string, n: string): void => {
    if (!known.has(n)) throw new InvalidArgumentError('UNKNOWN_NODE', `${what} names unknown node '${n}'`);
  };
  probability('lossProbability', rules.lossProbability);
  probability('duplicateProbability', rules.duplicateProbability);
  probability('reorderProbability', rules.reorderProbability);
  nonNegative('reorderWindowMs', rules.reorderWindowMs);
  validateLatency(rules.latency);
  if (!Array.isArray(rules.grudges)) throw new InvalidArgumentError('INVALID_CONFIG', 'grudges must be an array of {from, to}');
  for (const g of rules.grudges) {
    if (typeof g !== 'object' || g === null) throw new InvalidArgumentError('INVALID_CONFIG', 'a grudge must be {from, to}');
    node('grudge.from', g.from);
    node('grudge.to', g.to);
  }
  const p = rules.partition;
  if (p === null) return;
  if (typeof p !== 'object' || p === undefined) {
    throw new InvalidArgumentError('INVALID_CONFIG', `partition must be null or a partition, got ${String(p)}`);
  }
  if (p.shape === 'groups') {
    if (!Array.isArray(p.groups) || !p.groups.every(Array.isArray)) {
      throw new InvalidArgumentError('INVALID_CONFIG', 'partition groups must be an array of arrays of node names');
    }
    const seen = new Set<string>();
    for (const group of p.groups) {
      for (const n of group) {
        node('partition', n);
        if (seen.has(n)) throw new InvalidArgumentError('INVALID_CONFIG', `node '${n}' is in two partition groups`);
        seen.add(n);
      }
    }
  } else if (p.shape === 'ring') {
    if (!Array.isArray(p.order)) throw new InvalidArgumentError('INVALID_CONFIG', 'partition ring order must be an array of node names');
    const seen = new Set<string>();
    for (const n of p.order) {
      node('partition ring', n);
      if (seen.has(n)) throw new InvalidArgumentError('INVALID_CONFIG', `node '${n}' is twice in the partition ring`);
      seen.add(n);
    }
  } else {
    throw new InvalidArgumentError('INVALID_CONFIG', `unknown partition shape ${JSON.stringify((p as { shape?: unknown }).shape)}`);
  }
}

/** Cut causes in the compiled matrix. */
export const CUT_NONE = 0;
export const CUT_PARTITION = 1;
export const CUT_GRUDGE = 2;

/**
 * Compiles the partition and grudges into an n x n matrix over `nodes` (row: sender, column:
 * receiver): 0 open, {@link CUT_PARTITION} or {@link CUT_GRUDGE}. A node always reaches itself.
 */
export function compileCuts(rules: NetworkRules, nodes: readonly string[]): Uint8Array {
  const n = nodes.length;
  const index = new Map(nodes.map((name, i) => [name, i]));
  const cut = new Uint8Array(n * n);
  const p = rules.partition;
  if (p?.shape === 'groups') {
    const group = new Int32Array(n).fill(-1);
    p.groups.forEach((g, gi) => {
      for (const name of g) group[index.get(name)!] = gi;
    });
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const gi = group[i]!;
        const gj = group[j]!;
        if (gi >= 0 && gj >= 0 && gi !== gj) cut[i * n + j] = CUT_PARTITION;
      }
    }
  } else if (p?.shape === 'ring') {
    // Jepsen's majorities ring: node k of the ring hears exactly a majority, the window of
    // `majority` consecutive ring positions around it (one more after than before when the
    // majority is even). Windows are distinct shifts, so no two nodes hear the same majority;
    // with an even majority the cut is one-way between some pairs, as in Jepsen.
    const order = p.order.map((name) => index.get(name)!);
    const m = order.length;
    const majority = Math.floor(m / 2) + 1;
    const before = Math.floor((majority - 1) / 2);
    const after = majority - 1 - before;
    for (let k = 0; k < m; k++) {
      const to = order[k]!;
      for (let j = 0; j < m; j++) {
        const offset = (j - k + m) % m; // how far after k position j lies
        const hears = offset <= after || m - offset <= before;
        if (!hears) cut[order[j]! * n + to] = CUT_PARTITION;
      }
    }
  }
  for (const g of rules.grudges) {
    const i = index.get(g.from)!;
    const j = index.get(g.to)!;
    if (cut[i * n + j] === CUT_NONE) cut[i * n + j] = CUT_GRUDGE;
  }
  for (let i = 0; i < n; i++) cut[i * n + i] = CUT_NONE;
  return cut;
}

/** A one-line description of the rules, for events and logs. */
export function describeRules(r: NetworkRules): string {
  const parts: string[] = [];
  if (r.lossProbability > 0) parts.push(`loss ${r.lossProbability}`);
  const l = r.latency;
  if (l.kind === 'constant' && l.ms > 0) parts.push(`latency ${l.ms}ms`);
  if (l.kind === 'uniform') parts.push(`latency ${l.minMs}-${l.maxMs}ms`);
  if (l.kind === 'exponential') parts.push(`latency ${l.minMs ?? 0}+exp(${l.meanMs})ms`);
  if (r.duplicateProbability > 0) parts.push(`duplicate ${r.duplicateProbability}`);
  if (r.reorderProbability > 0) parts.push(`reorder ${r.reorderProbability}`);
  for (const g of r.grudges) parts.push(`drop ${g.from}->${g.to}`);
  const p = r.partition;
  if (p?.shape === 'groups') parts.push(`partition ${p.groups.map((g) => `[${g.join(',')}]`).join(' | ')}`);
  if (p?.shape === 'ring') parts.push(`majorities ring ${p.order.join(',')}`);
  return parts.length ? parts.join('; ') : 'healthy';
}
