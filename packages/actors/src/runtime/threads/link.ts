/**
 * Links between threads: each node talks to each other node (and to the host's endpoint) over two
 * MessagePorts, one per lane. The system lane carries the runtime's own traffic and actors under
 * `/system` (gossip, acks), so a flood of user messages cannot starve failure detection.
 *
 * Sending: a message is encoded at the `tell` into its link's batch buffer (the codec's errors
 * are thrown there), and each link's buffer is posted once per task (a slice of the node's events,
 * a host call), transferred rather than copied. Links are bounded: a link holding `capacity` messages that the receiver has
 * not yet consumed drops further ones (LINK_FULL), it never blocks the sender.
 *
 * Encoding: msgpackr records with one structure table per link direction. The sender's table only
 * grows; whenever it grew, the batch carries the whole table, so a receiver can always decode a
 * batch even if some messages encoded before it were dropped.
 */
import type { MessagePort } from 'node:worker_threads';
import { Packr, Unpackr } from 'msgpackr';
import { MessageTooLargeError, UnencodableMessageError } from '../../errors.ts';
import type { Envelope } from '../../envelope.ts';

/** 0: system lane, 1: user lane. */
export type LaneIndex = 0 | 1;
export const SYSTEM_LANE: LaneIndex = 0;
export const USER_LANE: LaneIndex = 1;

/** Which lane an envelope rides. */
export function laneOf(env: Envelope): LaneIndex {
  if (env.kind !== 'user') return SYSTEM_LANE;
  return env.to.path.startsWith('/system/') ? SYSTEM_LANE : USER_LANE;
}

/** Link settings. */
export interface LinkOptions {
  /** Messages in flight (sent, not yet consumed by the receiver) on a user lane. */
  readonly userCapacity: number;
  /** The same on a system lane: larger, since losing protocol traffic costs more. */
  readonly systemCapacity: number;
  readonly maxMessageBytes: number;
}

/** What travels on a port. */
type Wire = { readonly s?: string[][]; readonly b: ArrayBuffer } | { readonly ack: number; readonly lane: LaneIndex };

const HEADER_BYTES = 12; // u32 payload length, f64 send time
const INITIAL_BATCH_BYTES = 16 * 1024;

