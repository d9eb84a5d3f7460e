/**
 * Fault schedules as data: a list of timed faults that can be generated from a seed, printed,
 * saved, parsed back and replayed. A failing run is reported as its schedule and seed.
 */
import { InvalidArgumentError } from '../errors.ts';
import { createRandom, shuffled } from '../random.ts';
import { bridge, halves, isolate, majoritiesRing, majorityMinority } from './partitions.ts';
import { type LatencyDistribution, type Partition, validateLatency } from './rules.ts';

/** One fault. Network faults change the rules; node faults act on one node. */
export type Fault =
  | { readonly kind: 'partition'; readonly partition: Partition }
  | { readonly kind: 'heal' }
  | { readonly kind: 'loss'; readonly probability: number }
  | { readonly kind: 'latency'; readonly latency: LatencyDistribution }
  | { readonly kind: 'duplicate'; readonly probability: number }
  | { readonly kind: 'reorder'; readonly probability: number; readonly windowMs: number }
  | { readonly kind: 'grudge'; readonly from: string; readonly to: string }
  /** Back to the cluster's configured rules: no partition or grudge, the configured loss, latency and the rest. */
  | { readonly kind: 'reset-network' }
  | { readonly kind: 'kill'; readonly node: string }
  | { readonly kind: 'restart'; readonly node: string }
  | { readonly kind: 'restart-empty'; readonly node: string }
  | { readonly kind: 'pause'; readonly node: string }
  | { readonly kind: 'resume'; readonly node: string };

export type FaultKind = Fault['kind'];

/** A fault and when it happens, in ms after the schedule starts. */
export interface TimedFault {
  readonly atMs: number;
  readonly fault: Fault;
}

/** A replayable list of faults, sorted by time. */
export interface FaultSchedule {
  /** The seed it was generated from, when it was generated. */
  readonly seed?: number;
  readonly faults: readonly TimedFault[];
}

/** Episode kinds the generator draws from; each episode starts a fault and later ends it. */
export type EpisodeKind =
  | 'partition'
  | 'loss'
  | 'latency'
  | 'duplicate'
  | 'reorder'
  | 'grudge'
  | 'kill'
  | 'restart-empty'
  | 'pause';

/** Generator settings. */
export interface GenerateOptions {
  readonly seed: number;
  readonly nodes: readonly string[];
  /** Length of the faulty period, in ms; every fault has ended by then. */
  readonly durationMs: number;
  /** Episode kinds to draw from. Default: all. */
  readonly kinds?: readonly EpisodeKind[];
  /** Shortest and longest episode, in ms. Default 500..5000. */
  readonly minEpisodeMs?: number;
  readonly maxEpisodeMs?: number;
  /** Quiet time between episodes, in ms. Default 200..2000. */
  readonly minGapMs?: number;
  readonly maxGapMs?: number;
}

const ALL_EPISODES: readonly EpisodeKind[] = [
  'partition',
  'loss',
  'latency',
  'duplicate',
  'reorder',
  'grudge',
  'kill',
  'restart-empty',
  'pause',
];

/**
 * Generates a schedule from a seed. Episodes do not overlap, so at most one fault is in force at a
 * time and every acknowledged write has a surviving replica (the durability model's limit): a node
 * restarted empty is restarted only after the previous episode ended. Rate and latency episodes
 * end with `reset-network`, back to the cluster's configured rules.
 */
