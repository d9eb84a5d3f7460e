/**
 * The ring on Starling's `local` runtime, through the public API only: `createSystem`, `spawn`,
 * `tell` from outside, `ctx.tell` between actors, and an `ask` to learn that the round is over.
 */
import { type ActorRef, createSystem, defineActor } from '@starling/actors';
import { tally, type TallyMsg } from '../tally.ts';
import { INITIAL_HOPS, type OpenContender, RING_SIZE, ringDeliveries, type Token } from './shared.ts';

type RingMsg = Token | { readonly type: 'link'; readonly next: ActorRef<RingMsg>; readonly sink: ActorRef<TallyMsg> };

interface Links {
  readonly next: ActorRef<RingMsg>;
  readonly sink: ActorRef<TallyMsg>;
}

const ringActor = defineActor({
  name: 'bench-ring',
  init: (): Links | null => null,
  receive(links, msg: RingMsg, ctx) {
    if (msg.type === 'link') return { next: msg.next, sink: msg.sink };
    if (links === null) throw new Error('bench-ring: a token arrived before the link');
    if (msg.hops > 0) ctx.tell(links.next, { type: 'token', hops: msg.hops - 1 });
    else ctx.tell(links.sink, { type: 'done' });
    return links;
  },
});

/** Generous: a round is sized to well under a second; the harness' own limit fires first. */
const ROUND_ASK_TIMEOUT_MS = 60_000;

export async function openStarlingRing(name: string): Promise<OpenContender> {
  const system = await createSystem({ name: 'bench' });
  const sink = system.spawn(tally, undefined, { name: 'sink' });
  const ring = Array.from({ length: RING_SIZE }, (_, i) => system.spawn(ringActor, undefined, { name: `r${i}` }));
  // Each actor learns its successor by message; mailboxes are FIFO, so links precede tokens.
  ring.forEach((ref, i) => system.tell(ref, { type: 'link', next: ring[(i + 1) % RING_SIZE]!, sink }));
  return {
    name,
    initialSize: INITIAL_HOPS,
    async run(hops) {
      const finished = system.ask(sink, (replyTo: ActorRef<number>): TallyMsg => ({ type: 'await', expected: RING_SIZE, replyTo }), {
        timeoutMs: ROUND_ASK_TIMEOUT_MS,
      });
      for (const ref of ring) system.tell(ref, { type: 'token', hops });
      const reported = await finished;
      if (reported !== RING_SIZE) throw new Error(`starling ring: ${reported} of ${RING_SIZE} tokens reported`);
      return ringDeliveries(hops);
    },
    close: () => system.shutdown(),
  };
}
