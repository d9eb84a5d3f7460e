/**
 * The bare worker-thread baselines of the kv benchmark, on the actors bench's bare workers
 * (packages/actors/bench/threads-bare, started through its threads-support.ts):
 *
 * - flood: `nodes` bare workers, a MessageChannel between every pair, every worker posting items
 *   to every other, 100 per `postMessage`; the rate is items delivered per second, all links
 *   together. It is the batched cross-thread message rate the kv bound divides.
 * - ping-pong: a bare worker asking a bare echo worker, one `postMessage` per request and per
 *   reply, a fixed number in flight; the round's latency percentiles.
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import type { Contender } from '../../../scripts/bench/types.ts';
import { bareFloodContender, nextMessage, openBareFlood, type Sampler, startBareWorker, terminateAll } from '../../actors/bench/threads-support.ts';

/** Far above a sized round (~0.4 s): only a stuck round reaches it. */
const ROUND_WAIT_MS = 20_000;
const CONNECT_WAIT_MS = 10_000;

export { openBareFlood };

/** Every worker bursts to every other (the actors bench's bare flood, all to all). */
export function allToAllFlood(workers: readonly Worker[], name: string): Contender {
  const all = workers.map((_, i) => i);
  return bareFloodContender(workers, new Map(all.map((i) => [i, all.filter((j) => j !== i)])), 20_000, name);
}

/** An asking and an echoing bare worker over one MessageChannel. */
export async function openBarePingPong(): Promise<Worker[]> {
  const workers: Worker[] = [];
  try {
    workers.push(await startBareWorker('ping-worker.mjs', { role: 'asker' }), await startBareWorker('ping-worker.mjs', { role: 'echo' }));
    const { port1, port2 } = new MessageChannel();
    await Promise.all(
      [port1, port2].map((port, i) => {
        const ready = nextMessage(workers[i]!, CONNECT_WAIT_MS, 'a bare ping worker to connect');
        workers[i]!.postMessage({ type: 'port', port }, [port]);
        return ready;
      }),
    );
    return workers;
  } catch (err) {
    await terminateAll(workers);
    throw err;
  }
}

export type LatencyKey = 'p50' | 'p99';

/** A round of `count` round trips with `inFlight` outstanding; percentiles in µs. */
export function barePingSampler(asking: Worker, name: string, count: number, inFlight: number): Sampler<LatencyKey> {
  return {
    name,
    async round() {
      const reply = nextMessage<{ p50: number; p99: number; samples: number }>(asking, ROUND_WAIT_MS, `${name} to finish a round`);
      asking.postMessage({ type: 'run', count, inFlight });
      const p = await reply;
      if (p.samples !== count) throw new Error(`${name}: ${p.samples} of ${count} round trips`);
      return { p50: p.p50, p99: p.p99 };
    },
  };
}
