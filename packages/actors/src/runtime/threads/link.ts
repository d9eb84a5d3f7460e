/**
 * Links between threads: each node talks to each other node (and to the host's endpoint) over two
 * MessagePorts, one per lane. The system lane carries the runtime's own traffic about system
 * actors and everything sent by or to actors under `/system` (gossip, acknowledgements), so a
 * flood of user messages cannot starve failure detection.
 *
 * Sending: a message is encoded at the `tell` into its link's batch buffer (the codec's errors
 * are thrown there), and every link's buffer is posted once per task (a slice of the node's
 * events, a host call), transferred. Links are bounded by count and by bytes: a link holding
 * `capacity` messages (or `capacityBytes`) that the receiving node has not yet consumed drops
 * further ones (LINK_FULL); it never blocks the sender.
 *
 * Encoding: msgpackr records with one structure table per link direction, at most 32 shared
 * structures (one-byte ids; rarer shapes are written inline and decode on their own). The
 * sender's table only grows; whenever it grew, the batch carries the whole table, so a receiver
 * can decode every batch even if messages encoded before it were dropped.
 */
import type { MessagePort } from 'node:worker_threads';
import { Packr, Unpackr } from 'msgpackr';
import { Codec } from '../../codec.ts';
import { MessageTooLargeError, UnencodableMessageError } from '../../errors.ts';
import type { Envelope } from '../../envelope.ts';

/** 0: system lane, 1: user lane. */
export type LaneIndex = 0 | 1;
export const SYSTEM_LANE: LaneIndex = 0;
export const USER_LANE: LaneIndex = 1;

/** Link settings. */
export interface LinkOptions {
  /** Messages in flight (sent, not yet consumed by the receiver) on a user lane. */
  readonly userCapacity: number;
  /** Bytes in flight on a user lane. */
  readonly userCapacityBytes: number;
  /** The same on a system lane: larger, since losing protocol traffic costs more. */
  readonly systemCapacity: number;
  readonly maxMessageBytes: number;
}

/**
 * What travels on a port: a batch (`b`: the messages' encodings back to back, `n` of them, the
 * first sent at `t`; `s`: the structure table when it grew), or acknowledgements alone. A batch
 * carries the acknowledgements pending towards its receiver (`a`: system count and bytes, user
 * count and bytes), so a request/response costs one post each way.
 */
type Wire =
  | { readonly s?: string[][]; readonly b: ArrayBuffer; readonly n: number; readonly t: number; readonly a?: readonly number[] }
  | { readonly a: readonly number[] };

/** Standalone acknowledgements go out once this share of a lane's capacity is pending... */
const ACK_EAGER_SHARE = 8;
/** ...or after this long with nothing going back to carry them, in ms. */
const ACK_DELAY_MS = 2;
const INITIAL_BATCH_BYTES = 16 * 1024;
/** A batch buffer grown by a burst goes back to its initial size once posted. */
const SHRINK_ABOVE_BYTES = 1024 * 1024;
const SHARED_STRUCTURES = 32;

function packrOptions(structures: string[][]): ConstructorParameters<typeof Packr>[0] {
  return {
    structures,
    useRecords: true,
    maxSharedStructures: SHARED_STRUCTURES,
    moreTypes: true,
    writeFunction: () => {
      throw new UnencodableMessageError('a function is not data');
    },
  } as ConstructorParameters<typeof Packr>[0];
}

/** Counters of one direction of one peer link, both lanes. */
export interface OutCounters {
  sent: number;
  bytes: number;
  linkFull: number;
  /** Messages sent and not yet consumed by the receiver, now. */
  queueDepth: number;
}

/** One lane of one direction towards one peer. */
class OutLane {
  private structures: string[][] = [];
  private packr = new Packr(packrOptions(this.structures));
  private sentStructures = 0;
  private buf = new Uint8Array(INITIAL_BATCH_BYTES);
  private used = 0;
  private frames = 0;
  private firstSentAtMs = 0;
  inFlight = 0;
  inFlightBytes = 0;
  sent = 0;
  bytes = 0;
  linkFull = 0;

  constructor(
    readonly capacity: number,
    readonly capacityBytes: number,
    private readonly maxMessageBytes: number,
  ) {}

