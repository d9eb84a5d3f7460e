/**
 * The measures of an epidemic of one update, as Demers et al. (PODC 1987, §1.4) define them:
 *
 * - residue s: the fraction of sites still susceptible when the epidemic ends (no infective site
 *   is left, for rumor mongering; for anti-entropy, when every site has the update or the cycle
 *   cap is reached);
 * - traffic m: update messages sent, divided by the number of sites. A message counts once per
 *   update it carries, and only if it carries the update: pull requests, feedback and digests do
 *   not count (they are reported apart, as messages per site);
 * - t_ave: the mean, over the sites reached other than the origin, of the cycle at which a site
 *   first received the update (counted from the cycle of the injection);
 * - t_last: the cycle at which the last reached site received it.
 *
 * Pure functions over what the sites report, shared by the simulator and the plain-loop baseline.
 */

/** What the sites of one epidemic reported. */
export interface EpidemicTally {
  /** Cycle at which each site learned the update (the origin: the injection's cycle); -1 if never. */
  readonly learnedAtCycle: ArrayLike<number>;
  /** Cycle at which each site stopped spreading it; -1 if never (always -1 for anti-entropy). */
  readonly removedAtCycle: ArrayLike<number>;
  /** Index of the site where the update was injected. */
  readonly origin: number;
  /** Copies of the update sent, by every site. */
  readonly copiesSent: number;
  /** Messages sent, of every kind, by every site. */
  readonly messagesSent: number;
  /** The cycle at which the epidemic was over (or the cap was reached). */
  readonly endCycle: number;
}

/** The paper's measures of one run, plus totals. */
export interface EpidemicMetrics {
  readonly sites: number;
  /** Sites that received the update, the origin included. */
  readonly reached: number;
  /** s: fraction of sites never reached. */
  readonly residue: number;
  /** m: update messages sent per site. */
  readonly traffic: number;
  /** Messages of every kind sent per site (requests, feedback and digests included). */
  readonly messagesPerSite: number;
  /** t_ave, in cycles after the injection. 0 when only the origin was reached. */
  readonly tAve: number;
  /** t_last, in cycles after the injection. */
  readonly tLast: number;
  /** Cycles the epidemic lasted (until no infective site was left, or the cap). */
  readonly cycles: number;
}

/** One cycle of an epidemic curve. */
export interface CurvePoint {
  readonly cycle: number;
  /** Sites that first received the update during this cycle. */
  readonly newlyReached: number;
  /** Sites that know the update at the end of this cycle. */
  readonly reached: number;
  /** Sites still spreading it at the end of this cycle (rumor mongering; for anti-entropy, every site that has it). */
  readonly infective: number;
}

/** The paper's measures of one run. */
export function epidemicMetrics(tally: EpidemicTally): EpidemicMetrics {
  const sites = tally.learnedAtCycle.length;
  const start = tally.learnedAtCycle[tally.origin]!;
  if (!(start >= 0)) throw new RangeError('the origin must have learned the update');
  let reached = 0;
  let sum = 0;
  let last = start;
  for (let i = 0; i < sites; i++) {
    const at = tally.learnedAtCycle[i]!;
    if (at < 0) continue;
    reached++;
    if (i === tally.origin) continue;
    sum += at - start;
    if (at > last) last = at;
  }
  return {
    sites,
    reached,
    residue: (sites - reached) / sites,
    traffic: tally.copiesSent / sites,
    messagesPerSite: tally.messagesSent / sites,
    tAve: reached > 1 ? sum / (reached - 1) : 0,
    tLast: last - start,
    cycles: tally.endCycle - start,
  };
}

/** The epidemic curve of one run: one point per cycle from the injection to the end. */
export function epidemicCurve(tally: EpidemicTally): CurvePoint[] {
  const start = tally.learnedAtCycle[tally.origin]!;
  const length = Math.max(0, tally.endCycle - start) + 1;
  const learned = new Array<number>(length).fill(0);
  const removed = new Array<number>(length).fill(0);
  const n = tally.learnedAtCycle.length;
  if (tally.removedAtCycle.length !== n) throw new RangeError('learnedAtCycle and removedAtCycle must have one entry per site');
  for (let i = 0; i < n; i++) {
    const at = tally.learnedAtCycle[i]!;
    if (at >= 0) learned[Math.min(length - 1, at - start)]!++;
    const gone = tally.removedAtCycle[i]!;
    if (gone >= 0) removed[Math.min(length - 1, gone - start)]!++;
  }
  const out: CurvePoint[] = [];
  let reached = 0;
  let stopped = 0;
  for (let c = 0; c < length; c++) {
    reached += learned[c]!;
    stopped += removed[c]!;
    out.push({ cycle: c, newlyReached: learned[c]!, reached, infective: reached - stopped });
  }
  return out;
}

/** Means of several runs' measures (the simulator's answer, as the paper's tables give it). */
export function meanMetrics(runs: readonly EpidemicMetrics[]): EpidemicMetrics {
  if (runs.length === 0) throw new RangeError('no runs to average');
  const mean = (pick: (m: EpidemicMetrics) => number): number => runs.reduce((acc, m) => acc + pick(m), 0) / runs.length;
  return {
    sites: mean((m) => m.sites),
    reached: mean((m) => m.reached),
    residue: mean((m) => m.residue),
    traffic: mean((m) => m.traffic),
    messagesPerSite: mean((m) => m.messagesPerSite),
    tAve: mean((m) => m.tAve),
    tLast: mean((m) => m.tLast),
    cycles: mean((m) => m.cycles),
  };
}

/**
 * The mean curve of several runs, cycle by cycle. A run that ended earlier counts with its final
 * state from then on (reached and infective as at its end, none newly reached).
 */
export function meanCurve(curves: readonly (readonly CurvePoint[])[]): CurvePoint[] {
  if (curves.length === 0) return [];
  const length = Math.max(...curves.map((c) => c.length));
  const out: CurvePoint[] = [];
  for (let cycle = 0; cycle < length; cycle++) {
    let newlyReached = 0;
    let reached = 0;
    let infective = 0;
    for (const curve of curves) {
      const point = curve[cycle];
      if (point !== undefined) {
        newlyReached += point.newlyReached;
        reached += point.reached;
        infective += point.infective;
      } else {
        const final = curve[curve.length - 1];
        reached += final?.reached ?? 0;
        infective += final?.infective ?? 0;
      }
    }
    out.push({ cycle, newlyReached: newlyReached / curves.length, reached: reached / curves.length, infective: infective / curves.length });
  }
  return out;
}
