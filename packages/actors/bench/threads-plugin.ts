/**
 * The plugin of the threads benchmarks (cross-node.ts): every node's worker loads it, so the host
 * can spawn these actors on any node.
 *
 * - `bench-flood`: one per node. On `burst` it sends `count` items to each named peer, with
 *   credit-based flow control; as a receiver it counts items, returns credit to their senders, and
 *   answers the host's `await` once the expected count arrived. Every item is the same plain
 *   object the bare baseline posts (`{ type: 'item', src, seq }`).
 * - `bench-echo`: replies to an ask with the request's number.
 * - `bench-asker`: asks an echo actor (actor to actor: `ctx.ask` piped to self), keeping a fixed
 *   number of asks in flight, and reports the latency percentiles of the round.
 */
import { type ActorContext, type ActorRef, defineActor, definePlugin } from '@starling/actors';

/** One message of the throughput benchmarks; the bare baseline posts objects of the same shape. */
export interface Item {
  readonly type: 'item';
  /** The sender's index, so the receiver knows whom to credit. */
  readonly src: number;
  readonly seq: number;
}

/** Cumulative items `src` -> this node's flood actor received, so late or merged credits are harmless. */
export interface Credit {
  readonly type: 'credit';
  readonly src: number;
  readonly total: number;
}

export type FloodMsg =
  | { readonly type: 'link'; readonly index: number; readonly peers: readonly ActorRef<FloodMsg>[] }
  | { readonly type: 'burst'; readonly to: readonly number[]; readonly count: number }
  | { readonly type: 'more' }
  | Item
  | Credit
  /** Answered with the total once `total` items (counted since the actor started) have arrived. */
  | { readonly type: 'await'; readonly total: number; readonly replyTo: ActorRef<number> };

/**
 * Flow control. The sender keeps at most `MAX_UNCREDITED` items per link sent and not yet credited,
 * and the receiver credits every `CREDIT_EVERY` items (cumulative counts, see `Credit`). Windows
 * from 4 000 to 200 000 all measured 150-290 k items/s (the receiving node's per-item cost is the
 * limit, not the window); 10 000 with a credit every 1 000 was consistently a little faster than
 * 20 000 or 50 000, so the figure is the runtime's best here.
 *
 * The benchmark cluster raises `threads.userLinkCapacity` from its default (10 000 unconsumed) to
 * `LINK_CAPACITY`, four windows, so that no message is ever dropped (cross-node.ts checks the
 * links after the rounds):
 * - at least two windows: the runtime's acknowledgements (which free link capacity) travel on the
 *   system lane and may arrive after the credit, so a link may count up to two windows in flight
 *   (with the default capacity and an 8 000 window, links did drop with LINK_FULL);
 * - more than three windows: a node whose mailboxes hold `userLinkCapacity` messages holds back its
 *   acknowledgements, and in `all_to_all` a node has three senders, each with a window in flight.
 * The byte bound (`userLinkBytes`, 32 MiB by default) is far away: an item's envelope is ~40 bytes.
 */
export const MAX_UNCREDITED = 10_000;
export const CREDIT_EVERY = 1_000;
export const LINK_CAPACITY = 4 * MAX_UNCREDITED;
/** Items per peer per `receive` of the sender before it continues in a `more` to itself. */
const CHUNK = 1_000;

interface FloodState {
  index: number;
  peers: readonly ActorRef<FloodMsg>[];
  /** Per peer index: items still to send this burst, sent in total, credited in total. */
  remaining: number[];
  sent: number[];
  credited: number[];
  /** Per peer index: items received from it in total. */
  received: number[];
  /** Items received from every peer in total, and the host's pending await. */
  totalReceived: number;
  expected: number;
  replyTo: ActorRef<number> | null;
  morePending: boolean;
}

/** Sends what the credit allows, at most a chunk per peer; asks itself to continue if more is due. */
function pump(s: FloodState, ctx: ActorContext<FloodMsg>): void {
  let blocked = true;
  for (let peer = 0; peer < s.peers.length; peer++) {
    const to = s.peers[peer]!;
    let n = Math.min(s.remaining[peer]!, MAX_UNCREDITED - (s.sent[peer]! - s.credited[peer]!), CHUNK);
    if (n <= 0) continue;
    s.remaining[peer]! -= n;
    let seq = s.sent[peer]!;
    s.sent[peer] = seq + n;
    while (n-- > 0) ctx.tell<FloodMsg>(to, { type: 'item', src: s.index, seq: seq++ });
    blocked = false;
  }
  // Continue in another message rather than in one long loop, so the actor's other messages (the
  // credits) interleave with its sending. (A node drains many mailbox messages per event, so what
  // splits a burst into batches is mostly the window: the receiver decodes one while the sender
  // encodes the next.)
  if (!blocked && !s.morePending && s.remaining.some((r, peer) => r > 0 && s.sent[peer]! - s.credited[peer]! < MAX_UNCREDITED)) {
    s.morePending = true;
    ctx.tell(ctx.self, { type: 'more' });
  }
}

