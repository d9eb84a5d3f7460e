/**
 * The same epidemic as sim/epidemic.ts, driven by a plain loop instead of the runtime: the pure
 * sites of rumor.ts and anti-entropy.ts, a FIFO queue for their messages, no actors, no codec, no
 * network model. It is the benchmark's baseline (the runtime's overhead is the difference) and a
 * cross-check of the shell (both drivers must agree on the paper's measures).
 *
 * Its order of events is the runtime's on a zero-latency network: each cycle every site ticks,
 * then the messages are handled in the order they were sent, replies after the messages that
 * caused them. Randomness differs (each site draws from its own seeded stream here, from its
 * node's stream in the runtime), so the two agree in distribution, not run by run.
 */
import { createRandom } from '@starling/actors';
import { AntiEntropySite } from '../anti-entropy.ts';
import { epidemicCurve, epidemicMetrics } from '../epidemic-metrics.ts';
import { RumorSite } from '../rumor.ts';
import { type EpidemicParams, type EpidemicRun, type EpidemicSummary, EXPERIMENT_UPDATE, originFor, resolveEpidemicParams, runSeed, summarize } from './epidemic-params.ts';
import { type EpidemicBody, isRumorMessage } from './epidemic-plugin.ts';

type Body = EpidemicBody;

interface Step {
  readonly sends: readonly { readonly to: number; readonly msg: Body }[];
  readonly learned: readonly string[];
  readonly removed?: readonly string[];
}

interface Site {
  tick(cycle: number): Step;
  receive(from: number, msg: Body, cycle: number): Step;
  update(id: string, value: string, cycle: number): Step;
  readonly counters: { readonly messagesSent: number; readonly copiesSent: number };
}

/** Wraps a rumor or anti-entropy site behind one interface (a message of the other protocol is a bug). */
function newSite(params: EpidemicParams, self: number, peers: readonly number[], random: () => number): Site {
  if (params.protocol === 'rumor') {
    const site = new RumorSite<string, string, number>({ self, peers, config: { mode: params.mode, removal: params.removal, stop: params.stop, k: params.k }, random });
    return {
      tick: (cycle) => site.tick(cycle),
      receive: (from, msg, cycle) => {
        if (!isRumorMessage(msg)) throw new TypeError(`a rumor site got ${msg.type}`);
        return site.receive(from, msg, cycle);
      },
      update: (id, value, cycle) => site.update(id, value, cycle),
      counters: site.counters,
    };
  }
  const site = new AntiEntropySite<string, string, number>({ self, peers, config: { mode: params.mode }, random });
  return {
    tick: (cycle) => site.tick(cycle),
    receive: (from, msg, cycle) => {
      if (isRumorMessage(msg)) throw new TypeError(`an anti-entropy site got ${msg.type}`);
      return site.receive(from, msg, cycle);
    },
    update: (id, value, cycle) => site.update(id, value, cycle),
    counters: site.counters,
  };
}

/** One epidemic of `params.nodes` sites in a plain loop, seeded by `seed`. */
export function runEpidemicDirect(rawParams: Partial<EpidemicParams>, seed: number): EpidemicRun {
  const params = resolveEpidemicParams(rawParams);
  const n = params.nodes;
  const peers = Array.from({ length: n }, (_, i) => i);
  const sites = peers.map((i) => {
    const random = createRandom(seed, `epidemic-site:${i}`);
    return newSite(params, i, peers, () => random.next());
  });
  const learnedAtCycle = new Int32Array(n).fill(-1);
  const removedAtCycle = new Int32Array(n).fill(-1);
  let reached = 0;
  let removed = 0;
  // The message queue: parallel arrays, consumed from `head`, cleared each cycle.
  let from: number[] = [];
  let to: number[] = [];
  let bodies: Body[] = [];
  const apply = (site: number, step: Step, cycle: number): void => {
    for (const send of step.sends) {
      from.push(site);
      to.push(send.to);
      bodies.push(send.msg);
    }
    // One update per experiment: a step learns or removes it at most once.
    if (step.learned.length > 0) {
      learnedAtCycle[site] = cycle;
      reached++;
    }
    if (step.removed !== undefined && step.removed.length > 0) {
      removedAtCycle[site] = cycle;
      removed++;
    }
  };
  const drain = (cycle: number): void => {
    for (let head = 0; head < bodies.length; head++) apply(to[head]!, sites[to[head]!]!.receive(from[head]!, bodies[head]!, cycle), cycle);
    from = [];
    to = [];
    bodies = [];
  };
  const origin = originFor(seed, n);
  apply(origin, sites[origin]!.update(EXPERIMENT_UPDATE.id, EXPERIMENT_UPDATE.value, 0), 0);
  drain(0);
  const isOver = (): boolean => (params.protocol === 'rumor' ? reached - removed === 0 : reached === n);
  let cycle = 0;
  while (!isOver() && cycle < params.maxCycles) {
    cycle++;
    for (let i = 0; i < n; i++) apply(i, sites[i]!.tick(cycle), cycle);
    drain(cycle);
  }
  let copiesSent = 0;
  let messagesSent = 0;
  for (const site of sites) {
    copiesSent += site.counters.copiesSent;
    messagesSent += site.counters.messagesSent;
  }
  const tally = { learnedAtCycle, removedAtCycle, origin, copiesSent, messagesSent, endCycle: cycle };
  return { seed, origin, metrics: epidemicMetrics(tally), curve: epidemicCurve(tally), isOver: isOver() };
}

/** `runs` plain-loop epidemics with seeds `seed`, `seed + 1`..., and their means. */
export function runEpidemicsDirect(rawParams: Partial<EpidemicParams>, runs: number, seed: number): EpidemicSummary {
  const params = resolveEpidemicParams(rawParams);
  const out: EpidemicRun[] = [];
  for (let r = 0; r < runs; r++) out.push(runEpidemicDirect(params, runSeed(seed, r)));
  return summarize(params, out);
}
