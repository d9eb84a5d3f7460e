/**
 * The ring on XState v5: one `createActor` per ring member with `fromTransition` logic, sending
 * with `ref.send` from inside the transition. Of the idioms tried, this is the fastest: a
 * `createMachine` with `sendTo` actions ran ~8x slower, and `fromCallback` overflowed the stack
 * (XState processes a send to an idle actor synchronously, so a token's journey round the ring
 * recurses through every idle actor it meets).
 */
import { type ActorRefFrom, createActor, fromTransition } from 'xstate';
import { type Done, INITIAL_HOPS, type OpenContender, RING_SIZE, ringDeliveries, type Token } from './shared.ts';

export function openXstateRing(name: string): OpenContender {
  let finished = 0;
  let onRoundOver: () => void = () => {};
  const sinkLogic = fromTransition((count: number, _event: Done) => {
    if (++finished === RING_SIZE) onRoundOver();
    return count + 1;
  }, 0);
  const sink = createActor(sinkLogic).start();

  const ringLogic = fromTransition(
    (ctx: { readonly next: number }, event: Token) => {
      if (event.hops > 0) ring[ctx.next]!.send({ type: 'token', hops: event.hops - 1 });
      else sink.send({ type: 'done' });
      return ctx;
    },
    ({ input }: { input: { readonly next: number } }) => input,
  );
  const ring: ActorRefFrom<typeof ringLogic>[] = [];
  for (let i = 0; i < RING_SIZE; i++) ring.push(createActor(ringLogic, { input: { next: (i + 1) % RING_SIZE } }));
  for (const actor of ring) actor.start();

  return {
    name,
    initialSize: INITIAL_HOPS,
    async run(hops) {
      finished = 0;
      const over = new Promise<void>((resolve) => (onRoundOver = resolve));
      for (const actor of ring) actor.send({ type: 'token', hops });
      await over;
      return ringDeliveries(hops);
    },
    close: () => {
      for (const actor of ring) actor.stop();
      sink.stop();
    },
  };
}
