/**
 * The ring on nact (an Akka-style actor library for Node): stateless actors spawned under the
 * system with `spawnStateless`, messages sent with `dispatch`. Each actor closes over the refs of
 * its successor and the sink, nact's idiomatic (and cheapest) way to know them.
 */
import { dispatch, type Ref, spawnStateless, start, stop } from 'nact';
import { type Done, INITIAL_HOPS, type OpenContender, RING_SIZE, ringDeliveries, type Token } from './shared.ts';

export function openNactRing(name: string): OpenContender {
  const system = start();
  let finished = 0;
  let onRoundOver: () => void = () => {};
  const sink = spawnStateless(
    system,
    (_msg: Done) => {
      if (++finished === RING_SIZE) onRoundOver();
    },
    'sink',
  );
  const ring: Ref<Token>[] = [];
  for (let i = 0; i < RING_SIZE; i++) {
    const next = (i + 1) % RING_SIZE;
    ring.push(
      spawnStateless(
        system,
        (msg: Token) => {
          if (msg.hops > 0) dispatch(ring[next]!, { type: 'token', hops: msg.hops - 1 });
          else dispatch(sink, { type: 'done' });
        },
        `r${i}`,
      ),
    );
  }
  return {
    name,
    initialSize: INITIAL_HOPS,
    async run(hops) {
      finished = 0;
      const over = new Promise<void>((resolve) => (onRoundOver = resolve));
      for (const ref of ring) dispatch(ref, { type: 'token', hops });
      await over;
      return ringDeliveries(hops);
    },
    close: () => stop(system),
  };
}