export function generateSchedule(options: GenerateOptions): FaultSchedule {
  const { seed, nodes, durationMs } = options;
  if (nodes.length < 2) throw new InvalidArgumentError('INVALID_CONFIG', 'a fault schedule needs at least 2 nodes');
  const kinds = options.kinds ?? ALL_EPISODES;
  for (const k of kinds) {
    if (!ALL_EPISODES.includes(k)) throw new InvalidArgumentError('INVALID_CONFIG', `unknown episode kind ${JSON.stringify(k)}`);
  }
  const minEp = options.minEpisodeMs ?? 500;
  const maxEp = options.maxEpisodeMs ?? 5000;
  const minGap = options.minGapMs ?? 200;
  const maxGap = options.maxGapMs ?? 2000;
  const finite = (name: string, v: number): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgumentError('INVALID_CONFIG', `${name} must be a finite number >= 0, got ${String(v)}`);
    }
  };
  finite('durationMs', durationMs);
  finite('minEpisodeMs', minEp);
  finite('maxEpisodeMs', maxEp);
  finite('minGapMs', minGap);
  finite('maxGapMs', maxGap);
  if (maxEp < minEp) throw new InvalidArgumentError('INVALID_CONFIG', 'maxEpisodeMs must be >= minEpisodeMs');
  if (maxGap < minGap) throw new InvalidArgumentError('INVALID_CONFIG', 'maxGapMs must be >= minGapMs');
  // Times are whole ms: an episode must last at least 1 ms, or the loop below could never end.
  if (Math.round(minEp) < 1) throw new InvalidArgumentError('INVALID_CONFIG', `minEpisodeMs must be at least 1, got ${minEp}`);
  if (kinds.length === 0) return { seed, faults: [] };
  const rnd = createRandom(seed, 'fault-schedule');
  const between = (lo: number, hi: number): number => Math.round(lo + rnd.next() * (hi - lo));
  const pick = <T>(xs: readonly T[]): T => xs[rnd.int(xs.length)] as T;
  const faults: TimedFault[] = [];
  let t = between(minGap, maxGap);
  while (true) {
    const length = between(minEp, maxEp);
    if (t + length > durationMs) break;
    const kind = pick(kinds);
    const end = t + length;
    const node = pick(nodes);
    const add = (atMs: number, fault: Fault): void => void faults.push({ atMs, fault });
    switch (kind) {
      case 'partition': {
        const order = shuffled(nodes, rnd);
        const shapes: Partition[] = [halves(order), isolate(order, order[0] as string)];
        if (nodes.length >= 3) shapes.push(majorityMinority(order), bridge(order), majoritiesRing(order));
        add(t, { kind: 'partition', partition: pick(shapes) });
        add(end, { kind: 'heal' });
        break;
      }
      case 'loss':
        add(t, { kind: 'loss', probability: Math.round(between(5, 50)) / 100 });
        add(end, { kind: 'reset-network' });
        break;
      case 'latency':
        add(t, { kind: 'latency', latency: { kind: 'exponential', minMs: between(1, 20), meanMs: between(10, 200) } });
        add(end, { kind: 'reset-network' });
        break;
      case 'duplicate':
        add(t, { kind: 'duplicate', probability: between(5, 30) / 100 });
        add(end, { kind: 'reset-network' });
        break;
      case 'reorder':
        add(t, { kind: 'reorder', probability: between(10, 50) / 100, windowMs: between(5, 100) });
        add(end, { kind: 'reset-network' });
        break;
      case 'grudge': {
        const [from, to] = shuffled(nodes, rnd) as [string, string];
        add(t, { kind: 'grudge', from, to });
        add(end, { kind: 'heal' });
        break;
      }
      case 'kill':
        add(t, { kind: 'kill', node });
        add(end, { kind: 'restart', node });
        break;
      case 'restart-empty':
        add(t, { kind: 'kill', node });
        add(end, { kind: 'restart-empty', node });
        break;
      case 'pause':
        add(t, { kind: 'pause', node });
        add(end, { kind: 'resume', node });
        break;
    }
    t = end + between(minGap, maxGap);
  }
  return { seed, faults };
}

/** One line per fault, for people. */
export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return f.partition.shape === 'groups'
        ? `partition ${f.partition.groups.map((g) => `[${g.join(',')}]`).join(' | ')}`
        : `majorities ring ${f.partition.order.join(',')}`;
    case 'heal':
      return 'heal';
    case 'loss':
      return `loss ${f.probability}`;
    case 'latency':
      return `latency ${JSON.stringify(f.latency)}`;
    case 'duplicate':
      return `duplicate ${f.probability}`;
    case 'reorder':
      return `reorder ${f.probability} within ${f.windowMs}ms`;
    case 'grudge':
      return `drop ${f.from}->${f.to}`;
    case 'reset-network':
      return 'reset network';
    default:
      return `${f.kind} ${f.node}`;
  }
}

