/**
 * The server's one reader of the cluster: every tick it asks each running node for its view of
 * membership and its counters, reads the ring and the links, and publishes one snapshot to every
 * stream. However many pages are open, the cluster is asked once per tick (the page never polls).
 */
import { type ActorRef, type Cluster, compileCuts, CUT_NONE, describeRules, type RuntimeEvent } from '@starling/actors';
import { asMembershipEvent, type GossipRequest, gossipRef, type MembershipSnapshot } from '@starling/gossip';
import { type Ring, RingAdmin } from '@starling/replication';
import { EventEmitter } from 'eventemitter3';
import { CounterSampler } from '../run/counters.ts';
import type { ClusterSnapshot, LinkRow, LogLine, MemberCell, NodeRow, RatePoint, RingView, StreamHello } from './snapshot.ts';

/** How the watch reads the cluster. */
export interface WatchOptions {
  /** Time between snapshots, in ms. Default 1 000. */
  readonly tickMs?: number;
  /** Rate points kept for a new page's chart. Default 120 (two minutes at the default tick). */
  readonly historyPoints?: number;
  /** The store's default N, R and W, shown on the page. */
  readonly quorum: { readonly n: number; readonly r: number; readonly w: number };
}

export const DEFAULT_TICK_MS = 1_000;
const DEFAULT_HISTORY_POINTS = 120;
/** Event log lines kept for a new page. */
const LOG_LINES = 200;

interface WatchEvents {
  snapshot: [ClusterSnapshot];
  log: [LogLine];
}

/** Reads the cluster every tick and emits `snapshot`; emits `log` for node, network, membership and ring events as they happen. */
export class ClusterWatch extends EventEmitter<WatchEvents> {
  private readonly sampler: CounterSampler;
  private readonly admin: RingAdmin;
  private readonly tickMs: number;
  private readonly historyPoints: number;
  private readonly rateHistory: RatePoint[] = [];
  private readonly logLines: LogLine[] = [];
  private last: ClusterSnapshot | null = null;
  private lastTotals: { atMs: number; byType: Record<string, number> } | undefined;
  private lastLinks: { atMs: number; links: Record<string, { sent: number; dropped: number }> } | undefined;
  private lastLinkRows: LinkRow[] | undefined;
  private ringFrom: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The tick being taken: there is never more than one, whatever asks for a refresh. */
  private ticking: Promise<void> | undefined;
  /** A refresh asked for while a tick was running: one more tick follows it. */
  private isRefreshDue = false;
  /** Cluster time the last tick ended. */
  private lastEndedAtMs = -Infinity;
  private isStarted = false;
  private isStopped = false;
  private readonly onEvent = (e: RuntimeEvent): void => this.noteEvent(e);

  constructor(
    private readonly cluster: Cluster,
    private readonly options: WatchOptions,
  ) {
    super();
    this.sampler = new CounterSampler(cluster, true);
    this.admin = new RingAdmin(cluster);
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.historyPoints = options.historyPoints ?? DEFAULT_HISTORY_POINTS;
    if (!(Number.isFinite(this.tickMs) && this.tickMs >= 50)) throw new RangeError(`tickMs must be at least 50, got ${this.tickMs}`);
    cluster.events.on('event', this.onEvent);
  }

  /** Takes the first snapshot, then one per tick until {@link stop}. */
  async start(): Promise<void> {
    if (this.isStarted) throw new Error('the watch is started already');
    this.isStarted = true;
    await this.run();
  }

