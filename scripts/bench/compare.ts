/**
 * The measuring discipline every benchmark shares. On a shared, noisy 2-core machine an absolute
 * figure means little; a ratio to a baseline measured in the same minute does. So contenders are
 * warmed up and sized apart, then timed in interleaved rounds (A, B, A, B...) so that a burst of
 * noise hits both sides, and each side's figure is the median of its rounds.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Contender, Measured } from './types.ts';

export interface CompareOptions {
  /** Timed rounds per contender (at least 5). */
  readonly rounds: number;
  /** Duration a round is sized to, in ms. */
  readonly targetRoundMs: number;
  /**
   * A round still pending after this fails the group: benchmarks must end by themselves. (A
   * round that never yields cannot be interrupted; its size bounds it.)
   */
  readonly roundTimeoutMs: number;
  log(line: string): void;
}

/** Sizing never grows a round more than this per step, so one distorted warm-up cannot explode it. */
const MAX_GROWTH = 20;
/** Untimed rounds per contender before timing: at least the minimum, at most the maximum. */
const MIN_SIZING_ROUNDS = 3;
const MAX_SIZING_ROUNDS = 8;

export class BenchTimeoutError extends Error {
  readonly code = 'BENCH_TIMEOUT';
}

/**
 * `gc()` if it can be had without restarting Node with `--expose-gc`. Collecting before each
 * round keeps the garbage one contender left behind out of the next contender's time.
 */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const gc = findGc();

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchTimeoutError(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Timed {
  readonly units: number;
  readonly ms: number;
}

async function timeRound(c: Contender, size: number, options: CompareOptions): Promise<Timed> {
  gc?.();
  const start = performance.now();
  const units = await withTimeout(c.run(size), options.roundTimeoutMs, `a round of ${c.name} (size ${size})`);
  const ms = performance.now() - start;
  if (!(units > 0)) throw new Error(`${c.name} reported ${units} units of work for size ${size}`);
  return { units, ms };
}

function scaled(size: number, ms: number, targetMs: number): number {
  const factor = Math.min(MAX_GROWTH, targetMs / Math.max(ms, 0.05));
  return Math.max(1, Math.round(size * factor));
}

/**
 * Warms a contender up and finds the size whose round lasts about the target. Early rounds run
 * cold code (and some libraries speed up a lot once warm), so sizing goes on until a warm round
 * lands near the target.
 */
async function findRoundSize(c: Contender, options: CompareOptions): Promise<number> {
  let current = c.initialSize;
  for (let step = 0; step < MAX_SIZING_ROUNDS; step++) {
    const { ms } = await timeRound(c, current, options);
    const isNearTarget = ms >= options.targetRoundMs / 2 && ms <= options.targetRoundMs * 2;
    current = scaled(current, ms, options.targetRoundMs);
    if (step >= MIN_SIZING_ROUNDS - 1 && isNearTarget) break;
  }
  return current;
}

/** Measures the contenders in interleaved rounds; see the module comment. */
export async function compare(contenders: readonly Contender[], options: CompareOptions): Promise<ReadonlyMap<string, Measured>> {
  const names = new Set(contenders.map((c) => c.name));
  if (names.size !== contenders.length) throw new Error('contender names must be unique within a comparison');
  const sizes = new Map<Contender, number>();
  for (const c of contenders) {
    const size = await findRoundSize(c, options);
    sizes.set(c, size);
    options.log(`  sized ${c.name}: ${size}`);
  }
  const rates = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  for (let round = 0; round < options.rounds; round++) {
    const line: string[] = [];
    for (const c of contenders) {
      const { units, ms } = await timeRound(c, sizes.get(c)!, options);
      const rate = (units / ms) * 1000;
      rates.get(c)!.push(rate);
      line.push(`${c.name} ${formatRate(rate)} (${ms.toFixed(0)} ms)`);
    }
    options.log(`  round ${round + 1}/${options.rounds}: ${line.join(' | ')}`);
  }
  return new Map(
    contenders.map((c) => {
      const all = rates.get(c)!;
      return [c.name, { name: c.name, rate: median(all), rates: all, size: sizes.get(c)! }];
    }),
  );
}

/** `12.3 M`, `456 k`, `7.89`: three significant digits with an SI suffix. */
export function formatRate(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (abs >= 1e3) return `${(value / 1e3).toPrecision(3)} k`;
  return value.toPrecision(3);
}