/** JSON with one fault per line: diffable, and {@link parseSchedule} reads it back. */
export function formatSchedule(s: FaultSchedule): string {
  const lines = s.faults.map((f) => `    ${JSON.stringify(f)}`);
  const seed = s.seed === undefined ? '' : `  "seed": ${s.seed},\n`;
  return `{\n${seed}  "faults": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

const NODE_FAULTS = new Set(['kill', 'restart', 'restart-empty', 'pause', 'resume']);

function bad(msg: string): never {
  throw new InvalidArgumentError('INVALID_SCHEDULE', msg);
}

function isProbability(x: unknown): x is number {
  return typeof x === 'number' && x >= 0 && x <= 1;
}

function checkFault(f: unknown, where: string, nodes: ReadonlySet<string> | undefined): Fault {
  if (typeof f !== 'object' || f === null) bad(`${where}: a fault must be an object`);
  const o = f as Record<string, unknown>;
  const node = (field: string): void => {
    const v = o[field];
    if (typeof v !== 'string' || v.length === 0) bad(`${where}: '${field}' must be a node name`);
    if (nodes && !nodes.has(v)) bad(`${where}: unknown node '${v}'`);
  };
  switch (o.kind) {
    case 'heal':
    case 'reset-network':
      return o as Fault;
    case 'loss':
    case 'duplicate':
      if (!isProbability(o.probability)) bad(`${where}: probability must be in [0, 1]`);
      return o as Fault;
    case 'reorder':
      if (!isProbability(o.probability)) bad(`${where}: probability must be in [0, 1]`);
      if (typeof o.windowMs !== 'number' || !Number.isFinite(o.windowMs) || o.windowMs < 0) bad(`${where}: windowMs must be a finite number >= 0`);
      return o as Fault;
    case 'latency':
      try {
        validateLatency(o.latency as LatencyDistribution);
      } catch (err) {
        bad(`${where}: ${(err as Error).message}`);
      }
      return o as Fault;
    case 'grudge':
      node('from');
      node('to');
      return o as Fault;
    case 'partition': {
      const p = o.partition as Partition | undefined;
      const names =
        p?.shape === 'groups' && Array.isArray(p.groups) && p.groups.every(Array.isArray)
          ? p.groups.flat()
          : p?.shape === 'ring' && Array.isArray(p.order)
            ? p.order
            : bad(`${where}: partition must be {shape:'groups',groups} or {shape:'ring',order}`);
      const seen = new Set<string>();
      for (const n of names) {
        if (typeof n !== 'string') bad(`${where}: partition members must be node names`);
        if (nodes && !nodes.has(n)) bad(`${where}: unknown node '${n}'`);
        if (seen.has(n)) bad(`${where}: node '${n}' appears twice in the partition`);
        seen.add(n);
      }
      return o as Fault;
    }
    default:
      if (typeof o.kind === 'string' && NODE_FAULTS.has(o.kind)) {
        node('node');
        return o as Fault;
      }
      return bad(`${where}: unknown fault kind ${JSON.stringify(o.kind)}`);
  }
}

/**
 * Parses and validates a schedule (from {@link formatSchedule} or written by hand). With `nodes`,
 * every node name is checked too. Throws `INVALID_SCHEDULE` naming the first problem.
 */
export function parseSchedule(text: string, nodes?: readonly string[]): FaultSchedule {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    bad(`not JSON: ${(err as Error).message}`);
  }
  return validateSchedule(raw, nodes);
}

/** Validates a schedule value; see {@link parseSchedule}. */
export function validateSchedule(raw: unknown, nodes?: readonly string[]): FaultSchedule {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { faults?: unknown }).faults)) {
    bad('a schedule is an object with a "faults" array');
  }
  const r = raw as { seed?: unknown; faults: unknown[] };
  if (r.seed !== undefined && typeof r.seed !== 'number') bad('"seed" must be a number');
  const known = nodes ? new Set(nodes) : undefined;
  let last = 0;
  const faults = r.faults.map((tf, i) => {
    const where = `faults[${i}]`;
    if (typeof tf !== 'object' || tf === null) bad(`${where}: expected {atMs, fault}`);
    const { atMs, fault } = tf as { atMs?: unknown; fault?: unknown };
    if (typeof atMs !== 'number' || !Number.isFinite(atMs) || atMs < 0) bad(`${where}: atMs must be a finite number >= 0`);
    if (atMs < last) bad(`${where}: faults must be sorted by atMs`);
    last = atMs;
    return { atMs, fault: checkFault(fault, where, known) };
  });
  return r.seed === undefined ? { faults } : { seed: r.seed, faults };
}