  /** Stops ticking; resolves once a tick in flight has ended, so the cluster can stop after it. */
  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.timer);
    this.cluster.events.off('event', this.onEvent);
    await this.ticking;
  }

  /** The latest snapshot, the rate history and the event log: what a new stream starts with. */
  hello(): StreamHello {
    return { snapshot: this.last, rates: [...this.rateHistory], log: [...this.logLines] };
  }

  /** Samples a node now: its counts die with it, so a kill samples first. */
  async sampleBeforeKill(node: string): Promise<void> {
    await this.sampler.sample([node]);
  }

  /**
   * Takes a snapshot soon (after a fault, so pages need not wait for the next tick): at once if
   * no tick ran for a quarter of a tick, else a quarter tick after the last one ended. Refreshes
   * asked for while a tick runs make one more tick after it, never a second loop, and a script
   * posting faults in a loop cannot make the watch ask the nodes back to back.
   */
  refresh(): void {
    if (this.isStopped) return;
    if (this.ticking !== undefined) {
      this.isRefreshDue = true;
      return;
    }
    clearTimeout(this.timer);
    const waitMs = Math.max(0, this.lastEndedAtMs + this.tickMs / 4 - this.cluster.now());
    this.timer = setTimeout(() => void this.run(), waitMs);
  }

  /** One tick, then the next is scheduled: the only place ticks start. */
  private run(): Promise<void> {
    clearTimeout(this.timer);
    const ticking = this.tick()
      .catch((err: unknown) => {
        // A tick that failed leaves the last snapshot standing; the next tick tries again. A tick cut short by stop() is no news.
        if (!this.isStopped) process.stderr.write(`starling serve: a snapshot failed: ${err instanceof Error ? err.message : String(err)}\n`);
      })
      .finally(() => {
        if (this.ticking === ticking) this.ticking = undefined;
        this.lastEndedAtMs = this.cluster.now();
        if (this.isStopped) return;
        const isRefreshDue = this.isRefreshDue;
        this.isRefreshDue = false;
        // The next tick starts a full interval after this one ended (a quarter, for a refresh): a slow cluster is never asked twice at once.
        this.timer = setTimeout(() => void this.run(), isRefreshDue ? this.tickMs / 4 : this.tickMs);
      });
    this.ticking = ticking;
    return ticking;
  }

  private async tick(): Promise<void> {
    if (this.isStopped) return;
    const c = this.cluster;
    const running = c.nodes.filter((n) => c.nodeState(n) === 'running');
    // Every read settles before the tick ends (none rejects): the next tick never overlaps this one's asks.
    const [views, ring, links] = await Promise.all([
      this.readViews(running),
      this.readRing(running),
      c.network.links().catch(() => ({})),
      this.sampler.sample(running).catch(() => undefined),
    ]);
    if (this.isStopped) return;
    const atMs = c.now();
    const totals = this.sampler.totals();
    const rates = this.ratesSince(atMs, totals.messagesByType);
    const isFullTick = rates !== this.rateHistory.at(-1);
    const pending = running.reduce((sum, n) => sum + (this.sampler.latest(n).transfer?.partitionsPending ?? 0), 0);
    const snapshot: ClusterSnapshot = {
      atMs,
      runtime: c.runtime,
      quorum: this.options.quorum,
      nodes: c.nodes.map((name) => this.nodeRow(name, ring)),
      views,
      ring,
      network: {
        description: describeRules(c.network.rules),
        partition: c.network.rules.partition,
        grudges: c.network.rules.grudges,
        lossProbability: c.network.rules.lossProbability,
      },
      links: this.linkRows(atMs, links),
      rates,
      repairs: {
        hintsStored: totals.hintsStored,
        hintsDelivered: totals.hintsDelivered,
        hintsExpired: totals.hintsExpired,
        sloppyWrites: totals.sloppyWrites,
        readRepairs: totals.readRepairs,
        antiEntropyExchanges: totals.antiEntropyExchanges,
        keysRepairedByAntiEntropy: totals.keysRepairedByAntiEntropy,
        keysTransferred: totals.keysTransferred,
        partitionsPending: pending,
      },
    };
    this.last = snapshot;
    if (isFullTick) {
      this.rateHistory.push(rates);
      if (this.rateHistory.length > this.historyPoints) this.rateHistory.shift();
    }
    this.emit('snapshot', snapshot);
  }

  private nodeRow(name: string, ring: RingView | null): NodeRow {
    const c = this.cluster;
    const latest = c.nodeState(name) === 'running' ? this.sampler.latest(name) : {};
    const partitions = ring === null ? 0 : ring.owners.reduce((k, o) => k + (o === name ? 1 : 0), 0);
    return {
      name,
      state: c.nodeState(name),
      uid: c.nodeUid(name),
      inRing: ring !== null && (partitions > 0 || (ring.nextOwners?.includes(name) ?? false)),
      partitions,
      keys: latest.storage?.keys,
      hintsHeld: latest.storage?.hints,
    };
  }

  /** Each named node's view of membership now; null for a node that did not answer within a tick. */
  async readViews(running: readonly string[]): Promise<Record<string, MemberCell[] | null>> {
    const views: Record<string, MemberCell[] | null> = {};
    // A tick's asks must end before the next tick: a node that does not answer within the tick shows as unknown.
    const timeoutMs = Math.max(250, this.tickMs);
    await Promise.all(
      running.map(async (node) => {
        const snap = await this.cluster
          .ask<GossipRequest, MembershipSnapshot>(gossipRef(node), (replyTo: ActorRef<MembershipSnapshot>) => ({ type: 'snapshot', replyTo }), { timeoutMs })
          .catch(() => undefined);
        views[node] = snap === undefined ? null : snap.members.map((m) => ({ name: m.name, state: m.state, incarnation: m.incarnation }));
      }),
    );
    return views;
  }

  /** The ring of the node that answered last (its claimant if running), so the page does not flip between nodes' versions. */
  private async readRing(running: readonly string[]): Promise<RingView | null> {
    const order = this.ringFrom !== undefined && running.includes(this.ringFrom) ? [this.ringFrom, ...running.filter((n) => n !== this.ringFrom)] : running;
    for (const from of order.slice(0, 2)) {
      const ring: Ring | undefined = await this.admin.ring(from, { timeoutMs: Math.max(250, this.tickMs) }).catch(() => undefined);
      if (ring === undefined) continue;
      this.ringFrom = running.includes(ring.claimant) ? ring.claimant : from;
      return { from, asOfMs: this.cluster.now(), version: ring.version, claimant: ring.claimant, partitionCount: ring.partitionCount, owners: ring.owners, nextOwners: ring.next?.owners };
    }
    // Nobody answered: the last ring read stands, and says how old it is.
    return this.last?.ring ?? null;
  }

  /**
   * Messages per second since the last full tick. A refresh soon after a tick would divide a few
   * messages by a few milliseconds: intervals under half a tick keep the last rates instead.
   */
  private ratesSince(atMs: number, byType: Record<string, number>): RatePoint {
    const prev = this.lastTotals;
    const last = this.rateHistory.at(-1);
    if (prev !== undefined && last !== undefined && atMs - prev.atMs < this.tickMs / 2) return last;
    this.lastTotals = { atMs, byType };
    if (prev === undefined || atMs <= prev.atMs) return { atMs, byType: {} };
    const seconds = (atMs - prev.atMs) / 1000;
    const out = new Map<string, number>();
    for (const [type, n] of Object.entries(byType)) {
      // A node restarted between samples counts from zero again: never a negative rate.
      const delta = n - (prev.byType[type] ?? 0);
      if (delta > 0) out.set(type, Math.round(delta / seconds));
    }
    return { atMs, byType: Object.fromEntries(out) };
  }

  private linkRows(atMs: number, links: Record<string, { sent: number; dropped: Record<string, number> }>): LinkRow[] {
    const c = this.cluster;
    const cuts = compileCuts(c.network.rules, c.nodes);
    const now: Record<string, { sent: number; dropped: number }> = {};
    for (const [key, l] of Object.entries(links)) now[key] = { sent: l.sent, dropped: Object.values(l.dropped).reduce((a, b) => a + b, 0) };
    const prev = this.lastLinks;
    // As for message rates: a refresh right after a tick measures against the tick before.
    const isShort = prev !== undefined && this.lastLinkRows !== undefined && atMs - prev.atMs < this.tickMs / 2;
    if (isShort) return this.lastLinkRows!.map((row) => ({ ...row, isCut: cuts[c.nodes.indexOf(row.from) * c.nodes.length + c.nodes.indexOf(row.to)] !== CUT_NONE }));
    this.lastLinks = { atMs, links: now };
    const seconds = prev === undefined || atMs <= prev.atMs ? 0 : (atMs - prev.atMs) / 1000;
    const rows: LinkRow[] = [];
    c.nodes.forEach((from, i) => {
      c.nodes.forEach((to, j) => {
        if (i === j) return;
        const key = `${from}->${to}`;
        const a = now[key] ?? { sent: 0, dropped: 0 };
        const b = prev?.links[key] ?? { sent: 0, dropped: 0 };
        const rate = (x: number, y: number): number => (seconds === 0 ? 0 : Math.max(0, Math.round((x - y) / seconds)));
        rows.push({ from, to, sentPerS: rate(a.sent, b.sent), droppedPerS: rate(a.dropped, b.dropped), isCut: cuts[i * c.nodes.length + j] !== CUT_NONE });
      });
    });
    this.lastLinkRows = rows;
    return rows;
  }

  private noteEvent(e: RuntimeEvent): void {
    const line = logLineOf(e);
    if (line === undefined) return;
    this.logLines.push(line);
    if (this.logLines.length > LOG_LINES) this.logLines.shift();
    this.emit('log', line);
  }
}