  /** Encodes `env` into the batch. Throws the codec's typed errors; returns false when the link is full. */
  append(env: Envelope, sentAtMs: number): boolean {
    let payload: Uint8Array;
    try {
      payload = this.packr.pack(env);
    } catch (err) {
      if (err instanceof UnencodableMessageError) throw err;
      const detail = err instanceof RangeError ? 'it contains a cycle or is nested too deeply' : String((err as Error)?.message ?? err);
      throw new UnencodableMessageError(detail, err);
    }
    if (payload.length > this.maxMessageBytes) throw new MessageTooLargeError(payload.length, this.maxMessageBytes);
    if (this.inFlight >= this.capacity || this.inFlightBytes + payload.length > this.capacityBytes) {
      this.linkFull++;
      return false;
    }
    const need = this.used + payload.length;
    if (need > this.buf.length) this.grow(need);
    this.buf.set(payload, this.used);
    this.used = need;
    if (this.frames === 0) this.firstSentAtMs = sentAtMs;
    this.frames++;
    this.inFlight++;
    this.inFlightBytes += payload.length;
    this.sent++;
    this.bytes += payload.length;
    return true;
  }

  get hasFrames(): boolean {
    return this.frames > 0;
  }

  acknowledge(count: number, bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - count);
    this.inFlightBytes = Math.max(0, this.inFlightBytes - bytes);
  }

  /** Takes the batch for posting (a copy of the used part; the buffer is reused). */
  take(acks: readonly number[] | undefined): { s?: string[][]; b: ArrayBuffer; n: number; t: number; a?: readonly number[] } {
    const b = this.buf.slice(0, this.used).buffer;
    const n = this.frames;
    const t = this.firstSentAtMs;
    this.used = 0;
    this.frames = 0;
    if (this.buf.length > SHRINK_ABOVE_BYTES) this.buf = new Uint8Array(INITIAL_BATCH_BYTES);
    const grew = this.structures.length !== this.sentStructures;
    this.sentStructures = this.structures.length;
    return {
      b,
      n,
      t,
      ...(grew ? { s: this.structures.map((st) => [...st]) } : {}),
      ...(acks ? { a: acks } : {}),
    };
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
  }
}

/**
 * A batch received from a peer, handed to the node. Report its messages with `Router.consumed`
 * once delivered or dropped (in any grouping).
 */
export interface InboundBatch {
  readonly from: string;
  readonly lane: LaneIndex;
  readonly envs: readonly Envelope[];
  /** When the batch's first message was sent (all of it was sent within one task of the sender). */
  readonly sentAtMs: number;
  /** Encoded bytes of the whole batch. */
  readonly bytes: number;
  /** The link it arrived on: acknowledgements go back on that link only, never to a later incarnation's. */
  readonly link: object;
}

/** Everything a node needs to talk to one peer. */
class PeerLink {
  readonly out: [OutLane, OutLane];
  readonly decoders: [Unpackr, Unpackr] = [new Unpackr(packrOptions([])), new Unpackr(packrOptions([]))];
  /** Consumed frames (and their bytes) per lane not yet acknowledged to the sender. */
  readonly pendingAcks: [number, number] = [0, 0];
  readonly pendingAckBytes: [number, number] = [0, 0];
  /** A standalone acknowledgement is due if nothing else carries the pending ones first. */
  ackTimer: NodeJS.Timeout | null = null;
  open = true;

  constructor(
    readonly peer: string,
    readonly ports: [MessagePort, MessagePort],
    options: LinkOptions,
  ) {
    this.out = [
      new OutLane(options.systemCapacity, Number.POSITIVE_INFINITY, options.maxMessageBytes),
      new OutLane(options.userCapacity, options.userCapacityBytes, options.maxMessageBytes),
    ];
  }
}

/** How the router hands inbound traffic to its node. */
export interface RouterHooks {
  onBatch(batch: InboundBatch): void;
  /** Wraps the handing over of one batch (the node suspends its timer arming, then runs what became due). */
  around?(fn: () => void): void;
  /** After a whole batch was handed over (the node runs what became due at once). */
  onBatchEnd?(): void;
  /** A frame that could not be decoded (a bug, or a corrupted batch): counted and dropped. */
  onUndecodable?(from: string, error: unknown): void;
  /** Whether user-lane acknowledgements may go out now (false while the node is behind). */
  mayAcknowledgeUser?(): boolean;
}

/** Counters of frames a node could not decode, per source. */
export type UndecodableCounters = Record<string, number>;

/**
 * A node's links to its peers. Sending and flushing are synchronous on the node's thread; inbound
 * batches are decoded and handed to the node frame by frame, in order.
 */
