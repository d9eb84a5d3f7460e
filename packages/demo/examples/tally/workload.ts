/**
 * The workload that load-tests the tally (plugin.ts): increments and reads at nodes drawn at
 * random, and afterwards two checks: every node converged on one total, and that total counts
 * every acknowledged increment and nothing that never happened (increments of unknown outcome
 * may or may not count).
 *
 *   pnpm demo load --without-store --plugin packages/demo/examples/tally/plugin.ts \
 *     --workload packages/demo/examples/tally/workload.ts --faults random --duration 20
 */
import { type ActorRef, AskTimeoutError, type Cluster, selectActor } from '@starling/actors';
import type { Check, Workload, WorkloadRun } from '../../src/index.ts';
import { TALLY_PATH, type TallyMsg, type TallyReply } from './plugin.ts';

const ASK_MS = 1_000;
/** How long the check waits for every node to agree, in ms of the runtime's clock. */
const AGREE_WITHIN_MS = 10_000;

/** Asks a node's tally; an increment no peer confirmed, or a timeout, is of unknown outcome (it may have counted). */
async function ask(cluster: Cluster, node: string, make: (replyTo: ActorRef<TallyReply>) => TallyMsg): Promise<number> {
  let reply: TallyReply;
  try {
    reply = await cluster.ask<TallyMsg, TallyReply>(selectActor(node, TALLY_PATH), make, { timeoutMs: ASK_MS });
  } catch (err) {
    if (err instanceof AskTimeoutError) throw Object.assign(new Error(err.message), { code: err.code, outcome: 'unknown' });
    throw err;
  }
  if (reply.type === 'tally-uncopied') throw Object.assign(new Error(`${node} counted it but no peer confirmed a copy`), { code: 'UNCOPIED', outcome: 'unknown' });
  return reply.total;
}

class TallyRun implements WorkloadRun {
  private acked = 0;
  private unknown = 0;
  private final = 0;

  constructor(private readonly cluster: Cluster) {}

  next(random: { next(): number; int(n: number): number }) {
    const node = this.cluster.nodes[random.int(this.cluster.nodes.length)]!;
    if (random.next() < 0.3) return { kind: 'read', run: async () => void (await ask(this.cluster, node, (replyTo) => ({ type: 'read', replyTo }))) };
    return {
      kind: 'incr',
      run: async () => {
        try {
          await ask(this.cluster, node, (replyTo) => ({ type: 'incr', replyTo }));
          this.acked++;
        } catch (err) {
          if ((err as { outcome?: string }).outcome === 'unknown') this.unknown++;
          throw err;
        }
      },
    };
  }

  figures(): Record<string, number> {
    return { 'increments acknowledged': this.acked, 'increments of unknown outcome': this.unknown, 'final total': this.final };
  }

  async check(): Promise<readonly Check[]> {
    const c = this.cluster;
    let totals: number[] = [];
    let agreed = false;
    const deadline = c.now() + AGREE_WITHIN_MS;
    while (!agreed && c.now() <= deadline) {
      // Under `until`: in simulation the host's asks need the clock to run.
      const read = c.nodes.map((n) => ask(c, n, (replyTo) => ({ type: 'read', replyTo })).catch(() => undefined));
      totals = (await c.until(Promise.all(read))).map((v) => v ?? -1);
      agreed = totals.every((t) => t === totals[0] && t >= 0);
      if (!agreed) await c.runFor(100);
    }
    this.final = totals[0] ?? 0;
    const lo = this.acked;
    const hi = this.acked + this.unknown;
    return [
      { name: 'every node agrees on the total', ok: agreed, detail: `totals ${totals.join(', ')}` },
      {
        name: 'the total counts every acknowledged increment and nothing more',
        ok: this.final >= lo && this.final <= hi,
        detail: `total ${this.final}, acknowledged ${lo}, unknown ${this.unknown}${this.final < lo ? `: ${lo - this.final} acknowledged increments lost` : ''}`,
      },
    ];
  }
}

export const workload: Workload = {
  name: 'tally',
  description: 'example tally (G-Counter): 70% increments, 30% reads at random nodes',
  start: ({ cluster }) => new TallyRun(cluster),
};
