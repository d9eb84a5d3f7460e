/**
 * The in-process event loop: every callback of every node of an in-process cluster, ordered by
 * (time, sequence). On a virtual clock this is the simulation: a seed and this order determine the
 * whole run. On the real clock (`local`) the same loop is pumped by Node's timers.
 *
 * Each node has a {@link Lane}. A paused lane holds its events and runs them, once, on resume; a
 * killed lane's timers are dropped by generation, while messages addressed to it stay in flight
 * and meet whatever runs at delivery time.
 */

/**
 * One scheduled callback: `fn(arg)`. Passing the argument separately lets hot paths (message
 * deliveries) post a shared function and a small record instead of allocating a closure each.
 */
export interface LoopEvent {
  atMs: number;
  seq: number;
  readonly lane: Lane | null;
  /** Lane generation the event belongs to; -1 survives kills (messages on the wire). */
  readonly gen: number;
  readonly fn: (arg: unknown) => void;
  readonly arg: unknown;
  /** A message delivery: counted against the lane's hold limit while it is paused. */
  readonly isMessage: boolean;
  cancelled: boolean;
  /** Where the event is: queued in the loop, held by a paused lane, or done (ran or dropped). */
  where: 'queued' | 'held' | 'done';
}

/** A node's slot in the loop. */
export class Lane {
  paused = false;
  gen = 0;
  held: LoopEvent[] = [];
  heldMessages = 0;

  constructor(
    readonly name: string,
    /** Most message deliveries held while paused; more are dropped (`queue-full`). */
    readonly holdLimit: number,
    /** Called with a message event's `arg` instead of running it when the hold queue is full. */
    readonly onHoldOverflow: (arg: unknown) => void,
  ) {}
}

/** Options of {@link EventLoop.post}. */
export interface PostOptions {
  /** Survives a kill of the lane (messages on the wire). */
  readonly survivesKill?: boolean;
  /** A message delivery (bounded while the lane is paused). */
  readonly isMessage?: boolean;
}

/** Cancelled events are removed lazily; past this many the heap is compacted. */
const COMPACT_MIN_CANCELLED = 1024;

