/**
 * Shared by the threads benchmarks: bare worker threads (the baselines), results whose lower value
 * is better, and an interleaved-rounds measurement for figures that are not rates (latency
 * percentiles, start times, memory), which `ctx.compare` cannot time.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type BenchContext, type Contender, type Figure, figureResult } from '../../../scripts/bench/types.ts';

/** Untimed rounds per contender before the timed ones (cold code, first allocations). */
const WARMUP_ROUNDS = 2;

/**
 * Starts a bare worker from `bench/threads-bare/<file>` and waits for its first message. The
 * worker gets no `execArgv`, so it does not inherit this process's tsx loader: a plain `node`
 * worker, as cheap as a worker gets.
 */
export async function startBareWorker(file: string, workerData: unknown, timeoutMs = 10_000): Promise<Worker> {
  const worker = new Worker(new URL(`./threads-bare/${file}`, import.meta.url), { workerData, execArgv: [] });
  await nextMessage(worker, timeoutMs, `${file} to start`);
  return worker;
}

/** The next message a worker (or port) posts, failing if it exits or stays silent for `timeoutMs`. */
export function nextMessage<T = unknown>(worker: Worker, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
    const onMessage = (msg: T): void => finish(() => resolve(msg));
    const onExit = (code: number): void => finish(() => reject(new Error(`worker exited (code ${code}) while waiting for ${what}`)));
    const onError = (err: Error): void => finish(() => reject(err));
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      worker.off('error', onError);
      settle();
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    worker.once('error', onError);
  });
}

/** Terminates bare workers, waiting for each to exit. */
export async function terminateAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.terminate()));
}

/** A result where lower is better: `ratio` is subject / baseline, as for rates, so `maxRatio` goals read naturally. */
export const lowerIsBetter = figureResult;
export type { Figure };

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One side of a non-rate comparison: a round yields named figures (`p50` and `p99`, `ms`...). */
export interface Sampler<K extends string> {
  readonly name: string;
  round(): Promise<Readonly<Record<K, number>>>;
}

/**
 * Runs `rounds` interleaved rounds (A, B, A, B...) after `warmup` untimed ones each, and returns
 * each contender's per-key median over its rounds: a noise burst hits both sides alike, and one
 * distorted round moves neither median.
 */
export async function interleave<K extends string>(
  ctx: BenchContext,
  samplers: readonly Sampler<K>[],
  options: { readonly rounds: number; readonly warmup?: number; readonly format?: (figures: Readonly<Record<K, number>>) => string },
): Promise<Map<string, Record<K, number>>> {
  for (const s of samplers) for (let i = 0; i < (options.warmup ?? WARMUP_ROUNDS); i++) await s.round();
  const all = new Map<string, Readonly<Record<K, number>>[]>(samplers.map((s) => [s.name, []]));
  const format = options.format ?? ((f) => JSON.stringify(f));
  for (let r = 0; r < options.rounds; r++) {
    const line: string[] = [];
    for (const s of samplers) {
      const figures = await s.round();
      all.get(s.name)!.push(figures);
      line.push(`${s.name} ${format(figures)}`);
    }
    ctx.log(`  round ${r + 1}/${options.rounds}: ${line.join(' | ')}`);
  }
  const out = new Map<string, Record<K, number>>();
  for (const [name, rounds] of all) {
    const keys = Object.keys(rounds[0]!) as K[];
    out.set(name, Object.fromEntries(keys.map((k) => [k, median(rounds.map((f) => f[k]))])) as Record<K, number>);
  }
  return out;
}

/** Rejects after `ms`: every wait of these benchmarks is bounded. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `work` with one extra thread spinning (threads-bare/spin-worker.mjs explains why), and stops
 * it afterwards whatever happens. The spinner ends by itself after `maxMs` in any case.
 */
export async function withCpuAwake<T>(work: () => Promise<T>, maxMs: number): Promise<T> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const spinner = await startBareWorker('spin-worker.mjs', { flag: flag.buffer, maxMs });
  try {
    return await work();
  } finally {
    Atomics.store(flag, 0, 1);
    await spinner.terminate();
  }
}

/** Starts `nodes` bare flood workers (threads-bare/flood-worker.mjs) with a MessageChannel between every pair. */
export async function openBareFlood(nodes: number): Promise<Worker[]> {
  const workers: Worker[] = [];
  try {
    for (let index = 0; index < nodes; index++) workers.push(await startBareWorker('flood-worker.mjs', { index }));
    const ports = workers.map(() => ({}) as Record<number, MessagePort>);
    for (let i = 0; i < nodes; i++) {
      for (let j = i + 1; j < nodes; j++) {
        const { port1, port2 } = new MessageChannel();
        ports[i]![j] = port1;
        ports[j]![i] = port2;
      }
    }
    await Promise.all(
      workers.map((w, i) => {
        const ready = nextMessage(w, 10_000, 'a bare flood worker to connect');
        w.postMessage({ type: 'peers', ports: ports[i] }, Object.values(ports[i]!));
        return ready;
      }),
    );
    return workers;
  } catch (err) {
    await terminateAll(workers);
    throw err;
  }
}

/**
 * The bare flood as a contender: each round, every worker in `routes` bursts items to its targets
 * (100 per post, see flood-worker.mjs); it resolves once every receiver has counted its items.
 */
export function bareFloodContender(workers: readonly Worker[], routes: ReadonlyMap<number, readonly number[]>, initialSize: number, name: string): Contender {
  const links = [...routes.values()].reduce((n, to) => n + to.length, 0);
  // Receivers count cumulatively since they started.
  const expected = workers.map(() => 0);
  return {
    name,
    initialSize,
    async run(size) {
      const perLink = Math.max(1, Math.round(size / links));
      for (const to of routes.values()) for (const t of to) expected[t]! += perLink;
      const done = expected.map((total, i) => {
        if (total === 0) return Promise.resolve();
        const w = workers[i]!;
        const reply = nextMessage(w, 20_000, 'a bare receiver to count its items');
        w.postMessage({ type: 'await', total });
        return reply;
      });
      for (const [from, to] of routes) workers[from]!.postMessage({ type: 'burst', to, count: perLink });
      await Promise.all(done);
      return perLink * links;
    },
  };
}
