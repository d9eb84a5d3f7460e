/**
 * The receiving side of a ring change's moves, pure bookkeeping (no actor, no clock of its own):
 * which partitions this node still has to pull, from whom, where each one's cursor stands, and
 * which pulls to send now.
 *
 * The receiver drives the move (receiver-paced flow control): it asks for one batch per partition
 * at a time and asks for the next only once the last is merged, so a slow receiver is never
 * flooded, and at most `concurrency` partitions move at once, so moves do not starve clients
 * (Riak's handoff storms, and its `handoff_concurrency` of 2). A pull unanswered for `retryAfterMs`
 * frees its slot and is asked again later, backing off, while other partitions go on: one dead
 * sender does not stall the rest. Cursors and finished partitions are kept with the data (on the
 * node's disk area), so a receiver restarted with its data resumes where it was, and one restarted
 * empty starts over; both are safe, since merging a batch twice changes nothing.
 */
import type { Transfer } from './transfer-plan.ts';

/** How a node receives moving partitions. */
export interface ReceiverConfig {
  /** Partitions pulled at once, at most. */
  readonly concurrency: number;
  /** A pull unanswered this long is asked again (doubling up to 8 times this), in ms. */
  readonly retryAfterMs: number;
}

/** What survives a restart of the receiver: finished partitions and cursors, for one ring version. */
export interface ReceiverProgress {
  readonly version: number;
  /** `partition:from` of each finished move. */
  readonly done: readonly string[];
  /** `partition:from` → the last key merged. */
  readonly cursors: Readonly<Record<string, string>>;
}

/** A pull to send. */
export interface Pull {
  readonly reqId: string;
  readonly partition: number;
  readonly from: string;
  readonly after: string | null;
}

interface Incoming {
  readonly partition: number;
  readonly from: string;
  /** Where to pull from: the planned sender, then other old replicas, taken in turn after misses. */
  readonly sources: readonly string[];
  after: string | null;
  isDone: boolean;
  inFlight: { readonly reqId: string; readonly from: string; readonly sentAtMs: number } | undefined;
  /** Pulls unanswered in a row: the wait before the next doubles with each. */
  misses: number;
  /** Index in `sources` of the node pulled from: the next one after two misses in a row, kept while it answers. */
  source: number;
  notBeforeMs: number;
  keys: number;
  bytes: number;
  startedAtMs: number | undefined;
}

/** One move finished, for events and counters. */
export interface Finished {
  readonly partition: number;
  readonly from: string;
  readonly keys: number;
  readonly bytes: number;
  readonly durationMs: number;
}

function id(partition: number, from: string): string {
  return `${partition}:${from}`;
}

/** The moves a node receives for one ring version. */
export class Receiver {
  private readonly moves = new Map<string, Incoming>();
  private seq = 0;

  constructor(
    readonly version: number,
    transfers: readonly Transfer[],
    private readonly config: ReceiverConfig,
    /** Tells this receiver's pulls from those of an earlier start of the actor. */
    private readonly token: string,
    saved?: ReceiverProgress,
    /**
     * Other nodes that hold a move's partition, pulled from when its sender misses twice in a row
     * (it may be gone for good): they hold the same keys, bar writes one of them missed. Pulls
     * name the last key received, so a switch of sender goes on from there.
     */
    alternatives: (t: Transfer) => readonly string[] = () => [],
  ) {
    const progress = saved?.version === version ? saved : undefined;
    const done = new Set(progress?.done ?? []);
    for (const t of transfers) {
      const k = id(t.partition, t.from);
      this.moves.set(k, {
        partition: t.partition,
        from: t.from,
        sources: [t.from, ...alternatives(t).filter((x) => x !== t.from)],
        after: progress?.cursors[k] ?? null,
        isDone: done.has(k),
        inFlight: undefined,
        misses: 0,
        source: 0,
        notBeforeMs: 0,
        keys: 0,
        bytes: 0,
        startedAtMs: undefined,
      });
    }
  }