function before(a: LoopEvent, b: LoopEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/**
 * Binary min-heap of future events plus a FIFO of events due at the current instant. Most events
 * (drains, zero-latency deliveries) are posted for "now"; they skip the heap and its log n.
 */
export class EventLoop {
  private heap: LoopEvent[] = [];
  private nowQueue: LoopEvent[] = [];
  private nowHead = 0;
  private seq = 0;
  private virtualNow = 0;
  /** Cancelled events still in the heap or the now-queue. */
  private cancelledInHeap = 0;
  /** Called whenever an event is posted (the real-time pump re-arms its timer). */
  onPost: ((atMs: number) => void) | undefined;

  constructor(private readonly clock: (() => number) | undefined) {}

  /** Current runtime time in ms: virtual, or real ms since the loop was created. */
  now(): number {
    return this.clock === undefined ? this.virtualNow : this.clock();
  }

  get isVirtual(): boolean {
    return this.clock === undefined;
  }

  /** Posts `fn(arg)` at `atMs` (clamped to now). */
  post<A>(atMs: number, lane: Lane | null, fn: (arg: A) => void, arg?: A, options?: PostOptions): LoopEvent {
    const now = this.now();
    const at = atMs > now ? atMs : now;
    const ev: LoopEvent = {
      atMs: at,
      seq: this.seq++,
      lane,
      gen: options?.survivesKill ? -1 : (lane?.gen ?? 0),
      fn: fn as (arg: unknown) => void,
      arg,
      isMessage: options?.isMessage ?? false,
      cancelled: false,
      where: 'queued',
    };
    this.enqueue(ev);
    return ev;
  }

  private enqueue(ev: LoopEvent): void {
    if (this.clock === undefined && ev.atMs === this.virtualNow) this.nowQueue.push(ev);
    else this.push(ev);
    this.onPost?.(ev.atMs);
  }

  /** Time of the next event, or undefined when idle. */
  peekTime(): number | undefined {
    const next = this.peek();
    return next?.atMs;
  }

  get size(): number {
    return this.heap.length + this.nowQueue.length - this.nowHead;
  }

  /**
   * Runs the next event if it is due by `untilMs`, advancing a virtual clock to it. Returns false
   * when nothing is due.
   */
  runNext(untilMs: number): boolean {
    const ev = this.peek();
    if (ev === undefined || ev.atMs > untilMs) return false;
    this.pop(ev);
    if (this.clock === undefined && ev.atMs > this.virtualNow) this.virtualNow = ev.atMs;
    if (ev.cancelled) {
      this.cancelledInHeap--;
      ev.where = 'done';
      return true;
    }
    const lane = ev.lane;
    if (lane !== null) {
      if (ev.gen !== -1 && ev.gen !== lane.gen) {
        ev.where = 'done';
        return true;
      }
      if (lane.paused) {
        if (ev.isMessage) {
          if (lane.heldMessages >= lane.holdLimit) {
            ev.where = 'done';
            lane.onHoldOverflow(ev.arg);
            return true;
          }
          lane.heldMessages++;
        }
        ev.where = 'held';
        lane.held.push(ev);
        return true;
      }
    }
    ev.where = 'done';
    ev.fn(ev.arg);
    return true;
  }

  /**
   * Cancels an event. Cancelled events stay in the heap until they come due or until they
   * outnumber the live ones, when the heap is rebuilt: a flood of cancelled ask timeouts must not
   * hold memory for their whole timeout.
   */
  cancel(ev: LoopEvent): void {
    if (ev.cancelled || ev.where === 'done') return;
    ev.cancelled = true;
    // A held event is simply skipped on resume; only queued ones occupy the heap.
    if (ev.where === 'queued' && ++this.cancelledInHeap >= COMPACT_MIN_CANCELLED && this.cancelledInHeap * 2 > this.heap.length + this.nowQueue.length) {
      this.compact();
    }
  }

  private compact(): void {
    for (const ev of this.heap) if (ev.cancelled) ev.where = 'done';
    const live = this.heap.filter((ev) => !ev.cancelled);
    const queued = this.nowQueue.slice(this.nowHead);
    const liveNow = queued.filter((ev) => !ev.cancelled);
    this.nowQueue = liveNow;
    this.nowHead = 0;
    this.heap = [];
    for (const ev of live) this.push(ev);
    for (const ev of queued) if (ev.cancelled) ev.where = 'done';
    this.cancelledInHeap = 0;
  }

  /** Advances a virtual clock with nothing to run (the end of `runFor`). */
  advanceTo(ms: number): void {
    if (this.clock === undefined && ms > this.virtualNow) this.virtualNow = ms;
  }

  pause(lane: Lane): void {
    lane.paused = true;
  }

  /**
   * Releases a paused lane's events at the current instant, in their original order. The same
   * event objects are queued again, so handles to them (timer cancellation) stay valid.
   */
  resume(lane: Lane): void {
    lane.paused = false;
    const held = lane.held;
    lane.held = [];
    lane.heldMessages = 0;
    const now = this.now();
    for (const ev of held) {
      if (ev.cancelled || (ev.gen !== -1 && ev.gen !== lane.gen)) {
        ev.where = 'done';
        continue;
      }
      ev.atMs = now;
      ev.seq = this.seq++;
      ev.where = 'queued';
      this.enqueue(ev);
    }
  }

  /** Invalidates the lane's timers and drains; messages in flight to it survive. */
  kill(lane: Lane): void {
    lane.gen++;
    for (const ev of lane.held) if (ev.gen !== -1) ev.where = 'done';
    lane.held = lane.held.filter((ev) => ev.gen === -1);
    lane.heldMessages = lane.held.length;
  }

  private peek(): LoopEvent | undefined {
    const q = this.nowHead < this.nowQueue.length ? this.nowQueue[this.nowHead] : undefined;
    const h = this.heap[0];
    if (q === undefined) return h;
    if (h === undefined) return q;
    return before(h, q) ? h : q;
  }

  private pop(ev: LoopEvent): void {
    if (this.nowHead < this.nowQueue.length && this.nowQueue[this.nowHead] === ev) {
      this.nowQueue[this.nowHead++] = undefined as unknown as LoopEvent;
      if (this.nowHead === this.nowQueue.length) {
        this.nowQueue.length = 0;
        this.nowHead = 0;
      }
      return;
    }
    this.popHeap();
  }

  private push(ev: LoopEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent]!;
      if (!before(ev, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = ev;
  }

  private popHeap(): void {
    const h = this.heap;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