function packrOptions(structures: string[][]): ConstructorParameters<typeof Packr>[0] {
  return {
    structures,
    useRecords: true,
    maxSharedStructures: 256,
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
  private view = new DataView(this.buf.buffer);
  private used = 0;
  private frames = 0;
  inFlight = 0;
  sent = 0;
  bytes = 0;
  linkFull = 0;

  constructor(
    readonly capacity: number,
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
    if (this.inFlight >= this.capacity) {
      this.linkFull++;
      return false;
    }
    const need = this.used + HEADER_BYTES + payload.length;
    if (need > this.buf.length) this.grow(need);
    this.view.setUint32(this.used, payload.length);
    this.view.setFloat64(this.used + 4, sentAtMs);
    this.buf.set(payload, this.used + HEADER_BYTES);
    this.used = need;
    this.frames++;
    this.inFlight++;
    this.sent++;
    this.bytes += payload.length;
    return true;
  }

  get hasFrames(): boolean {
    return this.frames > 0;
  }

  /** Takes the batch for posting. */
  take(): Wire {
    const b = this.buf.slice(0, this.used).buffer;
    this.used = 0;
    this.frames = 0;
    if (this.structures.length !== this.sentStructures) {
      this.sentStructures = this.structures.length;
      return { s: this.structures.map((st) => [...st]), b };
    }
    return { b };
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Decodes the batches of one lane from one peer. */
class InLane {
  private unpackr = new Unpackr(packrOptions([]));

  *frames(wire: { readonly s?: string[][]; readonly b: ArrayBuffer }): Generator<{ env: Envelope; sentAtMs: number; bytes: number }> {
    if (wire.s) this.unpackr = new Unpackr(packrOptions(wire.s));
    const bytes = new Uint8Array(wire.b);
    const view = new DataView(wire.b);
    let at = 0;
    while (at < bytes.length) {
      const length = view.getUint32(at);
      const sentAtMs = view.getFloat64(at + 4);
      const start = at + HEADER_BYTES;
      const env = this.unpackr.unpack(bytes.subarray(start, start + length)) as Envelope;
      at = start + length;
      yield { env, sentAtMs, bytes: length };
    }
  }
}

/** A frame received from a peer, handed to the node. Call `consumed` once it is delivered or dropped. */
export interface InboundFrame {
  readonly from: string;
  readonly lane: LaneIndex;
  readonly env: Envelope;
  readonly sentAtMs: number;
  readonly bytes: number;
}

/** Everything a node needs to talk to one peer. */
class PeerLink {
  readonly out: [OutLane, OutLane];
  readonly in: [InLane, InLane] = [new InLane(), new InLane()];
  /** Consumed frames per lane not yet acknowledged to the sender. */
  readonly pendingAcks: [number, number] = [0, 0];

  constructor(
    readonly peer: string,
    readonly ports: [MessagePort, MessagePort],
    options: LinkOptions,
  ) {
    this.out = [new OutLane(options.systemCapacity, options.maxMessageBytes), new OutLane(options.userCapacity, options.maxMessageBytes)];
  }
}

/** How the router hands inbound traffic to its node. */
export interface RouterHooks {
  onFrame(frame: InboundFrame): void;
  /** After a whole batch was handed over (the node runs what became due at once). */
  onBatchEnd?(): void;
}

/**
 * A node's links to its peers. Sending and flushing are synchronous on the node's thread; inbound
 * batches are decoded and handed to the node frame by frame, in order.
 */
export class Router {
  private readonly links = new Map<string, PeerLink>();
  private readonly dirty = new Set<PeerLink>();
  private flushScheduled = false;
  private closed = false;

  constructor(
    readonly self: string,
    private readonly options: LinkOptions,
    private readonly hooks: RouterHooks,
  ) {}

  /** Attaches the two ports to `peer` (replacing any older link to an earlier incarnation). */
  connect(peer: string, systemPort: MessagePort, userPort: MessagePort): void {
    this.disconnect(peer);
    const link = new PeerLink(peer, [systemPort, userPort], this.options);
    this.links.set(peer, link);
    for (const lane of [SYSTEM_LANE, USER_LANE] as const) {
      const port = link.ports[lane];
      port.on('message', (wire: Wire) => this.receive(link, lane, wire));
      // Ports must not keep a worker alive on their own; the node's timers and the host decide.
      port.unref();
    }
  }

  /** Drops the link to a peer that died; later sends to it are dead letters. */
  disconnect(peer: string): void {
    const link = this.links.get(peer);
    if (!link) return;
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
      new OutLane(1, this.options.maxMessageBytes).append(env, sentAtMs);
      return 'no-link';
    }
    if (!link.out[lane].append(env, sentAtMs)) return 'link-full';
    this.markDirty(link);
    return 'sent';
  }

  /** A frame from `from` on `lane` was delivered or dropped: it no longer counts against the sender's bound. */
  consumed(from: string, lane: LaneIndex): void {
    const link = this.links.get(from);
    if (!link) return;
    link.pendingAcks[lane]++;
    this.markDirty(link);
  }

  private markDirty(link: PeerLink): void {
    this.dirty.add(link);
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // At the end of the current task: everything one task sends (a slice of the node's events,
    // one host call) leaves in one batch per link, without waiting for another turn of the loop.
    queueMicrotask(this.flushTask);
  }

  private readonly flushTask = (): void => this.flush();

  /**
   * Posts every dirty link's batches and acknowledgements: once per turn of the event loop (or
   * right after a slice of the node's events, which is the same turn).
   */
  flush(): void {
    this.flushScheduled = false;
    if (this.dirty.size === 0) return;
    for (const link of this.dirty) {
      for (const lane of [SYSTEM_LANE, USER_LANE] as const) {
        const out = link.out[lane];
        if (out.hasFrames) {
          const wire = out.take();
          link.ports[lane].postMessage(wire, [(wire as { b: ArrayBuffer }).b]);
        }
        const acks = link.pendingAcks[lane];
        if (acks > 0) {
          link.pendingAcks[lane] = 0;
          // Acks ride the system lane, so a flood in the other direction cannot hold them back.
          link.ports[SYSTEM_LANE].postMessage({ ack: acks, lane } satisfies Wire);
        }
      }
    }
    this.dirty.clear();
  }

  private receive(link: PeerLink, lane: LaneIndex, wire: Wire): void {
    if ('ack' in wire) {
      const out = link.out[wire.lane];
      out.inFlight = Math.max(0, out.inFlight - wire.ack);
      return;
    }
    for (const f of link.in[lane].frames(wire)) {
      this.hooks.onFrame({ from: link.peer, lane, env: f.env, sentAtMs: f.sentAtMs, bytes: f.bytes });
    }
    this.hooks.onBatchEnd?.();
  }

  /** Outbound counters per peer. */
  counters(): Record<string, OutCounters> {
    const out: Record<string, OutCounters> = {};
    for (const [peer, link] of this.links) {
      const [s, u] = link.out;
      out[peer] = { sent: s.sent + u.sent, bytes: s.bytes + u.bytes, linkFull: s.linkFull + u.linkFull, queueDepth: s.inFlight + u.inFlight };
    }
    return out;
  }

  close(): void {
    this.closed = true;
    for (const peer of [...this.links.keys()]) this.disconnect(peer);
  }
}