/** The events worth a line on the page; the rest (actor starts, dead letters, anti-entropy rounds) are too many to read. */
function logLineOf(e: RuntimeEvent): LogLine | undefined {
  switch (e.type) {
    case 'node-started':
      return { atMs: e.atMs, kind: 'node', text: `${e.node} started` };
    case 'node-stopped':
      return { atMs: e.atMs, kind: 'node', text: `${e.node} stopped (${e.reason})` };
    case 'node-paused':
      return { atMs: e.atMs, kind: 'node', text: `${e.node} paused` };
    case 'node-resumed':
      return { atMs: e.atMs, kind: 'node', text: `${e.node} resumed` };
    case 'network-changed':
      return { atMs: e.atMs, kind: 'network', text: `network: ${e.description}` };
    case 'custom': {
      const m = asMembershipEvent(e);
      if (m !== undefined) {
        const verb = { 'member-joined': 'sees joined', 'member-alive': 'sees alive', 'member-suspected': 'suspects', 'member-dead': 'declares dead', 'member-left': 'sees left', 'member-reaped': 'forgot' }[m.type];
        return { atMs: e.atMs, kind: 'membership', text: `${m.observer} ${verb} ${m.member.name}` };
      }
      if (e.topic === 'starling.ring') {
        // Every node adopts every ring and reports every partition it receives: only commits and ends make the log.
        const d = e.data as { kind?: unknown; version?: unknown; change?: { kind?: unknown; node?: unknown; member?: { node?: unknown } } };
        if (d.kind === 'change-committed') {
          const who = d.change?.kind === 'join' ? `${String(d.change.member?.node)} joins` : `${String(d.change?.node)} leaves`;
          return { atMs: e.atMs, kind: 'ring', text: `ring v${String(d.version)} committed: ${who}` };
        }
        if (d.kind === 'change-finished') return { atMs: e.atMs, kind: 'ring', text: `${e.node}: ring change done at v${String(d.version)}` };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