export const flood = defineActor({
  name: 'bench-flood',
  init: (): FloodState => ({
    index: -1,
    peers: [],
    remaining: [],
    sent: [],
    credited: [],
    received: [],
    totalReceived: 0,
    expected: 0,
    replyTo: null,
    morePending: false,
  }),
  receive(s, msg: FloodMsg, ctx) {
    switch (msg.type) {
      case 'link': {
        const zeros = (): number[] => msg.peers.map(() => 0);
        return { ...s, index: msg.index, peers: msg.peers, remaining: zeros(), sent: zeros(), credited: zeros(), received: zeros() };
      }
      case 'burst':
        for (const peer of msg.to) s.remaining[peer]! += msg.count;
        pump(s, ctx);
        return s;
      case 'more':
        s.morePending = false;
        pump(s, ctx);
        return s;
      case 'credit':
        if (msg.total > s.credited[msg.src]!) s.credited[msg.src] = msg.total;
        if (!s.morePending) pump(s, ctx);
        return s;
      case 'item': {
        const total = ++s.received[msg.src]!;
        if (total % CREDIT_EVERY === 0) ctx.tell<FloodMsg>(s.peers[msg.src]!, { type: 'credit', src: s.index, total });
        if (++s.totalReceived === s.expected && s.replyTo !== null) {
          ctx.tell(s.replyTo, s.totalReceived);
          s.replyTo = null;
        }
        return s;
      }
      case 'await':
        // Cumulative, so an item that overtakes the host's await (they travel on different links) is harmless.
        if (s.replyTo !== null) throw new Error('bench-flood: a round is already in progress');
        if (s.totalReceived >= msg.total) ctx.tell(msg.replyTo, s.totalReceived);
        else {
          s.expected = msg.total;
          s.replyTo = msg.replyTo;
        }
        return s;
    }
  },
});

export type EchoMsg = { readonly type: 'echo'; readonly n: number; readonly replyTo: ActorRef<number> };

export const benchEcho = defineActor({
  name: 'bench-echo',
  init: () => undefined,
  receive(state, msg: EchoMsg, ctx) {
    ctx.tell(msg.replyTo, msg.n);
    return state;
  },
});

/** Latency percentiles of one round, in µs. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
}

export type AskerMsg =
  | {
      readonly type: 'run';
      readonly target: ActorRef<EchoMsg>;
      readonly count: number;
      readonly inFlight: number;
      readonly replyTo: ActorRef<Percentiles>;
    }
  | { readonly type: 'answered'; readonly n: number; readonly startedMs: number; readonly ok: boolean; readonly reply: unknown };

interface AskerRound {
  readonly target: ActorRef<EchoMsg>;
  readonly count: number;
  readonly replyTo: ActorRef<Percentiles>;
  started: number;
  readonly latenciesUs: number[];
}

const ASK_TIMEOUT_MS = 10_000;

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function launch(round: AskerRound, ctx: ActorContext<AskerMsg>): void {
  const n = round.started++;
  const startedMs = ctx.now();
  ctx.pipeToSelf(
    ctx.ask(round.target, (replyTo): EchoMsg => ({ type: 'echo', n, replyTo }), { timeoutMs: ASK_TIMEOUT_MS }),
    (r): AskerMsg => ({ type: 'answered', n, startedMs, ok: r.ok, reply: r.ok ? r.value : String(r.error) }),
  );
}

export const asker = defineActor({
  name: 'bench-asker',
  init: (): AskerRound | null => null,
  receive(round, msg: AskerMsg, ctx) {
    if (msg.type === 'run') {
      if (round !== null) throw new Error('bench-asker: a round is already in progress');
      const next: AskerRound = { target: msg.target, count: msg.count, replyTo: msg.replyTo, started: 0, latenciesUs: [] };
      for (let i = 0; i < Math.min(msg.inFlight, msg.count); i++) launch(next, ctx);
      return next;
    }
    if (round === null) throw new Error('bench-asker: an answer outside a round');
    // The latency ends when the asking actor handles the reply: the actor-to-actor ask's full cost.
    round.latenciesUs.push((ctx.now() - msg.startedMs) * 1000);
    if (!msg.ok || msg.reply !== msg.n) throw new Error(`bench-asker: ask ${msg.n} answered ${String(msg.reply)}`);
    if (round.started < round.count) launch(round, ctx);
    if (round.latenciesUs.length < round.count) return round;
    const sorted = round.latenciesUs.sort((a, b) => a - b);
    ctx.tell(round.replyTo, { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: sorted.length });
    return null;
  },
});

export const threadsBenchPlugin = definePlugin({
  name: 'bench-threads',
  module: import.meta.url,
  actors: [flood, benchEcho, asker],
});
