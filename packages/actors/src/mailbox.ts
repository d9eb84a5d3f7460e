/**
 * A FIFO mailbox: a growable ring buffer with an optional bound and an overflow policy.
 * Each entry is a message plus optional metadata (the reply-to of an `ask`), kept in parallel
 * rings so that the common case, a plain `tell`, allocates nothing.
 */

/** What a bounded mailbox does with a message that does not fit. */
export type OverflowPolicy =
  /** Drop the incoming message (a dead letter, reason `mailbox-full`; an ask fails at once). */
  | 'drop-newest'
  /** Evict the oldest queued message to make room (a dead letter, reason `mailbox-full`; an ask fails at once). */
  | 'drop-oldest'
  /**
   * Refuse the incoming message and push back on its sender: a tell from the same node throws
   * `MAILBOX_FULL` at the tell; from another node it is a dead letter (an ask fails at once).
   */
  | 'reject';

/** Mailbox settings, per actor definition or per spawn. */
export interface MailboxOptions {
  /** Most messages held at once; `Infinity` (the default) means unbounded. */
  capacity: number;
  /** What happens when a bounded mailbox is full. Default `drop-newest`. */
  overflow: OverflowPolicy;
}

export const DEFAULT_MAILBOX: MailboxOptions = { capacity: Infinity, overflow: 'drop-newest' };

/** Counters of one mailbox; they only grow, except the live `size`. */
export interface MailboxCounters {
  enqueued: number;
  processed: number;
  dropped: number;
  highWaterMark: number;
  size: number;
}

/** Metadata carried beside a message. */
export interface EntryMeta {
  /** The temporary ref an `ask` waits on; told when the message becomes a dead letter. */
  readonly askReplyTo?: import('./ref.ts').AnyRef;
  /** Set on timer messages: delivered only if that timer generation is still current. */
  readonly timer?: { readonly key: string; readonly gen: number };
}

/** A message removed by the overflow policy. */
export interface Evicted {
  readonly msg: unknown;
  readonly meta: EntryMeta | undefined;
}

export class Mailbox {
  private msgs: unknown[];
  private metas: (EntryMeta | undefined)[];
  private head = 0;
  private count = 0;
  private mask: number;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  enqueued = 0;
  processed = 0;
  dropped = 0;
  highWaterMark = 0;

  constructor(options: MailboxOptions = DEFAULT_MAILBOX) {
    if (!(options.capacity >= 1)) throw new RangeError(`mailbox capacity must be >= 1, got ${options.capacity}`);
    this.capacity = options.capacity;
    this.overflow = options.overflow;
    this.msgs = new Array<unknown>(8);
    this.metas = new Array<EntryMeta | undefined>(8);
    this.mask = 7;
  }

  get size(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /**
   * Appends a message. Returns `undefined` when it was queued; otherwise what the overflow policy
   * removed (the incoming message for `drop-newest` and `reject`, the oldest for `drop-oldest`),
   * which the caller turns into a dead letter. `bypassCapacity` is for the runtime's own signals.
   */
  enqueue(msg: unknown, meta: EntryMeta | undefined, bypassCapacity = false): Evicted | undefined {
    let evicted: Evicted | undefined;
    if (this.count >= this.capacity && !bypassCapacity) {
      this.dropped++;
      if (this.overflow !== 'drop-oldest') return { msg, meta };
      evicted = { msg: this.msgs[this.head], meta: this.metas[this.head] };
      this.msgs[this.head] = undefined;
      this.metas[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
      this.count--;
    }
    if (this.count > this.mask) this.grow();
    const tail = (this.head + this.count) & this.mask;
    this.msgs[tail] = msg;
    this.metas[tail] = meta;
    this.count++;
    this.enqueued++;
    if (this.count > this.highWaterMark) this.highWaterMark = this.count;
    return evicted;
  }

  /** Metadata of the message at the head; call before {@link dequeue}. */
  peekMeta(): EntryMeta | undefined {
    return this.metas[this.head];
  }

  /** Removes and returns the oldest message. The caller checks {@link isEmpty} first. */
  dequeue(): unknown {
    const h = this.head;
    const msg = this.msgs[h];
    this.msgs[h] = undefined;
    this.metas[h] = undefined;
    this.head = (h + 1) & this.mask;
    this.count--;
    // A burst must not pin a huge ring for the actor's whole life.
    if (this.count === 0 && this.mask > 1023) this.reset();
    return msg;
  }

  /** Removes everything, oldest first (a stopped actor's leftovers become dead letters). */
  drain(): Evicted[] {
    const out: Evicted[] = [];
    while (this.count > 0) {
      const meta = this.metas[this.head];
      out.push({ msg: this.dequeue(), meta });
    }
    return out;
  }

  counters(): MailboxCounters {
    return {
      enqueued: this.enqueued,
      processed: this.processed,
      dropped: this.dropped,
      highWaterMark: this.highWaterMark,
      size: this.count,
    };
  }

  private reset(): void {
    this.msgs = new Array<unknown>(8);
    this.metas = new Array<EntryMeta | undefined>(8);
    this.head = 0;
    this.mask = 7;
  }

  private grow(): void {
    const oldLen = this.mask + 1;
    const msgs = new Array<unknown>(oldLen * 2);
    const metas = new Array<EntryMeta | undefined>(oldLen * 2);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) & this.mask;
      msgs[i] = this.msgs[j];
      metas[i] = this.metas[j];
    }
    this.msgs = msgs;
    this.metas = metas;
    this.head = 0;
    this.mask = oldLen * 2 - 1;
  }
}
