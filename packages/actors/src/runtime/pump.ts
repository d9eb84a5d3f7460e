/**
 * Drives an {@link EventLoop} on the real clock (the `local` runtime): runs due events in slices
 * and yields to Node's event loop between slices, so I/O and timers are never starved.
 */
import type { EventLoop } from './loop.ts';

/** Wall-clock budget of one slice, in ms. */
const SLICE_MS = 8;

export class RealTimePump {
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = Infinity;
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  /** Called before every event (a worker checks its shared pause flag here). */
  gate: (() => void) | undefined;
  /** Called after every slice (a worker posts the batches the slice wrote, without waiting a turn). */
  afterSlice: (() => void) | undefined;

  constructor(private readonly loop: EventLoop) {
    loop.onPost = (atMs) => this.arm(atMs);
  }

  /** Runs a slice soon even if nothing is due (after a resume). */
  kick(): void {
    this.arm(this.loop.now());
  }

  /** True while a batch of events is being posted that `runNow` will run at once: no timer churn. */
  private holding = false;

  /** Posts made inside `fn` are run by the `runNow` that follows, not by an armed timer. */
  hold(fn: () => void): void {
    this.holding = true;
    try {
      fn();
    } finally {
      this.holding = false;
    }
  }

  private arm(atMs: number): void {
    if (this.stopped || this.immediate !== null || this.holding) return;
    const delay = atMs - this.loop.now();
    if (delay <= 0) {
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
        this.timerAtMs = Infinity;
      }
      this.immediate = setImmediate(() => this.run());
      return;
    }
    if (this.timer !== null && this.timerAtMs <= atMs) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => this.run(), Math.ceil(delay));
  }

  /**
   * Runs a slice now, from inside an I/O callback (a batch just arrived): the events it made due
   * run in this turn instead of the next.
   */
  runNow(): void {
    if (this.immediate !== null) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    this.run();
  }

  private run(): void {
    this.immediate = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAtMs = Infinity;
    if (this.stopped) return;
    const gate = this.gate;
    gate?.();
    const deadline = performance.now() + SLICE_MS;
    let n = 0;
    while (this.loop.runNext(this.loop.now())) {
      gate?.();
      if ((++n & 7) === 0 && performance.now() > deadline) break;
    }
    this.afterSlice?.();
    if (this.waiters.size > 0) for (const check of [...this.waiters]) check();
    const next = this.loop.peekTime();
    if (next !== undefined) this.arm(next);
  }

  /** Resolves true once `condition()` holds (checked after every slice), false after `timeoutMs`. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        this.waiters.delete(check);
        clearTimeout(timeout);
        clearInterval(poll);
        resolve(ok);
      };
      const check = (): void => {
        if (condition()) finish(true);
      };
      const timeout = setTimeout(() => finish(condition()), timeoutMs);
      // Conditions may also turn true in continuations between slices.
      const poll = setInterval(check, 5);
      this.waiters.add(check);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.loop.onPost = undefined;
  }
}