export class Router {
  private readonly links = new Map<string, PeerLink>();
  private readonly dirty = new Set<PeerLink>();
  private flushScheduled = false;
  private closed = false;
  private readonly validator: Codec;
  /** Sends to peers without a link (down, or unknown), by destination. */
  private readonly noLink = new Map<string, number>();
  readonly undecodable: UndecodableCounters = {};

  constructor(
    readonly self: string,
    private readonly options: LinkOptions,
    private readonly hooks: RouterHooks,
  ) {
    this.validator = new Codec({ maxMessageBytes: options.maxMessageBytes });
  }

  /** Attaches the two ports to `peer` (replacing any older link to an earlier incarnation). */
  connect(peer: string, systemPort: MessagePort, userPort: MessagePort): void {
    this.disconnect(peer);
    const link = new PeerLink(peer, [systemPort, userPort], this.options);
    this.links.set(peer, link);
    for (const lane of [0, 1] as const) {
      const port = link.ports[lane];
      port.on('message', (wire: Wire) => this.receive(link, lane, wire));
      // Ports must not keep a worker alive on their own; the node's control port and the host decide.
      port.unref();
    }
  }

  /** Drops the link to a peer that died; later sends to it are dead letters. */
  disconnect(peer: string): void {
    const link = this.links.get(peer);
    if (!link) return;
    link.open = false;
    if (link.ackTimer) clearTimeout(link.ackTimer);
    link.ackTimer = null;
    this.links.delete(peer);
    this.dirty.delete(link);
    for (const port of link.ports) {
      port.removeAllListeners('message');
      port.close();
    }
  }

  has(peer: string): boolean {
    return this.links.has(peer);
  }

  /**
   * Encodes `env` into the link's batch. Throws the codec's typed errors at once; returns
   * `'sent'`, `'link-full'` or `'no-link'`.
   */
  send(toNode: string, env: Envelope, sentAtMs: number, lane: LaneIndex): 'sent' | 'link-full' | 'no-link' {
    const link = this.links.get(toNode);
    if (!link) {
      // Still validate: an unencodable message is an error whatever its destination.
      this.validator.encode(env);
      this.noLink.set(toNode, (this.noLink.get(toNode) ?? 0) + 1);
      return 'no-link';
    }
    if (!link.out[lane].append(env, sentAtMs)) return 'link-full';
    this.markDirty(link);
    return 'sent';
  }

  /** `count` messages (of `bytes`) from a batch were delivered or dropped: they no longer count against the sender's bound. */
  consumed(batch: InboundBatch, count: number, bytes: number): void {
    const link = batch.link as PeerLink;
    if (!link.open || count === 0) return;
    link.pendingAcks[batch.lane] += count;
    link.pendingAckBytes[batch.lane] += bytes;
    this.markDirty(link);
  }

  private markDirty(link: PeerLink): void {
    this.dirty.add(link);
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // In the loop's check phase, after every message the poll phase handed over: under
    // request/response load each incoming post is its own task, and flushing per task sent one
    // post per message (decision 44). A pump slice ends before the next one is scheduled, so a
    // batch never holds more than one slice's output.
    setImmediate(this.flushTask);
  }

  private readonly flushTask = (): void => this.flush();

  /**
   * Posts every dirty link's batches. Pending acknowledgements ride the first batch going back
   * on the link; with nothing going back they go alone once an eighth of the lane's capacity is
   * pending, or after a couple of milliseconds. User-lane acknowledgements wait while the node is
   * behind (`mayAcknowledgeUser`), so a slow node pushes back on its senders instead of queueing
   * without bound.
   */
  flush(): void {
    this.flushScheduled = false;
    if (this.dirty.size === 0) return;
    const mayAckUser = this.hooks.mayAcknowledgeUser?.() ?? true;
    for (const link of this.dirty) {
      let acks = this.takeAcks(link, mayAckUser);
      for (const lane of [0, 1] as const) {
        const out = link.out[lane];
        if (!out.hasFrames) continue;
        const wire = out.take(acks);
        acks = undefined;
        link.ports[lane].postMessage(wire, [wire.b]);
      }
      if (acks) {
        if (acks[0]! >= this.options.systemCapacity / ACK_EAGER_SHARE || acks[2]! >= this.options.userCapacity / ACK_EAGER_SHARE) {
          link.ports[0].postMessage({ a: acks } satisfies Wire);
        } else {
          this.returnAcks(link, acks);
          this.armAckTimer(link);
        }
      } else if (link.pendingAcks[USER_LANE] > 0) {
        // Withheld while the node is behind: look again soon.
        this.armAckTimer(link);
      }
    }
    this.dirty.clear();
  }