  /** True when every move is finished (at once for a node receiving nothing). */
  get isDone(): boolean {
    for (const m of this.moves.values()) if (!m.isDone) return false;
    return true;
  }

  /** Moves not finished yet. */
  get pending(): number {
    let n = 0;
    for (const m of this.moves.values()) if (!m.isDone) n++;
    return n;
  }

  /** Moves with a pull on its way. */
  get active(): number {
    let n = 0;
    for (const m of this.moves.values()) if (m.inFlight !== undefined) n++;
    return n;
  }

  /** The pulls to send at `nowMs`: pulls unanswered too long are given up (their slot freed), then free slots are filled. */
  due(nowMs: number): Pull[] {
    let active = 0;
    for (const m of this.moves.values()) {
      if (m.inFlight === undefined) continue;
      if (nowMs - m.inFlight.sentAtMs >= this.config.retryAfterMs) {
        m.inFlight = undefined;
        m.misses++;
        if (m.misses % 2 === 0) m.source = (m.source + 1) % m.sources.length;
        m.notBeforeMs = nowMs + this.config.retryAfterMs * Math.min(2 ** (m.misses - 1), 8);
      } else active++;
    }
    const out: Pull[] = [];
    // Moves already started first (finish what is begun), then in partition order.
    const waiting = [...this.moves.values()].filter((m) => !m.isDone && m.inFlight === undefined && m.notBeforeMs <= nowMs);
    waiting.sort((a, b) => Number(b.startedAtMs !== undefined) - Number(a.startedAtMs !== undefined) || a.partition - b.partition);
    for (const m of waiting) {
      if (active >= this.config.concurrency) break;
      out.push(this.pull(m, nowMs));
      active++;
    }
    return out;
  }

  private pull(m: Incoming, nowMs: number): Pull {
    const reqId = `${this.token}.${this.version}.${++this.seq}`;
    const from = m.sources[m.source]!;
    m.inFlight = { reqId, from, sentAtMs: nowMs };
    m.startedAtMs ??= nowMs;
    return { reqId, partition: m.partition, from, after: m.after };
  }

  /** The move a reply from `from` answers, if it is the pull on its way (a late or repeated reply answers nothing). */
  private answered(reqId: string, partition: number, from: string): Incoming | undefined {
    for (const m of this.moves.values()) if (m.partition === partition && m.inFlight?.reqId === reqId && m.inFlight.from === from) return m;
    return undefined;
  }

  /** Whether a reply answers the pull on its way (a late or repeated reply answers nothing). */
  expects(reqId: string, partition: number, from: string): boolean {
    return this.answered(reqId, partition, from) !== undefined;
  }

  /**
   * Records a merged batch: the cursor moves to `lastKey`; on the last batch the move is finished.
   * Returns the next pull of this move (sent at once: ack-clocked), or what finished.
   */
  merged(reqId: string, partition: number, from: string, batch: { keys: number; bytes: number; lastKey: string | null; isLast: boolean }, nowMs: number): { next: Pull } | { finished: Finished } {
    const m = this.answered(reqId, partition, from);
    if (m === undefined) throw new Error(`receiver invariant broken: no pull ${reqId} on its way for partition ${partition} from ${from}`);
    m.inFlight = undefined;
    m.misses = 0;
    m.keys += batch.keys;
    m.bytes += batch.bytes;
    if (batch.lastKey !== null) m.after = batch.lastKey;
    if (!batch.isLast) return { next: this.pull(m, nowMs) };
    m.isDone = true;
    return { finished: { partition, from: m.from, keys: m.keys, bytes: m.bytes, durationMs: nowMs - (m.startedAtMs ?? nowMs) } };
  }

  /** What to keep on disk. */
  progress(): ReceiverProgress {
    const done: string[] = [];
    const cursors: Record<string, string> = {};
    for (const [k, m] of this.moves) {
      if (m.isDone) done.push(k);
      else if (m.after !== null) cursors[k] = m.after;
    }
    return { version: this.version, done, cursors };
  }
}
