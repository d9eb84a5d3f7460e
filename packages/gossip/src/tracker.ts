/**
 * Every node's view of the cluster, kept on the host from membership events.
 */
import type { Cluster, EventStream } from '@starling/actors';
import { onMembership, type ObservedMembershipEvent } from './events.ts';
import type { MemberIdentity, MemberInfo } from './member.ts';
import { gossipRef, type GossipRequest } from './plugin.ts';

/**
 * Every node's view, kept from membership events on the host: a synchronous picture for
 * `runUntil` conditions, checkers and dashboards. A node's view starts empty at each of its starts.
 */
export class MembershipTracker {
  private readonly views = new Map<string, Map<string, MemberInfo>>();
  /** `observer|member` pairs an event has set since the tracker started listening. */
  private readonly heard = new Set<string>();
  private readonly stop: () => void;

  /**
   * A tracker that also knows what happened before it started listening: it asks every running
   * node for a snapshot and fills in whatever no event has told it since.
   */
  static async attach(cluster: Cluster, options: { timeoutMs?: number } = {}): Promise<MembershipTracker> {
    const tracker = new MembershipTracker(cluster.events);
    const running = cluster.nodes.filter((n) => cluster.nodeState(n) === 'running');
    const snapshots = await cluster.until(
      Promise.all(running.map((node) => cluster.ask(gossipRef(node), (replyTo): GossipRequest => ({ type: 'snapshot', replyTo }), { timeoutMs: options.timeoutMs ?? 5_000 }))),
    );
    for (const snap of snapshots) tracker.seed(snap.node, snap.members);
    return tracker;
  }

  constructor(events: EventStream) {
    const off = onMembership(events, (e) => this.apply(e));
    // A node's view starts over at each start of it.
    const onStart = (e: { node: string }): void => {
      this.views.set(e.node, new Map());
      for (const key of [...this.heard]) if (key.startsWith(`${e.node}|`)) this.heard.delete(key);
    };
    events.on('node-started', onStart);
    this.stop = () => {
      off();
      events.off('node-started', onStart);
    };
  }

  /** `observer`'s view: member name → the latest entry it reported. */
  view(observer: string): ReadonlyMap<string, MemberInfo> {
    return this.views.get(observer) ?? new Map();
  }

  /** The state `observer` holds for `member`, if any. */
  stateOf(observer: string, member: string): MemberInfo['state'] | undefined {
    return this.views.get(observer)?.get(member)?.state;
  }

  /** Stops listening. */
  close(): void {
    this.stop();
  }

  /** Fills `observer`'s view with `members` wherever no event has spoken since the tracker started. */
  seed(observer: string, members: readonly MemberInfo[]): void {
    const view = this.viewFor(observer);
    for (const m of members) if (!this.heard.has(`${observer}|${m.name}`)) view.set(m.name, m);
  }

  private viewFor(observer: string): Map<string, MemberInfo> {
    let view = this.views.get(observer);
    if (!view) {
      view = new Map();
      this.views.set(observer, view);
    }
    return view;
  }

  private apply(e: ObservedMembershipEvent): void {
    this.heard.add(`${e.observer}|${e.member.name}`);
    const view = this.viewFor(e.observer);
    if (e.type === 'member-reaped') view.delete(e.member.name);
    else view.set(e.member.name, e.member);
  }
}

/**
 * Tells every running node about every other at once (a static bootstrap), so an experiment
 * starts from a converged view without the O(n² log n) gossip of n simultaneous joins. Start the
 * cluster with `joinAtStart: false` to skip the joins altogether.
 */
export async function introduceAll(cluster: Cluster, options: { timeoutMs?: number } = {}): Promise<void> {
  const running = cluster.nodes.filter((n) => cluster.nodeState(n) === 'running');
  const snapshots = await cluster.until(
    Promise.all(running.map((node) => cluster.ask(gossipRef(node), (replyTo): GossipRequest => ({ type: 'snapshot', replyTo }), { timeoutMs: options.timeoutMs ?? 5_000 }))),
  );
  const members: MemberIdentity[] = [];
  for (const snap of snapshots) {
    const self = snap.members.find((m) => m.name === snap.node);
    if (self) members.push({ name: self.name, uid: self.uid, startedAtMs: self.startedAtMs });
  }
  for (const node of running) cluster.tell(gossipRef(node), { type: 'introduce', members });
}
