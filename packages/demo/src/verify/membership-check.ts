/**
 * The membership checker: no live node is declared dead unless a fault that could cut it off was
 * in force at the time (or ended within the failure detector's longest delay before): loss,
 * latency, reordering or duplication anywhere, a partition or one-way drop with it or its
 * observer on a side, or a pause, kill or restart of it or its observer. A node whose start had
 * ended (killed, restarted) is rightly dead. Pure: the run collects the facts (fault-log.ts).
 */

/** One observer's verdict that a member is dead. */
export interface Death {
  readonly observer: string;
  readonly subject: string;
  /** The start of the subject that was declared dead. */
  readonly subjectUid: string;
  readonly atMs: number;
}

/** A stretch of time during which a fault could cut `nodes` (every node: `all`) off. */
export interface Cut {
  readonly fromMs: number;
  /** Infinity while in force. */
  readonly toMs: number;
  readonly nodes: ReadonlySet<string> | 'all';
  readonly cause: string;
}

export interface MembershipFacts {
  readonly deaths: readonly Death[];
  /** When each node start ended, by uid. */
  readonly stoppedAtMs: ReadonlyMap<string, number>;
  readonly cuts: readonly Cut[];
  /** How long after a cut ends a death may still be its doing: the longest suspicion timeout plus a probe round, in ms. */
  readonly graceMs: number;
}

/** A death no fault explains, described for a report. */
export interface FalseDeath extends Death {
  readonly message: string;
}

export function falseDeaths(f: MembershipFacts): FalseDeath[] {
  const out: FalseDeath[] = [];
  for (const d of f.deaths) {
    const stopped = f.stoppedAtMs.get(d.subjectUid);
    if (stopped !== undefined && stopped <= d.atMs) continue;
    const excused = f.cuts.some((c) => c.fromMs <= d.atMs && d.atMs <= c.toMs + f.graceMs && (c.nodes === 'all' || c.nodes.has(d.subject) || c.nodes.has(d.observer)));
    if (!excused) out.push({ ...d, message: `${d.observer} declared ${d.subject} (${d.subjectUid}) dead at ${(d.atMs / 1000).toFixed(3)} s with no fault that could cut either off` });
  }
  return out;
}

/** The longest time from a fault to a death it causes: Lifeguard's longest suspicion timeout, plus a probe round and its timeout. */
export function detectionGraceMs(o: { readonly probeIntervalMs: number; readonly probeTimeoutMs: number; readonly suspicionMult: number; readonly suspicionMaxTimeoutMult: number; readonly awarenessMaxMultiplier: number }, nodes: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, nodes)));
  // A node with poor local health (Lifeguard's awareness) probes and times out slower, up to awarenessMaxMultiplier times.
  const probe = o.probeIntervalMs * o.awarenessMaxMultiplier;
  return o.suspicionMaxTimeoutMult * o.suspicionMult * scale * o.probeIntervalMs + 2 * probe + o.probeTimeoutMs * o.awarenessMaxMultiplier;
}