  /** Takes the link's pending acknowledgements ([system count, bytes, user count, bytes]), or undefined. */
  private takeAcks(link: PeerLink, mayAckUser: boolean): number[] | undefined {
    const sys = link.pendingAcks[SYSTEM_LANE];
    const user = mayAckUser ? link.pendingAcks[USER_LANE] : 0;
    if (sys === 0 && user === 0) return undefined;
    const acks = [sys, link.pendingAckBytes[SYSTEM_LANE], user, mayAckUser ? link.pendingAckBytes[USER_LANE] : 0];
    link.pendingAcks[SYSTEM_LANE] = 0;
    link.pendingAckBytes[SYSTEM_LANE] = 0;
    if (mayAckUser) {
      link.pendingAcks[USER_LANE] = 0;
      link.pendingAckBytes[USER_LANE] = 0;
    }
    return acks;
  }

  private returnAcks(link: PeerLink, acks: readonly number[]): void {
    link.pendingAcks[SYSTEM_LANE] += acks[0]!;
    link.pendingAckBytes[SYSTEM_LANE] += acks[1]!;
    link.pendingAcks[USER_LANE] += acks[2]!;
    link.pendingAckBytes[USER_LANE] += acks[3]!;
  }

  private armAckTimer(link: PeerLink): void {
    if (link.ackTimer || this.closed) return;
    link.ackTimer = setTimeout(() => {
      link.ackTimer = null;
      if (!link.open) return;
      const acks = this.takeAcks(link, this.hooks.mayAcknowledgeUser?.() ?? true);
      if (acks) link.ports[0].postMessage({ a: acks } satisfies Wire);
      if (link.pendingAcks[USER_LANE] > 0) this.armAckTimer(link);
    }, ACK_DELAY_MS);
    link.ackTimer.unref();
  }

  private receive(link: PeerLink, lane: LaneIndex, wire: Wire): void {
    const acks = wire.a;
    if (acks) {
      link.out[SYSTEM_LANE].acknowledge(acks[0]!, acks[1]!);
      link.out[USER_LANE].acknowledge(acks[2]!, acks[3]!);
    }
    if (!('b' in wire)) return;
    if (wire.s) link.decoders[lane] = new Unpackr(packrOptions(wire.s));
    const bytes = new Uint8Array(wire.b);
    let envs: Envelope[];
    try {
      // One pass over the batch: the encodings lie back to back.
      envs = link.decoders[lane].unpackMultiple(bytes) as Envelope[];
      if (envs.length !== wire.n) throw new Error(`batch of ${wire.n} decoded to ${envs.length}`);
    } catch (err) {
      // Never let a bad batch take down the node: count it, release its credit, go on.
      this.undecodable[link.peer] = (this.undecodable[link.peer] ?? 0) + wire.n;
      this.hooks.onUndecodable?.(link.peer, err);
      link.pendingAcks[lane] += wire.n;
      link.pendingAckBytes[lane] += bytes.length;
      this.markDirty(link);
      return;
    }
    const batch: InboundBatch = { from: link.peer, lane, envs, sentAtMs: wire.t, bytes: bytes.length, link };
    if (this.hooks.around) this.hooks.around(() => this.hooks.onBatch(batch));
    else this.hooks.onBatch(batch);
    this.hooks.onBatchEnd?.();
  }

  /** Outbound counters per peer, including sends to peers without a link. */
  counters(): Record<string, OutCounters & { noLink: number }> {
    const out: Record<string, OutCounters & { noLink: number }> = {};
    for (const [peer, link] of this.links) {
      const [s, u] = link.out;
      out[peer] = { sent: s.sent + u.sent, bytes: s.bytes + u.bytes, linkFull: s.linkFull + u.linkFull, queueDepth: s.inFlight + u.inFlight, noLink: 0 };
    }
    for (const [peer, n] of this.noLink) (out[peer] ??= { sent: 0, bytes: 0, linkFull: 0, queueDepth: 0, noLink: 0 }).noLink += n;
    return out;
  }

  close(): void {
    this.closed = true;
    for (const peer of [...this.links.keys()]) this.disconnect(peer);
  }
}
