/**
 * Collects, from a running cluster's events, the facts the membership checker needs: every death
 * an observer declared, when each node start ended, and the stretches of time a fault was in
 * force, read from the runtime's own events (network changes, pauses, stops), so they are the
 * times the faults really took effect.
 */
import { type Cluster, type NetworkRules, type RuntimeEvent } from '@starling/actors';
import { asMembershipEvent } from '@starling/gossip';
import type { Cut, Death, MembershipFacts } from './membership-check.ts';

export class FaultLog {
  private readonly deaths: Death[] = [];
  private readonly stoppedAtMs = new Map<string, number>();
  private readonly cuts: Cut[] = [];
  /** The network cut in force, if any (one at a time: the rules are one state). */
  private network: { fromMs: number; nodes: ReadonlySet<string> | 'all'; cause: string } | undefined;
  /** Node faults in force: paused or down, by node. */
  private readonly nodeFaults = new Map<string, { fromMs: number; cause: string }>();
  private readonly baseline: NetworkRules;
  private readonly onEvent = (e: RuntimeEvent): void => this.note(e);

  constructor(private readonly cluster: Cluster) {
    this.baseline = cluster.network.rules;
    cluster.events.on('event', this.onEvent);
  }

  /** The facts so far; faults still in force run to the end of time. */
  facts(graceMs: number): MembershipFacts {
    const open: Cut[] = [];
    if (this.network !== undefined) open.push({ ...this.network, toMs: Infinity });
    for (const [node, f] of this.nodeFaults) open.push({ fromMs: f.fromMs, toMs: Infinity, nodes: new Set([node]), cause: f.cause });
    return { deaths: [...this.deaths], stoppedAtMs: new Map(this.stoppedAtMs), cuts: [...this.cuts, ...open], graceMs };
  }

  stop(): void {
    this.cluster.events.off('event', this.onEvent);
  }

  private note(e: RuntimeEvent): void {
    switch (e.type) {
      case 'network-changed':
        this.closeNetwork(e.atMs);
        this.openNetwork(e.atMs, e.description);
        return;
      case 'node-paused':
        this.nodeFaults.set(e.node, { fromMs: e.atMs, cause: 'paused' });
        return;
      case 'node-stopped':
        this.stoppedAtMs.set(e.nodeUid, e.atMs);
        if (!this.nodeFaults.has(e.node)) this.nodeFaults.set(e.node, { fromMs: e.atMs, cause: `stopped (${e.reason})` });
        return;
      case 'node-resumed':
      case 'node-started': {
        const f = this.nodeFaults.get(e.node);
        if (f !== undefined) this.cuts.push({ fromMs: f.fromMs, toMs: e.atMs, nodes: new Set([e.node]), cause: f.cause });
        this.nodeFaults.delete(e.node);
        return;
      }
      case 'custom': {
        const m = asMembershipEvent(e);
        if (m?.type === 'member-dead') this.deaths.push({ observer: m.observer, subject: m.member.name, subjectUid: m.member.uid, atMs: m.atMs });
        return;
      }
      default:
        return;
    }
  }

  private closeNetwork(atMs: number): void {
    if (this.network !== undefined) this.cuts.push({ ...this.network, toMs: atMs });
    this.network = undefined;
  }

  /** Opens a cut for the rules now in force, if they could cut anyone off. */
  private openNetwork(atMs: number, cause: string): void {
    const r = this.cluster.network.rules;
    const b = this.baseline;
    // Anything slower or lossier than the configured network may delay a probe past its timeout,
    // for anyone. Duplication delays nothing: it excuses no death.
    const isDegraded = r.lossProbability > b.lossProbability || JSON.stringify(r.latency) !== JSON.stringify(b.latency) || r.reorderProbability > b.reorderProbability;
    if (isDegraded || r.partition?.shape === 'ring') {
      this.network = { fromMs: atMs, nodes: 'all', cause };
      return;
    }
    const nodes = new Set<string>();
    // A node in no group talks to every node (a bridge): only the grouped ones are cut off from someone.
    if (r.partition?.shape === 'groups') for (const g of r.partition.groups) for (const n of g) nodes.add(n);
    for (const g of r.grudges) {
      nodes.add(g.from);
      nodes.add(g.to);
    }
    if (nodes.size > 0) this.network = { fromMs: atMs, nodes, cause };
  }
}
